package replay_test

import (
	"context"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/internal/replay"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/simhistory"
	"github.com/duet-company/ops-skill/internal/store"
)

var start = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// TestReplayUnderTheSamePolicyReproducesEveryDecision is the property: for
// every scenario of the simulated platform, every scale and restart decision
// the guard made, judged again from its recorded basis under the policy in
// force, comes out exactly as recorded (verdict, rule, reason, numbers).
func TestReplayUnderTheSamePolicyReproducesEveryDecision(t *testing.T) {
	cases, err := eval.LoadSuite(sim.Scenarios(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	total := 0
	kinds := map[string]int{}
	for _, c := range cases {
		t.Run(c.Scenario.Name, func(t *testing.T) {
			b := build(t)
			if _, err := b.Incident(ctx, c.Scenario, start, ""); err != nil {
				t.Fatal(err)
			}
			n := checkExact(t, b)
			total += n
			for k, v := range n2k(t, b) {
				kinds[k] += v
			}
		})
	}
	t.Run("autoscaling-loop", func(t *testing.T) {
		b := build(t)
		sc := thrashing(t)
		if _, err := b.Autoscale(ctx, sc, start, "backend", 6*time.Hour, 5*time.Minute, 80, 30); err != nil {
			t.Fatal(err)
		}
		total += checkExact(t, b)
		for k, v := range n2k(t, b) {
			kinds[k] += v
		}
	})
	if total == 0 || kinds[store.DecisionScale] == 0 || kinds[store.DecisionRestart] == 0 {
		t.Fatalf("replayed %d decisions (%v); the scenarios must exercise scale and restart decisions", total, kinds)
	}
	t.Logf("replayed %d decisions exactly (%v)", total, kinds)
}

// TestReplayUnderAChangedPolicyReportsTheDifference: a scale up allowed at
// scale_up.cpu=80 is refused at 90 (the samples were at 85%).
func TestReplayUnderAChangedPolicyReportsTheDifference(t *testing.T) {
	ctx := context.Background()
	b := build(t)
	sc, err := sim.LoadScenario(sim.Scenarios(), "high-cpu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Incident(ctx, sc, start, ""); err != nil {
		t.Fatal(err)
	}
	recs, err := b.Store.ListDecisions(ctx, store.DecisionFilter{})
	if err != nil || len(recs) == 0 {
		t.Fatalf("decisions: %d, %v", len(recs), err)
	}
	for _, c := range []struct {
		set  []string
		want replay.Change
	}{
		{nil, replay.Same},
		{[]string{"scale_up.cpu=90"}, replay.Refused},
		{[]string{"max_replicas=3"}, replay.Refused},
	} {
		cfg, _, err := config.ApplyUpdates(b.Config, c.set)
		if err != nil {
			t.Fatal(err)
		}
		rep := replay.Run(recs, policy.FromConfig(cfg), nil)
		if got := rep.Results[0].Change; got != c.want {
			t.Errorf("%v: change %s, want %s (%+v)", c.set, got, c.want, rep.Results[0])
		}
	}
}

func build(t *testing.T) *simhistory.Builder {
	t.Helper()
	b, err := simhistory.New(context.Background(), start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	b.Config.StateDir = t.TempDir()
	return b
}

func checkExact(t *testing.T, b *simhistory.Builder) int {
	t.Helper()
	recs, err := b.Store.ListDecisions(context.Background(), store.DecisionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rep := replay.Run(recs, policy.FromConfig(b.Config), nil)
	for _, r := range rep.Results {
		if !r.Exact() {
			t.Errorf("decision %d (%s %s at %s) replayed as\n  %+v\nrecorded\n  %+v\nerror %q", r.DecisionID, r.Kind, r.Target,
				r.At.Format(time.RFC3339), r.Replayed, r.Recorded, r.Error)
		}
	}
	return len(recs)
}

func n2k(t *testing.T, b *simhistory.Builder) map[string]int {
	t.Helper()
	recs, err := b.Store.ListDecisions(context.Background(), store.DecisionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range recs {
		out[r.Kind]++
	}
	return out
}

// thrashing is high-cpu whose backend demand swings every 40 minutes
// between the level that puts 3 replicas at 85% CPU and one that puts 4 at
// about 20%.
func thrashing(t *testing.T) sim.Scenario {
	t.Helper()
	sc, err := sim.LoadScenario(sim.Scenarios(), "high-cpu")
	if err != nil {
		t.Fatal(err)
	}
	return simhistory.Swing(sc, "backend", 180, 60, 40*time.Minute, 12*time.Hour)
}
