// Package prom is the Prometheus adapter of ops-skill: it implements
// platform.Metrics on client_golang's api/prometheus/v1 against
// PROMETHEUS_URL.
//
// Named metrics (platform.Metric*) are rendered from PromQL templates for the
// standard exporters (DefaultTemplates), each overridable by configuration;
// raw PromQL is passed through. Every call has a timeout (sent to the server
// as well), queries are sent as POST (form body, so long queries fit; GET is
// tried only when the server refuses POST). Answers are returned as the raw
// samples with their timestamps; the tools summarise them for the model and
// the guard judges "sustained" windows on them.
//
// Failures are explicit: an unreachable server, a server error or a timeout
// wraps platform.ErrUnavailable; a rejected or failing query, bad
// credentials, and, for named metrics, an empty answer, more than one series,
// NaN or ±Inf samples and warnings each give an *Error with its own kind
// (ErrBadQuery, ErrExecution, ErrUnauthorized, ErrNoData, ErrTooManySeries,
// ErrNonFinite, ErrWarnings) and a message that says which.
package prom

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Defaults of Config.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultWindow     = time.Minute
	DefaultRateWindow = 2 * time.Minute
	DefaultMaxSeries  = 50
	// DefaultStep is the step of a range query that names none.
	DefaultStep = 30 * time.Second
	// MaxPoints bounds the points of one range query, as Prometheus does.
	MaxPoints = 11000
)

// Config configures the adapter.
type Config struct {
	// URL is PROMETHEUS_URL, e.g. http://prometheus:9090 (credentials in the
	// URL are sent as basic auth and never printed).
	URL string
	// BearerToken, when set, is sent as "Authorization: Bearer …".
	BearerToken string
	// Username and Password, when set, are sent as basic auth.
	Username string
	Password string
	TLS      TLSConfig
	// Timeout bounds every call (client side, and the server's evaluation).
	Timeout time.Duration
	// Templates overrides the PromQL of named metrics (see DefaultTemplates
	// and TemplateData for the variables).
	Templates map[platform.MetricName]string
	// Window is how far back a gauge's last sample is taken; RateWindow the
	// range of rate(). Both bound how long a gap Prometheus can hide.
	Window     time.Duration
	RateWindow time.Duration
	// MaxSeries bounds the series a PromQL query may return.
	MaxSeries int
	// Clock gives "now" for queries that name no time.
	Clock clock.PassiveClock
}

// Stats counts what the adapter sent.
type Stats struct {
	// Queries is the number of Query calls; Requests the HTTP requests made.
	Queries  int64 `json:"queries"`
	Requests int64 `json:"requests"`
}

// Client implements platform.Metrics.
type Client struct {
	api        api.Client
	host       string
	timeout    time.Duration
	window     time.Duration
	rateWindow time.Duration
	maxSeries  int
	tmpl       templates
	clock      clock.PassiveClock
	queries    atomic.Int64
	requests   atomic.Int64
}

var _ platform.Metrics = (*Client)(nil)

