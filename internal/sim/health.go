package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

type healthPort struct{ p *Platform }

// Services lists the services of the health matrix in scenario order.
func (h healthPort) Services() []string {
	out := make([]string, len(h.p.services))
	for i, s := range h.p.services {
		out[i] = s.spec.Name
	}
	return out
}

// Check runs the service's check ("http /health" or "tcp PORT") against the
// modelled state: it fails with "connection refused" when no pod is ready and
// with the scenario's stuck detail (e.g. "HTTP 503 from /health") while a ready
// pod is stuck.
func (h healthPort) Check(ctx context.Context, service string) (platform.HealthResult, error) {
	if err := ctx.Err(); err != nil {
		return platform.HealthResult{}, err
	}
	h.p.mu.RLock()
	defer h.p.mu.RUnlock()
	s := h.p.byName[service]
	if s == nil {
		return platform.HealthResult{}, errorf(platform.ErrNotFound, "health check for service %q", service)
	}
	now := h.p.clock.Now()
	res := s.check(now)
	res.ConsecutiveFailures = s.consecutiveFailures(now, h.p.start.Add(-h.p.sc.History))
	return res, nil
}

// HealthInterval is how often the modelled checker runs (HEALTH_CHECK_INTERVAL).
const HealthInterval = 30 * time.Second

// maxCountedFailures bounds how far back consecutive failures are counted.
const maxCountedFailures = 100

// consecutiveFailures counts the checks in a row, one every HealthInterval and
// ending now, that failed; none before the scenario's history began.
func (s *service) consecutiveFailures(now, earliest time.Time) int {
	n := 0
	for t := now; n < maxCountedFailures && !t.Before(earliest); t = t.Add(-HealthInterval) {
		if s.check(t).OK {
			break
		}
		n++
	}
	return n
}

func (s *service) check(now time.Time) platform.HealthResult {
	kind, target, _ := parseHealth(s.spec.Health)
	res := platform.HealthResult{Service: s.spec.Name, Check: s.spec.Health, At: now}
	var ready, stuck, pods int
	for _, pd := range s.alive(now) {
		pods++
		st := s.status(pd, now)
		if st.ready {
			ready++
			if st.stuck {
				stuck++
			}
		}
	}
	switch {
	case ready == 0 && kind == "tcp":
		res.Detail = fmt.Sprintf("dial tcp %s.%s:%s: connection refused (%d/%d pods ready)", s.ref.Name, s.ref.Namespace, target, ready, pods)
	case ready == 0:
		res.Detail = fmt.Sprintf("GET %s: connection refused (%d/%d pods ready)", target, ready, pods)
	case stuck > 0:
		res.Detail = fmt.Sprintf("%s (%d/%d ready pods failing)", s.spec.Stuck.Detail, stuck, ready)
		res.Latency = 5 * time.Millisecond
	case kind == "tcp":
		res.OK, res.Detail, res.Latency = true, "port "+target+" open", time.Millisecond
	default:
		res.OK, res.Detail, res.Latency = true, "HTTP 200 from "+target, 3*time.Millisecond
	}
	return res
}
