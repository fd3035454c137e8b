package agent_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/tools"
)

// situations are the situations planners were given.
type situations struct {
	mu   sync.Mutex
	seen []plan.Situation
}

// watched records every situation its planner is given.
type watched struct {
	plan.Planner
	rec *situations
}

func (w watched) Next(ctx context.Context, s plan.Situation) (plan.Turn, error) {
	w.rec.mu.Lock()
	w.rec.seen = append(w.rec.seen, s)
	w.rec.mu.Unlock()
	return w.Planner.Next(ctx, s)
}

// The rules planner reads the tools' outcomes whole and typed, whatever a
// model's budget: a 50-pod workload and an 8 KiB log tail reach it entire,
// while the same outcomes are far over the 4,000 bytes a model is sent of
// each.
func TestTheRulesPlannerSeesFiftyPodsAndAnEightKiBLogTailWhole(t *testing.T) {
	sc := loadScenario(t, "health-check-failing")
	for i := range sc.Services {
		if sc.Services[i].Name == "frontend" {
			sc.Services[i].Replicas = 50
			sc.Services[i].Logs.Lines = longLines(40, 400)
			stuck := *sc.Services[i].Stuck
			stuck.Log = "ERROR worker pool exhausted: " + strings.Repeat("w", 400)
			sc.Services[i].Stuck = &stuck
		}
	}
	rec := &situations{}
	h := newHarness(t, setup{scenario: "health-check-failing", platform: sim.New(sc, fixedStart),
		planners: func(p plan.Planner) plan.Planner { return watched{Planner: p, rec: rec} }})
	h.run()

	var pods, logBytes int
	for _, s := range rec.seen {
		for _, o := range s.Outcomes {
			switch r := o.Result.(type) {
			case tools.ServiceStatus:
				if r.Target == "ai-data-labs/frontend" {
					pods = max(pods, len(r.Pods))
				}
			case tools.LogTail:
				n := 0
				for _, l := range r.Lines {
					n += len(l) + 1
				}
				logBytes = max(logBytes, n)
			}
		}
	}
	if pods != 50 {
		t.Errorf("the rules planner saw %d pods of frontend, want all 50", pods)
	}
	t.Logf("seen: %d pods, a log tail of %d bytes", pods, logBytes)
	if logBytes < 7<<10 {
		t.Errorf("the rules planner saw a log tail of %d bytes, want the whole tail of about 8 KiB", logBytes)
	}
}

func longLines(n, size int) []string {
	out := make([]string, n)
	for i := range out {
		head := fmt.Sprintf("line %02d: <Error> MemoryTracker: ", i)
		out[i] = head + strings.Repeat("x", size-len(head))
	}
	return out
}
