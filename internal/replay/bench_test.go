package replay_test

import (
	"context"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/internal/replay"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/simhistory"
	"github.com/duet-company/ops-skill/internal/store"
)

// BenchmarkReplayOneIncident reads the decisions of one incident from a
// history of 30 simulated incidents and judges them again under a changed
// policy, as `ops-skill replay INC-… --set scale_out.error_rate=50` does.
func BenchmarkReplayOneIncident(b *testing.B) {
	ctx := context.Background()
	h, err := simhistory.New(ctx, start)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	var incident string
	for i := range 30 {
		name := []string{"high-cpu", "health-check-failing", "clickhouse-oom"}[i%3]
		sc, err := sim.LoadScenario(sim.Scenarios(), name)
		if err != nil {
			b.Fatal(err)
		}
		sums, err := h.Incident(ctx, sc, start.Add(time.Duration(i)*time.Hour), "")
		if err != nil {
			b.Fatal(err)
		}
		if name == "clickhouse-oom" && incident == "" {
			incident = sums[0].Incident
		}
	}
	cfg := h.Config
	cfg.AutoScaling.ErrorRateThreshold = 50
	pol := policy.FromConfig(cfg)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ids, err := h.Store.AlertIDsOfIncident(ctx, incident)
		if err != nil {
			b.Fatal(err)
		}
		recs, err := h.Store.ListDecisions(ctx, store.DecisionFilter{AlertIDs: ids})
		if err != nil || len(recs) == 0 {
			b.Fatalf("%d decisions of %s, %v", len(recs), incident, err)
		}
		replay.Run(recs, pol, nil)
	}
}
