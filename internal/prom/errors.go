package prom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// Kinds of failure besides platform.ErrUnavailable (server down, server
// error, timeout). Every failed query returns an *Error whose Kind is one of
// these or platform.ErrUnavailable; errors.Is works on both.
var (
	// ErrBadQuery: Prometheus rejected the query (HTTP 400, bad_data) or
	// the workload name cannot be put in one.
	ErrBadQuery = errors.New("query rejected")
	// ErrExecution: the query failed while evaluating (HTTP 422, execution).
	ErrExecution = errors.New("query failed to execute")
	// ErrUnauthorized: the server refused the credentials (HTTP 401/403).
	ErrUnauthorized = errors.New("not authorized")
	// ErrNoData: a named metric matched no series.
	ErrNoData = errors.New("no data")
	// ErrTooManySeries: more series than expected (one for a named metric,
	// Config.MaxSeries for PromQL).
	ErrTooManySeries = errors.New("more series than expected")
	// ErrNonFinite: a named metric has a NaN or ±Inf sample.
	ErrNonFinite = errors.New("non-finite sample")
	// ErrWarnings: Prometheus answered a named metric with warnings (for
	// example partial data), so the answer cannot be trusted for a decision.
	ErrWarnings = errors.New("answer carries warnings")
)

// Error is a failed metric query.
type Error struct {
	// Kind is platform.ErrUnavailable or one of the package's sentinels.
	Kind error
	// Metric is the named metric, or "promql".
	Metric string
	// Type is Prometheus' errorType when it sent one (bad_data, execution,
	// timeout, …); Status the HTTP status when there was a response.
	Type   string
	Status int
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("prometheus")
	if e.Metric != "" {
		b.WriteString(" " + e.Metric)
	}
	b.WriteString(": " + e.Kind.Error())
	if e.Msg != "" {
		b.WriteString(": " + e.Msg)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Type != "" {
			b.WriteString(", " + e.Type)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the kind and the cause; a metric without data is also
// platform.ErrNotFound, so callers that know no adapter can tell it.
func (e *Error) Unwrap() []error {
	out := []error{e.Kind}
	if e.Kind == ErrNoData {
		out = append(out, platform.ErrNotFound)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// classify maps a client_golang error to an *Error. status is the HTTP status
// of the last response (0 when none arrived).
func (c *Client) classify(ctx context.Context, metric string, status int, err error) error {
	e := &Error{Metric: metric, Status: status, Err: err, Msg: text.Clip(oneLine(err.Error()), 400)}
	var apiErr *v1.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		e.Kind, e.Msg = platform.ErrUnavailable, fmt.Sprintf("no answer from %s within %s (timeout)", c.host, c.timeout)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("prometheus %s: %w", metric, err)
	case errors.As(err, &apiErr):
		e.Type, e.Msg = string(apiErr.Type), text.Clip(oneLine(apiErr.Msg), 400)
		e.Kind = kindOf(apiErr.Type, status)
		switch {
		case apiErr.Type == v1.ErrBadResponse && strings.Contains(apiErr.Msg, `value type "string"`):
			// client_golang cannot decode string results: the query is at fault.
			e.Kind, e.Msg = ErrBadQuery, "the query returns a string, not a number per series"
		case apiErr.Type == v1.ErrBadResponse:
			e.Msg = fmt.Sprintf("bad answer from %s: %s", c.host, e.Msg)
		}
	default:
		e.Kind = platform.ErrUnavailable
		e.Msg = fmt.Sprintf("cannot reach %s: %s", c.host, transportMsg(err))
	}
	return e
}

// kindOf maps Prometheus' error type and the HTTP status to a kind.
func kindOf(t v1.ErrorType, status int) error {
	switch {
	case status == 401 || status == 403:
		return ErrUnauthorized
	case t == v1.ErrBadData:
		return ErrBadQuery
	case t == v1.ErrExec:
		return ErrExecution
	case t == v1.ErrClient && status != 429:
		return ErrBadQuery
	}
	// timeout, canceled, server_error, bad_response, unavailable, 429, 5xx.
	return platform.ErrUnavailable
}

// transportMsg says why the server could not be reached, without the URL
// (which may carry credentials).
func transportMsg(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return text.Clip(oneLine(opErr.Error()), 300)
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "\": "); i >= 0 {
		msg = msg[i+3:]
	}
	return text.Clip(oneLine(msg), 300)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
