package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

// BenchmarkHighCPUIncident measures the platform side of one spec incident:
// status, a 30-minute range query, scale, settle, instant query.
func BenchmarkHighCPUIncident(b *testing.B) {
	ctx := context.Background()
	sc, err := sim.LoadScenario(scenarios, "high-cpu")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := sim.New(sc, t0)
		if _, err := p.Cluster().GetWorkload(ctx, ref("backend")); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Metrics().Query(ctx, platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("backend"),
			Start: p.Now().Add(-30 * time.Minute), End: p.Now(), Step: 15 * time.Second}); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Cluster().Scale(ctx, ref("backend"), platform.ScaleRequest{Replicas: 4}); err != nil {
			b.Fatal(err)
		}
		p.Advance(2 * time.Minute)
		if _, err := p.Metrics().Query(ctx, platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("backend")}); err != nil {
			b.Fatal(err)
		}
	}
}
