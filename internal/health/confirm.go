package health

import (
	"context"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Confirming is the checker of a run that meets a failure once (a CLI run
// on an alert): a failing check is probed again every interval of its
// matrix row until it has failed Threshold times in a row or passes. The
// restart ladder then judges failures the run saw itself, as serve's health
// loop sees them over time; a single probe would never reach the restart
// threshold, and the alert's own count is untrusted text. It costs
// (Threshold-1) intervals on a failing check, nothing on a passing one.
type Confirming struct {
	*Checker
	Threshold int
}

var _ platform.Health = Confirming{}

// Check checks the service, and again while it fails below the threshold.
func (c Confirming) Check(ctx context.Context, service string) (platform.HealthResult, error) {
	res, err := c.Checker.Check(ctx, service)
	interval := c.interval(service)
	for err == nil && !res.OK && res.ConsecutiveFailures < c.Threshold && interval > 0 {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-c.clock.After(interval):
		}
		res, err = c.Checker.Check(ctx, service)
	}
	return res, err
}

// interval is the check interval of a service (one per service, see
// Matrix.Validate); zero for an unknown one.
func (c *Checker) interval(service string) time.Duration {
	for _, ch := range c.matrix {
		if ch.Service == service {
			return ch.Interval
		}
	}
	return 0
}
