package health

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Checker runs the matrix and implements platform.Health.
type Checker struct {
	matrix   Matrix
	services []string
	clock    clock.WithTicker
	prober   *prober

	mu      sync.Mutex
	streaks map[string]streak
}

// streak is the run of failures of one service.
type streak struct {
	count   int
	counted time.Time // when count last changed (or the last success)
}

var _ platform.Health = (*Checker)(nil)

// New validates the matrix (defaults filled with WithDefaults first) and
// builds a checker on clk (nil: the real clock).
func New(m Matrix, clk clock.WithTicker) (*Checker, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	c := &Checker{matrix: m, clock: clk, prober: newProber(), streaks: map[string]streak{}}
	seen := map[string]bool{}
	for _, ch := range m {
		if !seen[ch.Service] {
			seen[ch.Service] = true
			c.services = append(c.services, ch.Service)
		}
	}
	return c, nil
}

// Services lists the services in matrix order.
func (c *Checker) Services() []string { return append([]string(nil), c.services...) }

// Check runs every check of the service (concurrently) and counts the result.
func (c *Checker) Check(ctx context.Context, service string) (platform.HealthResult, error) {
	var rows []Check
	for _, ch := range c.matrix {
		if ch.Service == service {
			rows = append(rows, ch)
		}
	}
	if len(rows) == 0 {
		return platform.HealthResult{}, fmt.Errorf("health check for service %q: %w (checked services: %s)",
			service, platform.ErrNotFound, strings.Join(c.services, ", "))
	}
	if err := ctx.Err(); err != nil {
		return platform.HealthResult{}, err
	}
	start := c.clock.Now()
	errs := make([]error, len(rows))
	var wg sync.WaitGroup
	for i, row := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.prober.probe(ctx, row)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return platform.HealthResult{}, err // cancelled by the caller: not the service's failure
	}
	now := c.clock.Now()
	res := platform.HealthResult{Service: service, OK: true, At: now, Latency: since(start, now)}
	labels := make([]string, len(rows))
	for i, row := range rows {
		labels[i] = row.Label()
		if errs[i] != nil && res.OK {
			res.OK, res.Detail = false, labels[i]+": "+errs[i].Error()
		}
	}
	res.Check = strings.Join(labels, " + ")
	res.ConsecutiveFailures = c.count(service, rows[0].Interval, res.OK, now)
	return res, nil
}

// count updates the service's failure run and returns its length. A failure
// advances the run when at least 90% of an interval has passed since it last
// advanced; a failure after a gap of more than two intervals starts a new
// run; a success resets it.
func (c *Checker) count(service string, interval time.Duration, ok bool, now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, seen := c.streaks[service]
	switch elapsed := now.Sub(s.counted); {
	case ok:
		s = streak{counted: now}
	case !seen || s.count == 0 || elapsed > 2*interval:
		s = streak{count: 1, counted: now}
	case elapsed >= interval-interval/10:
		s = streak{count: s.count + 1, counted: now}
	}
	c.streaks[service] = s
	return s.count
}

// RunOnce checks every service concurrently and returns the results in
// matrix order (the "ops-skill health" command). A check that could not run
// because ctx ended is reported as failed with the context's error.
func (c *Checker) RunOnce(ctx context.Context) []platform.HealthResult {
	out := make([]platform.HealthResult, len(c.services))
	var wg sync.WaitGroup
	for i, s := range c.services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Check(ctx, s)
			if err != nil {
				res = platform.HealthResult{Service: s, Detail: err.Error(), At: c.clock.Now()}
			}
			out[i] = res
		}()
	}
	wg.Wait()
	return out
}

// Run checks the matrix every interval (the shortest in the matrix) until ctx
// ends, handing each round to each. It runs a first round at once.
func (c *Checker) Run(ctx context.Context, each func([]platform.HealthResult)) error {
	interval := c.matrix[0].Interval
	for _, ch := range c.matrix {
		interval = min(interval, ch.Interval)
	}
	t := c.clock.NewTicker(interval)
	defer t.Stop()
	for {
		each(c.RunOnce(ctx))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C():
		}
	}
}
