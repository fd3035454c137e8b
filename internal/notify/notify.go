// Package notify delivers ops-skill notifications to people: a Slack-style
// incoming webhook (the `text` fallback plus Block Kit blocks), a generic JSON
// webhook for other chat tools, PagerDuty Events API v2 (trigger on
// escalation, resolve when the target recovers, one dedup key per incident) and
// Grafana annotations for each executed write.
//
// Each channel is a Sender that makes one HTTP attempt and classifies the
// answer. A Dispatcher in front of a Sender queues, paces (at most one post per
// interval per webhook), coalesces pending messages, honours Retry-After on 429,
// retries 5xx and network errors with backoff within a deadline, and reports
// 4xx answers as final. Fanout combines the channels into one
// platform.Notifier. Every time decision reads an injected clock.
//
// Webhook URLs, the PagerDuty routing key and the Grafana token are secrets:
// they never appear in errors, logs or any fmt rendering of the types here.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Sentinel errors. Every delivery failure matches ErrDelivery and one kind.
var (
	// ErrDelivery marks a notification the receiver refused or never got.
	ErrDelivery = errors.New("notification not delivered")
	// ErrRejected is a final refusal by the receiver (HTTP 4xx other than 429, or 3xx).
	ErrRejected = errors.New("rejected by the receiver")
	// ErrRateLimited is an HTTP 429 answer.
	ErrRateLimited = errors.New("rate limited by the receiver")
	// ErrUnavailable is an HTTP 5xx answer, a network error or no answer in time.
	ErrUnavailable = errors.New("receiver unavailable")
	// ErrGaveUp means retries stopped because the next one would pass the deadline.
	ErrGaveUp = errors.New("gave up before the delivery deadline")
	// ErrClosed means the dispatcher was closed before the notification was delivered.
	ErrClosed = errors.New("dispatcher closed")
	// ErrQueueFull means the dispatcher's queue is full.
	ErrQueueFull = errors.New("notification queue full")
	// ErrConfig marks an invalid channel configuration.
	ErrConfig = errors.New("invalid notification config")
)

// Sender makes one delivery attempt of a batch of notifications to one
// receiver. It returns nil, or a *DeliveryError that says whether to retry.
// Senders are used by one Dispatcher goroutine at a time.
type Sender interface {
	// Channel names the channel in errors and logs: slack, webhook, pagerduty, grafana.
	Channel() string
	// Send posts the batch once. len(batch) is at most the dispatcher's MaxBatch.
	Send(ctx context.Context, batch []platform.Notification) error
}

// DeliveryError is a failed delivery. Its text never contains a secret.
type DeliveryError struct {
	Channel string // slack, webhook, pagerduty, grafana
	Status  int    // HTTP status; 0 when there was no answer
	// Reason is the receiver's explanation (e.g. invalid_payload), clipped and
	// scrubbed of secrets.
	Reason string
	// RetryAfter is the receiver's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Final is true when retrying cannot help (4xx, or the deadline passed).
	Final bool
	// Attempts is how many posts were made, when a dispatcher gave up.
	Attempts int
	// Kind is ErrRejected, ErrRateLimited, ErrUnavailable, ErrGaveUp or ErrClosed.
	Kind error
	// Err is the underlying cause (network, context), free of secrets.
	Err error

	retryAt time.Time // Retry-After given as a date, for the dispatcher's clock
}

// Error renders the failure as "channel: notification not delivered: …".
func (e *DeliveryError) Error() string {
	var b strings.Builder
	b.WriteString(e.Channel + ": " + ErrDelivery.Error())
	if e.Kind != nil {
		b.WriteString(": " + e.Kind.Error())
	}
	if e.Attempts > 0 {
		fmt.Fprintf(&b, " after %d attempt(s)", e.Attempts)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Reason != "" {
		b.WriteString(" " + e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Final && e.Kind == ErrRejected {
		b.WriteString(" (final, not retried)")
	}
	return b.String()
}

// Unwrap exposes ErrDelivery, the kind and the cause to errors.Is and errors.As.
func (e *DeliveryError) Unwrap() []error {
	errs := []error{ErrDelivery}
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// retryable reports whether another attempt may succeed.
func retryable(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && !de.Final
}

// secret holds a credential behind a function so that no reflection-based
// rendering (%v, %+v, %#v of any struct holding it) can print it.
type secret struct{ reveal func() string }

func newSecret(s string) secret { return secret{reveal: func() string { return s }} }

func (s secret) value() string {
	if s.reveal == nil {
		return ""
	}
	return s.reveal()
}

// String redacts the secret.
func (s secret) String() string { return "[redacted]" }

// scrubber removes secret text (and its recognisable fragments) from
// strings. The fragments sit behind a function, like secret, so that printing
// a struct that holds a scrubber cannot show them.
type scrubber struct{ parts func() []string }

// newScrubber collects the fragments of each secret: the value itself and, for
// URLs, the path, each long path segment, the query, its values and the password.
func newScrubber(secrets ...string) scrubber {
	var parts []string
	add := func(s string) {
		if len(s) >= 6 {
			parts = append(parts, s, url.PathEscape(s), url.QueryEscape(s))
		}
	}
	for _, s := range secrets {
		add(s)
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			continue
		}
		add(u.RequestURI())
		add(u.EscapedPath())
		for _, seg := range strings.Split(u.Path, "/") {
			add(seg)
		}
		add(u.RawQuery)
		for _, vs := range u.Query() {
			for _, v := range vs {
				add(v)
			}
		}
		if p, ok := u.User.Password(); ok {
			add(p)
		}
	}
	// Longest first, so a fragment never leaves part of a longer secret behind.
	sort.Slice(parts, func(i, j int) bool { return len(parts[i]) > len(parts[j]) })
	return scrubber{parts: func() []string { return parts }}
}

func (sc scrubber) clean(s string) string {
	if sc.parts == nil {
		return s
	}
	for _, p := range sc.parts() {
		s = strings.ReplaceAll(s, p, "[redacted]")
	}
	return s
}
