package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

func oneService(replicas int32, load sim.Load) sim.Scenario {
	return sim.Scenario{
		Name: "cpu", Description: "cpu model", Alert: "cpu",
		Services: []sim.Service{{
			Name: "backend", Replicas: replicas, Load: load,
			Containers: []sim.ContainerSpec{{Name: "backend", CPURequest: 500, MemoryLimit: 1 << 30}},
		}},
	}
}

func TestCPUModelGivesSpecFiguresPerReplicaCount(t *testing.T) {
	load := sim.Load{Demand: sim.Signal[float64]{Value: 180}, Knee: 50, Amplification: 2.5, LatencyMS: 120, LatencySlopeMS: 30}
	cases := []struct {
		replicas int32
		cpu      float64
		latency  float64
	}{
		{replicas: 2, cpu: 100, latency: 120 + 30*40}, // u = 90: saturated
		{replicas: 3, cpu: 85, latency: 420},          // u = 60: the spec's 85%, +300 ms
		{replicas: 4, cpu: 45, latency: 120},          // u = 45: below the knee
		{replicas: 5, cpu: 36, latency: 120},
		{replicas: 6, cpu: 30, latency: 120},
	}
	for _, c := range cases {
		p := sim.New(oneService(c.replicas, load), t0)
		if got := instant(t, p, "backend", platform.MetricCPU); got != c.cpu {
			t.Errorf("%d replicas: cpu %v, want %v", c.replicas, got, c.cpu)
		}
		if got := instant(t, p, "backend", platform.MetricLatencyP99); got != c.latency {
			t.Errorf("%d replicas: latency %v, want %v", c.replicas, got, c.latency)
		}
	}
}

func TestNoReadyPodMeansIdleCPUAndFullErrors(t *testing.T) {
	p := sim.New(oneService(0, sim.Load{Demand: sim.Signal[float64]{Value: 100}, IdleCPU: 2}), t0)
	s := p.Snapshot().Services["backend"]
	if s.CPU != 2 || s.ErrorRate != 100 || s.Healthy {
		t.Fatalf("zero replicas: %+v, want cpu 2, error rate 100, unhealthy", s)
	}
}

func TestScaleUpLowersCPUOnlyAfterStartup(t *testing.T) {
	p := load(t, "high-cpu")
	ctx := context.Background()
	if got := instant(t, p, "backend", platform.MetricCPU); got != 85 {
		t.Fatalf("initial cpu %v, want 85", got)
	}
	scaledAt := p.Now()
	if _, err := p.Cluster().Scale(ctx, ref("backend"), platform.ScaleRequest{Replicas: 5}); err != nil {
		t.Fatal(err)
	}
	w := workload(t, p, "backend")
	if w.Replicas != 5 || w.ReadyReplicas != 3 || len(w.Pods) != 5 {
		t.Fatalf("right after scale: replicas %d ready %d pods %d, want 5/3/5", w.Replicas, w.ReadyReplicas, len(w.Pods))
	}
	p.Advance(29 * time.Second)
	if got := p.Snapshot().Services["backend"].CPU; got != 85 {
		t.Fatalf("29s after scale (new pods not ready): cpu %v, want 85", got)
	}
	if err := p.Wait(ctx, 91*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := instant(t, p, "backend", platform.MetricCPU); got != 36 {
		t.Errorf("2m after scale to 5: cpu %v, want 36", got)
	}
	if got := instant(t, p, "backend", platform.MetricLatencyP99); got != 120 {
		t.Errorf("2m after scale: latency %v, want back to 120", got)
	}
	if w := workload(t, p, "backend"); w.ReadyReplicas != 5 {
		t.Errorf("ready %d, want 5", w.ReadyReplicas)
	}
	// The past is not rewritten: samples before the scale still read 85%.
	res, err := p.Metrics().Query(ctx, platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("backend"),
		Start: scaledAt.Add(-20 * time.Minute), End: p.Now(), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := map[time.Duration]float64{-20 * time.Minute: 33.33, -15 * time.Minute: 85, -time.Minute: 85, 0: 85, 2 * time.Minute: 36}
	for _, s := range res.Series[0].Samples {
		if w, ok := want[s.T.Sub(scaledAt)]; ok && s.V != w {
			t.Errorf("cpu at %s: %v, want %v", s.T.Sub(scaledAt), s.V, w)
		}
	}
	if n := len(res.Series[0].Samples); n != 23 {
		t.Errorf("samples %d, want 23 (20m before to 2m after at 1m step)", n)
	}
}

func TestScaleDownRemovesPodsAtOnce(t *testing.T) {
	p := load(t, "high-cpu")
	if _, err := p.Cluster().Scale(context.Background(), ref("backend"), platform.ScaleRequest{Replicas: 2}); err != nil {
		t.Fatal(err)
	}
	s := p.Snapshot().Services["backend"]
	if s.ReadyReplicas != 2 || s.Pods != 2 || s.CPU != 100 {
		t.Fatalf("after scale down to 2: %+v, want 2 ready pods at 100%% cpu", s)
	}
}
