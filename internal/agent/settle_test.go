package agent_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/compose"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// stuckRollout never completes.
type stuckRollout struct{}

func (stuckRollout) RolloutProgress(context.Context, platform.WorkloadRef) (platform.RolloutProgress, error) {
	return platform.RolloutProgress{Message: "3 of 4 updated replicas are available"}, nil
}

// brokenRollout cannot be read.
type brokenRollout struct{}

func (brokenRollout) RolloutProgress(context.Context, platform.WorkloadRef) (platform.RolloutProgress, error) {
	return platform.RolloutProgress{}, errors.New("the API server is unreachable")
}

// noSamples never has a fresh sample (a scrape that stopped).
type noSamples struct{}

func (noSamples) FreshSamples(context.Context, platform.MetricQuery) (int, error) { return 0, nil }

// brokenSamples cannot be counted.
type brokenSamples struct{}

func (brokenSamples) FreshSamples(context.Context, platform.MetricQuery) (int, error) {
	return 0, errors.New("Prometheus is unreachable")
}

// TestVerificationWaitsForTheEvidence: the high-CPU scale on the simulated
// platform (new pods ready 30s after they start, a sample every 15s) waits
// for its rollout and four fresh samples, not the fixed two minutes; what
// cannot be watched falls back to the settle maximum, and the verification
// says what it waited for.
func TestVerificationWaitsForTheEvidence(t *testing.T) {
	tests := []struct {
		name     string
		scenario string // default high-cpu
		ports    func(*compose.Platform)
		waited   time.Duration
		evidence string
		since    bool // the verification read CPU from the samples after the rollout
	}{
		{"rollout and samples", "", nil, 90 * time.Second,
			"the rollout of ai-data-labs/backend completed after 30s, then 4 fresh CPU samples", true},
		{"no Prometheus freshness: the rollout alone", "", func(p *compose.Platform) { p.Fresh = nil }, 30 * time.Second,
			"the rollout of ai-data-labs/backend completed after 30s", false},
		{"rollouts cannot be read", "", func(p *compose.Platform) { p.Rollouts = nil }, 2 * time.Minute,
			"the settle maximum of 2m (rollouts cannot be read here)", false},
		{"a rollout that does not complete", "", func(p *compose.Platform) { p.Rollouts = stuckRollout{} }, 2 * time.Minute,
			"the rollout of ai-data-labs/backend did not complete: 3 of 4 updated replicas are available", false},
		{"a rollout that cannot be read", "", func(p *compose.Platform) { p.Rollouts = brokenRollout{} }, 2 * time.Minute,
			"the settle maximum of 2m (the rollout of ai-data-labs/backend could not be read: the API server is unreachable)", false},
		{"samples that do not come", "", func(p *compose.Platform) { p.Fresh = noSamples{} }, 2 * time.Minute,
			"the rollout of ai-data-labs/backend completed after 30s, only 0 fresh CPU samples by the settle maximum", false},
		{"samples that cannot be counted", "", func(p *compose.Platform) { p.Fresh = brokenSamples{} }, 2 * time.Minute,
			"the settle maximum of 2m (the rollout of ai-data-labs/backend completed after 30s, fresh CPU samples could not be counted: Prometheus is unreachable)", false},
		{"a health signal needs no samples when they cannot be counted", "health-check-failing", func(p *compose.Platform) { p.Fresh = brokenSamples{} }, 30 * time.Second,
			"the rollout of ai-data-labs/frontend completed after 30s, fresh memory samples could not be counted (Prometheus is unreachable), the rollout is the evidence", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := tt.scenario
			if sc == "" {
				sc = "high-cpu"
			}
			h := newHarness(t, setup{scenario: sc, ports: tt.ports})
			start := h.p.Now()
			sum := h.run()
			v := sum.Verification
			if v == nil {
				t.Fatalf("no verification: %+v", sum)
			}
			if v.Waited.Duration() != tt.waited || v.Evidence != tt.evidence {
				t.Errorf("waited %s for %q, want %s for %q", v.Waited, v.Evidence, tt.waited, tt.evidence)
			}
			if got := v.At.Sub(start); got < tt.waited {
				t.Errorf("verified %s after the start, before the %s wait ended", got, tt.waited)
			}
			var since string
			for _, c := range of[agent.ToolCalled](h.events) {
				if c.Phase == agent.PhaseVerify && c.Tool == tools.QueryMetrics {
					since = string(c.Args)
				}
			}
			if got := strings.Contains(since, `"since"`); got != tt.since {
				t.Errorf("the verification's queryMetrics %s: reads from the rollout %v, want %v", since, got, tt.since)
			}
		})
	}
}
