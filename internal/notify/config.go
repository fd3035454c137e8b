package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Config selects and configures the channels; an empty value leaves a
// channel out. The webhook URLs, the routing key and the token are secrets:
// every fmt rendering of a Config redacts them.
type Config struct {
	SlackWebhook        string // ALERT_WEBHOOK
	GenericWebhook      string // GENERIC_WEBHOOK_URL
	PagerDutyRoutingKey string // PAGERDUTY_ROUTING_KEY
	PagerDutyURL        string // PAGERDUTY_URL; empty: https://events.pagerduty.com
	PagerDutySource     string // PAGERDUTY_SOURCE; empty: the target, or "ops-skill"
	GrafanaURL          string // GRAFANA_URL: Explore links, and annotations with a token
	GrafanaToken        string // GRAFANA_TOKEN: enables annotations
	// GrafanaDashboards maps a service to its dashboard UID, so annotations are
	// drawn on it (GRAFANA_DASHBOARDS, "backend=abc123,clickhouse=def456").
	GrafanaDashboards map[string]string
	// Deadline bounds each delivery, retries included (NOTIFY_DEADLINE, default 1m).
	Deadline time.Duration
	// AttemptTimeout bounds one post (NOTIFY_TIMEOUT, default 10s).
	AttemptTimeout time.Duration
}

// String describes the configured channels without any secret.
func (c Config) String() string {
	set := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "[redacted]"
	}
	return fmt.Sprintf("notify.Config{slack:%s webhook:%s pagerduty:%s pagerduty_url:%s grafana:%s grafana_token:%s deadline:%s attempt_timeout:%s}",
		set(c.SlackWebhook), set(c.GenericWebhook), set(c.PagerDutyRoutingKey), firstNonEmpty(c.PagerDutyURL, "default"),
		firstNonEmpty(c.GrafanaURL, "unset"), set(c.GrafanaToken), c.Deadline, c.AttemptTimeout)
}

// Format renders every verb (%v, %+v, %#v, %s, %q, %d …) as String.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// Deps are what the channels need from the composition root.
type Deps struct {
	// Clock times pacing, retries and deadlines. Use the real clock, also
	// under --simulate: the receivers live in real time.
	Clock clock.WithDelayedExecution
	// Logger gets delivery records (never a secret); nil discards.
	Logger *slog.Logger
	// Client makes the requests; nil means NewHTTPClient().
	Client *http.Client
	// Keys remembers PagerDuty dedup keys across runs; nil keeps them in memory.
	Keys KeyStore
	// Scope makes PagerDuty dedup keys unique across stores and clusters.
	Scope DedupScope
}

// New builds the Fanout of the configured channels: Slack (every
// notification, paced at one message per second, coalesced), the generic
// webhook (every notification, paced), PagerDuty (escalations and
// resolutions) and Grafana annotations (executed writes, when GRAFANA_URL and
// GRAFANA_TOKEN are set). With nothing configured it has no channel. Close
// the Fanout before exit so queued notifications are delivered.
func New(cfg Config, deps Deps) (*Fanout, error) {
	if deps.Clock == nil {
		deps.Clock = clock.RealClock{}
	}
	if deps.Client == nil {
		deps.Client = NewHTTPClient()
	}
	b := builder{cfg: cfg, deps: deps, so: SenderOptions{Client: deps.Client, Clock: deps.Clock, GrafanaURL: cfg.GrafanaURL}}
	if cfg.SlackWebhook != "" {
		s, err := NewSlackSender(cfg.SlackWebhook, b.so)
		b.add(route("slack", s, err, b.options("slack", WebhookInterval, SlackMaxBatch), nil))
	}
	if cfg.GenericWebhook != "" {
		w, err := NewWebhook(cfg.GenericWebhook, b.so)
		b.add(route("webhook", w, err, b.options("webhook", WebhookInterval, 1), nil))
	}
	if cfg.PagerDutyRoutingKey != "" {
		p, err := NewPagerDuty(cfg.PagerDutyRoutingKey, PagerDutyOptions{SenderOptions: b.so, BaseURL: cfg.PagerDutyURL, Source: cfg.PagerDutySource, Keys: deps.Keys, Scope: deps.Scope})
		b.add(route("pagerduty", p, err, b.options("pagerduty", 0, 1), WantsPager))
	}
	if cfg.GrafanaURL != "" && cfg.GrafanaToken != "" {
		g, err := NewGrafana(cfg.GrafanaURL, cfg.GrafanaToken, GrafanaOptions{SenderOptions: b.so, DashboardUID: dashboards(cfg.GrafanaDashboards)})
		if err == nil {
			b.add(Route{Name: "grafana", Notifier: NewAnnotator(g, b.options("grafana", 0, 1)), When: HasWrites}, nil)
		}
		b.add(Route{}, err)
	}
	return b.fanout()
}

// builder collects the routes of New and the configuration errors.
type builder struct {
	cfg    Config
	deps   Deps
	so     SenderOptions
	routes []Route
	errs   []error
}

func (b *builder) options(channel string, interval time.Duration, batch int) DispatcherOptions {
	o := DispatcherOptions{Clock: b.deps.Clock, Interval: interval, MaxBatch: batch, Deadline: b.cfg.Deadline, AttemptTimeout: b.cfg.AttemptTimeout}
	if b.deps.Logger != nil {
		o.Logger = b.deps.Logger.With("channel", channel)
	}
	return o
}

func (b *builder) add(r Route, err error) {
	switch {
	case err != nil:
		b.errs = append(b.errs, err)
	case r.Notifier != nil:
		b.routes = append(b.routes, r)
	}
}

// fanout returns the Fanout, or every configuration error after stopping
// the dispatchers already started.
func (b *builder) fanout() (*Fanout, error) {
	if err := errors.Join(b.errs...); err != nil {
		for _, r := range b.routes {
			_ = r.Notifier.(closer).Close(context.Background()) // nothing queued yet
		}
		return nil, err
	}
	return NewFanout(b.routes...), nil
}

// route puts a dispatcher in front of a sender.
func route[S Sender](name string, s S, err error, o DispatcherOptions, when func(platform.Notification) bool) (Route, error) {
	if err != nil {
		return Route{}, err
	}
	return Route{Name: name, Notifier: NewDispatcher(s, o), When: when}, nil
}

func dashboards(m map[string]string) func(string) string {
	if len(m) == 0 {
		return nil
	}
	return func(service string) string { return m[strings.ToLower(service)] }
}
