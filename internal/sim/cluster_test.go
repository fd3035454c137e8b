package sim_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

func TestScaleHonoursExpectedVersionAndWritesAnnotations(t *testing.T) {
	p := load(t, "high-cpu")
	ctx := context.Background()
	before := workload(t, p, "backend")
	w, err := p.Cluster().Scale(ctx, ref("backend"), platform.ScaleRequest{Replicas: 4, ExpectedVersion: before.ResourceVersion,
		Annotations: map[string]string{"ops-skill/last-scale": "up"}})
	if err != nil {
		t.Fatal(err)
	}
	if w.ResourceVersion == before.ResourceVersion || w.Generation != before.Generation+1 || w.Annotations["ops-skill/last-scale"] != "up" {
		t.Fatalf("after scale: rv %s gen %d annotations %v; want new rv, next generation, annotation", w.ResourceVersion, w.Generation, w.Annotations)
	}
	_, err = p.Cluster().Scale(ctx, ref("backend"), platform.ScaleRequest{Replicas: 6, ExpectedVersion: before.ResourceVersion})
	if !errors.Is(err, platform.ErrConflict) {
		t.Fatalf("stale version: %v, want ErrConflict", err)
	}
	if got := workload(t, p, "backend").Replicas; got != 4 {
		t.Errorf("replicas %d after refused write, want 4", got)
	}
	if !hasEvent(workload(t, p, "backend"), "Scaled up replica set backend-") {
		t.Error("no ScalingReplicaSet event")
	}
}

