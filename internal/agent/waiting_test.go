package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/platform"
)

// watchingWaiter keeps the events emitted when the settle wait starts.
type watchingWaiter struct {
	agent.Waiter
	events *recorder
	seen   []agent.Event
}

func (w *watchingWaiter) Wait(ctx context.Context, d time.Duration) error {
	w.seen = w.events.all()
	return w.Waiter.Wait(ctx, d)
}

func TestTheSettleWaitIsAnnouncedBeforeItStarts(t *testing.T) {
	tests := []struct {
		name    string
		where   platform.Where
		virtual bool
	}{
		{"simulated", platform.Where{Kind: platform.WhereSimulated, Scenario: "high-cpu"}, true},
		{"cluster", platform.Where{Kind: platform.WhereCluster, Cluster: "prod", Context: "prod-admin"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w *watchingWaiter
			h := newHarness(t, setup{scenario: "high-cpu",
				agentCfg: func(c *agent.Config) { c.Where = tt.where },
				waiter: func(inner agent.Waiter) agent.Waiter {
					w = &watchingWaiter{Waiter: inner}
					return w
				}})
			w.events = h.events
			start := h.p.Now()
			h.run()
			if len(w.seen) == 0 {
				t.Fatal("the settle wait never started")
			}
			got, ok := w.seen[len(w.seen)-1].(agent.Waiting)
			if !ok {
				t.Fatalf("the last event before the wait is %T, want agent.Waiting", w.seen[len(w.seen)-1])
			}
			want := agent.Waiting{At: start, Until: start.Add(2 * time.Minute), For: got.For, Reason: "the scale of ai-data-labs/backend",
				Evidence: agent.WaitRolloutAndSamples, Signal: "CPU", Virtual: tt.virtual}
			if got != want || got.For.Duration() != 2*time.Minute {
				t.Errorf("waiting = %+v, want %+v for 2m", got, want)
			}
			if s := got.String(); s != "waiting for the scale of ai-data-labs/backend to roll out and for fresh CPU samples, verifying by 09:32:00 at the latest" {
				t.Errorf("line = %q", s)
			}
			if n := len(of[agent.Waiting](h.events)); n != 1 {
				t.Errorf("%d waiting events, want 1", n)
			}
		})
	}
}

func TestNoWaitIsAnnouncedWithoutAWrite(t *testing.T) {
	h := newHarness(t, setup{scenario: "healthy", alert: "Alert: Backend service CPU at 85% for 5 minutes"})
	h.run()
	if n := len(of[agent.Waiting](h.events)); n != 0 {
		t.Errorf("%d waiting events for a run that changed nothing", n)
	}
}
