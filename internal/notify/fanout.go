package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Route is one channel of a Fanout.
type Route struct {
	// Name names the channel in errors: slack, webhook, pagerduty, grafana.
	Name     string
	Notifier platform.Notifier
	// When selects the notifications the channel gets; nil means all.
	When func(platform.Notification) bool
}

// Fanout sends each notification to every route that wants it, in parallel,
// and returns the failures joined, each naming its channel. It implements
// platform.Notifier.
type Fanout struct {
	routes []Route
}

// NewFanout combines routes; a route without a Notifier is skipped.
func NewFanout(routes ...Route) *Fanout {
	f := &Fanout{}
	for _, r := range routes {
		if r.Notifier != nil {
			f.routes = append(f.routes, r)
		}
	}
	return f
}

// HasWrites reports whether n carries an executed write (the Grafana route).
func HasWrites(n platform.Notification) bool {
	for _, a := range newView(n, "").Writes {
		if a.Status == StatusExecuted {
			return true
		}
	}
	return false
}

// Channels lists the route names in order.
func (f *Fanout) Channels() []string {
	names := make([]string, len(f.routes))
	for i, r := range f.routes {
		names[i] = r.Name
	}
	return names
}

// String lists the channels, never their addresses.
func (f *Fanout) String() string { return "notify fanout [" + strings.Join(f.Channels(), " ") + "]" }

// Format renders every verb as String, so no rendering reaches a secret.
func (f *Fanout) Format(st fmt.State, _ rune) { _, _ = st.Write([]byte(f.String())) }

// Notify delivers n to the routes that want it and waits for all of them.
func (f *Fanout) Notify(ctx context.Context, n platform.Notification) error {
	errs := make([]error, len(f.routes))
	var wg sync.WaitGroup
	for i, r := range f.routes {
		if r.When != nil && !r.When(n) {
			continue
		}
		wg.Go(func() {
			if err := r.Notifier.Notify(ctx, n); err != nil {
				errs[i] = named(r.Name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// named prefixes err with the channel unless it already names it.
func named(channel string, err error) error {
	var de *DeliveryError
	if errors.As(err, &de) && de.Channel == channel {
		return err
	}
	if strings.HasPrefix(err.Error(), channel+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", channel, err)
}

type flusher interface {
	Flush(ctx context.Context) error
}

type closer interface {
	Close(ctx context.Context) error
}

// Flush waits for every route that queues; failures are joined by channel.
func (f *Fanout) Flush(ctx context.Context) error {
	var errs []error
	for _, r := range f.routes {
		if fl, ok := r.Notifier.(flusher); ok {
			if err := fl.Flush(ctx); err != nil {
				errs = append(errs, named(r.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Close delivers what is queued on every route until ctx ends, then stops them.
func (f *Fanout) Close(ctx context.Context) error {
	errs := make([]error, len(f.routes))
	var wg sync.WaitGroup
	for i, r := range f.routes {
		if c, ok := r.Notifier.(closer); ok {
			wg.Go(func() {
				if err := c.Close(ctx); err != nil {
					errs[i] = named(r.Name, err)
				}
			})
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Stats returns the counters of each route that has them, by channel.
func (f *Fanout) Stats() map[string]Stats {
	out := map[string]Stats{}
	for _, r := range f.routes {
		if s, ok := r.Notifier.(interface{ Stats() Stats }); ok {
			out[r.Name] = s.Stats()
		}
	}
	return out
}