func TestStaleVersionRefusesEveryWrite(t *testing.T) {
	p := load(t, "high-cpu")
	ctx := context.Background()
	stale := workload(t, p, "backend").ResourceVersion
	if _, err := p.Cluster().Scale(ctx, ref("backend"), platform.ScaleRequest{Replicas: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Cluster().RolloutRestart(ctx, ref("backend"), platform.RestartRequest{ExpectedVersion: stale}); !errors.Is(err, platform.ErrConflict) {
		t.Errorf("restart: %v, want ErrConflict", err)
	}
	_, err := p.Cluster().SetResources(ctx, ref("backend"), platform.ResourceRequest{MemoryLimit: 2 * gib, ExpectedVersion: stale})
	if !errors.Is(err, platform.ErrConflict) {
		t.Errorf("set resources: %v, want ErrConflict", err)
	}
}

func TestDryRunsChangeNothing(t *testing.T) {
	p := load(t, "clickhouse-oom")
	ctx := context.Background()
	before, snap := workload(t, p, "clickhouse"), p.Snapshot()
	w, err := p.Cluster().Scale(ctx, ref("clickhouse"), platform.ScaleRequest{Replicas: 3, DryRun: true, Annotations: map[string]string{"a": "b"}})
	if err != nil || w.Replicas != 3 || w.Annotations["a"] != "b" {
		t.Fatalf("dry-run scale: %v %+v, want the projected object", err, w)
	}
	if _, err := p.Cluster().RolloutRestart(ctx, ref("clickhouse"), platform.RestartRequest{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	w, err = p.Cluster().SetResources(ctx, ref("clickhouse"), platform.ResourceRequest{MemoryLimit: 8 * gib, DryRun: true})
	if err != nil || w.Containers[0].MemoryLimit != 8*gib {
		t.Fatalf("dry-run set resources: %v %+v", err, w.Containers)
	}
	if err := p.Cluster().EvictPod(ctx, ref("frontend"), workload(t, p, "frontend").Pods[0].Name, true); err != nil {
		t.Fatal(err)
	}
	if after := workload(t, p, "clickhouse"); !reflect.DeepEqual(before, after) {
		t.Errorf("workload changed by dry runs:\n%+v\n%+v", before, after)
	}
	if !reflect.DeepEqual(snap, p.Snapshot()) {
		t.Error("snapshot changed by dry runs")
	}
}

func TestRestartOfPausedRolloutIsRefused(t *testing.T) {
	sc, err := sim.LoadScenario(scenarios, "high-cpu")
	if err != nil {
		t.Fatal(err)
	}
	sc.Services[0].Paused = true
	p := sim.New(sc, t0)
	_, err = p.Cluster().RolloutRestart(context.Background(), ref("backend"), platform.RestartRequest{})
	if !errors.Is(err, sim.ErrPaused) || !strings.Contains(err.Error(), "paused") {
		t.Fatalf("restart of paused deployment: %v, want ErrPaused", err)
	}
	if w := workload(t, p, "backend"); !w.Paused || w.Generation != 1 {
		t.Errorf("workload %+v changed", w)
	}
}

func TestUnknownWorkloadIsNotFound(t *testing.T) {
	p := load(t, "healthy")
	ctx := context.Background()
	cases := map[string]error{}
	_, cases["get"] = p.Cluster().GetWorkload(ctx, ref("payments"))
	_, cases["scale"] = p.Cluster().Scale(ctx, ref("payments"), platform.ScaleRequest{Replicas: 2})
	_, cases["other namespace"] = p.Cluster().GetWorkload(ctx, platform.WorkloadRef{Namespace: "kube-system", Name: "backend"})
	_, cases["logs"] = p.Cluster().Logs(ctx, ref("payments"), platform.LogQuery{})
	cases["evict unknown pod"] = p.Cluster().EvictPod(ctx, ref("backend"), "backend-nope", false)
	_, cases["health"] = p.Health().Check(ctx, "payments")
	_, cases["metrics"] = p.Metrics().Query(ctx, platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("payments")})
	_, cases["container"] = p.Cluster().SetResources(ctx, ref("backend"), platform.ResourceRequest{Container: "sidecar", MemoryLimit: gib})
	for name, err := range cases {
		if !errors.Is(err, platform.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	if _, err := p.Cluster().GetWorkload(ctx, ref("payments")); !strings.Contains(err.Error(), "ai-data-labs/payments") {
		t.Errorf("error %q does not name the workload", err)
	}
}

func TestStuckServiceFailsUntilRestart(t *testing.T) {
	p := load(t, "health-check-failing")
	ctx := context.Background()
	if h := health(t, p, "frontend"); h.OK || !strings.Contains(h.Detail, "HTTP 503 from /health") || h.Check != "http /health" {
		t.Fatalf("health %+v, want HTTP 503", h)
	}
	lines, err := p.Cluster().Logs(ctx, ref("frontend"), platform.LogQuery{TailLines: 3})
	if err != nil || len(lines) != 3 || !strings.Contains(lines[2].Text, "worker pool exhausted: 0/64 workers free") {
		t.Fatalf("logs %v %+v, want worker pool lines", err, lines)
	}
	if _, err := p.Cluster().RolloutRestart(ctx, ref("frontend"), platform.RestartRequest{}); err != nil {
		t.Fatal(err)
	}
	p.Advance(29 * time.Second)
	if h := health(t, p, "frontend"); h.OK {
		t.Fatalf("health during rollout (old pods still serving) %+v, want failing", h)
	}
	p.Advance(time.Second)
	if h := health(t, p, "frontend"); !h.OK {
		t.Fatalf("health after rollout %+v, want ok", h)
	}
	if w := workload(t, p, "frontend"); len(w.Pods) != 3 || w.UpdatedReplicas != 3 {
		t.Errorf("pods %d updated %d, want 3 new pods", len(w.Pods), w.UpdatedReplicas)
	}
	if err := load(t, "health-check-failing").Scenario().Expect.CheckState(p.Snapshot()); err != nil {
		t.Errorf("scenario expectations after restart: %v", err)
	}
}

func TestEvictionRespectsDisruptionBudgetAndReplacesPod(t *testing.T) {
	p := load(t, "health-check-failing") // frontend: 3 pods, min_available 2
	ctx := context.Background()
	pods := workload(t, p, "frontend").Pods
	if err := p.Cluster().EvictPod(ctx, ref("frontend"), pods[0].Name, false); err != nil {
		t.Fatal(err)
	}
	w := workload(t, p, "frontend")
	if len(w.Pods) != 3 || w.ReadyReplicas != 2 {
		t.Fatalf("after eviction: %d pods, %d ready; want a replacement starting", len(w.Pods), w.ReadyReplicas)
	}
	err := p.Cluster().EvictPod(ctx, ref("frontend"), pods[1].Name, false)
	if !errors.Is(err, platform.ErrDisruptionBudget) {
		t.Fatalf("second eviction while the replacement starts: %v, want ErrDisruptionBudget", err)
	}
	p.Advance(30 * time.Second)
	if err := p.Cluster().EvictPod(ctx, ref("frontend"), pods[1].Name, false); err != nil {
		t.Fatalf("eviction once the replacement is ready: %v", err)
	}
}

func TestRecordEventAppearsInWorkload(t *testing.T) {
	p := load(t, "healthy")
	ev := platform.Event{Type: "Normal", Reason: "OpsSkillAction", Message: "scaled by ops-skill INC-2026-11-20-001"}
	if err := p.Cluster().RecordEvent(context.Background(), ref("backend"), ev); err != nil {
		t.Fatal(err)
	}
	w := workload(t, p, "backend")
	last := w.Events[len(w.Events)-1]
	if last.Message != ev.Message || !last.Time.Equal(p.Now()) {
		t.Errorf("last event %+v, want the recorded one at now", last)
	}
}

func TestLogsAreBounded(t *testing.T) {
	p := load(t, "high-cpu")
	ctx := context.Background()
	cases := []struct {
		name string
		q    platform.LogQuery
		max  int
	}{
		{"default tail", platform.LogQuery{}, sim.DefaultTailLines},
		{"tail lines", platform.LogQuery{TailLines: 7}, 7},
		{"max bytes", platform.LogQuery{MaxBytes: 100}, 3},
	}
	for _, c := range cases {
		lines, err := p.Cluster().Logs(ctx, ref("backend"), c.q)
		if err != nil {
			t.Fatal(err)
		}
		size := 0
		for _, l := range lines {
			size += len(l.Text) + 1
		}
		if len(lines) == 0 || len(lines) > c.max || (c.q.MaxBytes > 0 && size > c.q.MaxBytes) {
			t.Errorf("%s: %d lines, %d bytes", c.name, len(lines), size)
		}
	}
	if _, err := p.Cluster().Logs(ctx, ref("backend"), platform.LogQuery{Previous: true}); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("previous logs of pods that never restarted: %v, want ErrNotFound", err)
	}
}

func TestListWorkloadsInScenarioOrder(t *testing.T) {
	p := load(t, "healthy")
	ws, err := p.Cluster().ListWorkloads(context.Background(), "ai-data-labs")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.Ref.Name+"/"+w.Kind)
	}
	want := []string{"backend/Deployment", "frontend/Deployment", "clickhouse/StatefulSet", "postgresql/StatefulSet", "redis/StatefulSet"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("workloads %v, want %v", names, want)
	}
	if got := p.Health().Services(); !reflect.DeepEqual(got, []string{"backend", "frontend", "clickhouse", "postgresql", "redis"}) {
		t.Errorf("health services %v", got)
	}
}