// New checks the configuration and builds the client; it does not contact
// the server.
func New(cfg Config) (*Client, error) {
	addr, user, password, err := splitURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	tmpl, err := parseTemplates(cfg.Templates)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := cfg.TLS.build()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(addr)
	c := &Client{host: u.Host, tmpl: tmpl, clock: cfg.Clock,
		timeout: orDefault(cfg.Timeout, DefaultTimeout), window: orDefault(cfg.Window, DefaultWindow),
		rateWindow: orDefault(cfg.RateWindow, DefaultRateWindow), maxSeries: cfg.MaxSeries}
	if c.maxSeries <= 0 {
		c.maxSeries = DefaultMaxSeries
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if cfg.Username != "" || cfg.Password != "" {
		user, password = cfg.Username, cfg.Password
	}
	rt := &authTransport{next: newTransport(tlsCfg, min(c.timeout, 5*time.Second)), bearer: cfg.BearerToken,
		user: user, password: password, requests: &c.requests}
	if c.api, err = api.NewClient(api.Config{Address: addr, RoundTripper: rt}); err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Stats returns the counters since New.
func (c *Client) Stats() Stats {
	return Stats{Queries: c.queries.Load(), Requests: c.requests.Load()}
}

// Query answers a named metric of a workload or a PromQL expression, at an
// instant (Start zero) or over [Start, End] every Step.
func (c *Client) Query(ctx context.Context, q platform.MetricQuery) (platform.MetricResult, error) {
	c.queries.Add(1)
	expr, label, err := c.expr(q)
	if err != nil {
		return platform.MetricResult{}, err
	}
	end := c.end(q)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	sc := &statusClient{next: c.api}
	var val model.Value
	var warnings, infos []string
	opt := v1.WithTimeout(serverTimeout(c.timeout))
	if q.Start.IsZero() {
		val, warnings, infos, err = v1.NewAPI(sc).Query(ctx, expr, end, opt)
	} else {
		var r v1.Range
		if r, err = c.queryRange(q, end, label); err != nil {
			return platform.MetricResult{}, err
		}
		val, warnings, infos, err = v1.NewAPI(sc).QueryRange(ctx, expr, r, opt)
	}
	if err != nil {
		return platform.MetricResult{}, c.classify(ctx, label, sc.status, err)
	}
	return c.result(label, q.Metric != "", val, warnings, infos)
}

// end is the query's evaluation time: its End, else now.
func (c *Client) end(q platform.MetricQuery) time.Time {
	if q.End.IsZero() {
		return c.clock.Now()
	}
	return q.End
}

// expr renders the PromQL of the query and names it for messages.
func (c *Client) expr(q platform.MetricQuery) (string, string, error) {
	switch {
	case q.Metric != "" && q.PromQL != "":
		return "", string(q.Metric), &Error{Kind: ErrBadQuery, Metric: string(q.Metric), Msg: "give a named metric or PromQL, not both"}
	case q.Metric == "":
		if q.PromQL == "" {
			return "", "promql", &Error{Kind: ErrBadQuery, Metric: "promql", Msg: "empty query"}
		}
		return q.PromQL, "promql", nil
	}
	t, ok := c.tmpl[q.Metric]
	if !ok {
		return "", string(q.Metric), &Error{Kind: ErrBadQuery, Metric: string(q.Metric), Msg: "unknown metric (known: " + knownNames() + ")"}
	}
	d, err := c.data(string(q.Metric), q.Target, q.Step)
	if err != nil {
		return "", string(q.Metric), err
	}
	if q.Volume != "" {
		if d, err = d.forVolume(string(q.Metric), q.Volume); err != nil {
			return "", string(q.Metric), err
		}
	}
	if !q.Since.IsZero() && q.Start.IsZero() {
		d = d.since(c.window, c.rateWindow, c.end(q).Sub(q.Since))
	}
	s, err := render(t, d)
	if err != nil {
		return "", string(q.Metric), &Error{Kind: ErrBadQuery, Metric: string(q.Metric), Msg: "render template: " + err.Error()}
	}
	return s, string(q.Metric), nil
}

// queryRange checks and completes the range of a range query.
func (c *Client) queryRange(q platform.MetricQuery, end time.Time, label string) (v1.Range, error) {
	step := q.Step
	if step <= 0 {
		step = DefaultStep
	}
	bad := func(msg string) (v1.Range, error) {
		return v1.Range{}, &Error{Kind: ErrBadQuery, Metric: label, Msg: msg}
	}
	switch {
	case !q.Start.Before(end):
		return bad(fmt.Sprintf("range start %s is not before its end %s", q.Start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)))
	case step < time.Millisecond:
		return bad(fmt.Sprintf("step %s is below 1ms", step))
	case end.Sub(q.Start)/step >= MaxPoints:
		return bad(fmt.Sprintf("range %s at step %s exceeds %d points", end.Sub(q.Start), step, MaxPoints))
	}
	return v1.Range{Start: q.Start, End: end, Step: step}, nil
}

// serverTimeout renders the timeout so that Prometheus can parse it (whole
// seconds or milliseconds).
func serverTimeout(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Truncate(time.Second)
	}
	return max(d.Truncate(time.Millisecond), time.Millisecond)
}
