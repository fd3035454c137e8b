package sim_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

const gib = 1 << 30

func assertCrashLooping(t *testing.T, p *sim.Platform, when string) {
	t.Helper()
	w := workload(t, p, "clickhouse")
	if w.ReadyReplicas != 0 {
		t.Errorf("%s: ready %d, want 0", when, w.ReadyReplicas)
	}
	for _, pd := range w.Pods {
		if pd.Ready || pd.WaitingReason != "CrashLoopBackOff" || pd.LastTerm == nil ||
			pd.LastTerm.Reason != "OOMKilled" || pd.LastTerm.ExitCode != 137 {
			t.Errorf("%s: pod %+v (last %+v), want CrashLoopBackOff after OOMKilled 137", when, pd, pd.LastTerm)
		}
	}
	if h := health(t, p, "clickhouse"); h.OK || !strings.Contains(h.Detail, "connection refused") {
		t.Errorf("%s: health %+v, want connection refused", when, h)
	}
	// No pod is ready, so none serves its own HTTP metrics: the error rate
	// has no samples, as Prometheus has none of crash-looping pods.
	res, err := p.Metrics().Query(context.Background(), platform.MetricQuery{Metric: platform.MetricErrorRate, Target: ref("clickhouse")})
	if err != nil || len(res.Series) != 0 || len(res.Warnings) == 0 {
		t.Errorf("%s: error rate %+v (%v), want no samples and a warning saying so", when, res, err)
	}
}

func TestClickHouseOOMStartsInCrashLoop(t *testing.T) {
	p := load(t, "clickhouse-oom")
	assertCrashLooping(t, p, "at start")
	w := workload(t, p, "clickhouse")
	if w.Kind != "StatefulSet" || len(w.Pods) != 2 || w.Pods[0].Name != "clickhouse-0" {
		t.Fatalf("workload %s with pods %+v, want StatefulSet clickhouse-0/1", w.Kind, w.Pods)
	}
	before := w.Pods[0].Restarts
	if before < 150 {
		t.Errorf("restarts %d, want about 2h/40s", before)
	}
	p.Advance(40 * time.Second)
	if got := workload(t, p, "clickhouse").Pods[0].Restarts; got != before+1 {
		t.Errorf("restarts after 40s: %d, want %d", got, before+1)
	}
	if got := instant(t, p, "clickhouse", platform.MetricMemory); got != 155 {
		t.Errorf("memory %v%%, want 155 (6.2Gi of 4Gi)", got)
	}
	if !hasEvent(workload(t, p, "clickhouse"), "Back-off restarting failed container") {
		t.Error("no BackOff event")
	}
	if _, err := p.Storage().Disks(context.Background()); !errors.Is(err, platform.ErrUnavailable) {
		t.Errorf("storage while clickhouse is down: %v, want ErrUnavailable", err)
	}
}

func TestClickHouseOOMLogsShowMemoryLimit(t *testing.T) {
	p := load(t, "clickhouse-oom")
	const want = "Memory limit (total) exceeded: would use 6.20 GiB, maximum: 4.00 GiB"
	for _, previous := range []bool{false, true} {
		lines, err := p.Cluster().Logs(context.Background(), ref("clickhouse"),
			platform.LogQuery{Pod: "clickhouse-1", Filter: "memory limit", Previous: previous, TailLines: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 1 || !strings.Contains(lines[0].Text, want) || lines[0].Pod != "clickhouse-1" {
			t.Errorf("previous=%v: lines %+v, want one OOM line", previous, lines)
		}
	}
}

func TestRestartAloneDoesNotFixOOM(t *testing.T) {
	p := load(t, "clickhouse-oom")
	ctx := context.Background()
	if _, err := p.Cluster().RolloutRestart(ctx, ref("clickhouse"), platform.RestartRequest{}); err != nil {
		t.Fatal(err)
	}
	recycle(t, p, "clickhouse", "clickhouse-0", "clickhouse-1")
	p.Advance(45 * time.Second)
	w := workload(t, p, "clickhouse")
	if w.ReadyReplicas != 2 || w.Pods[0].Restarts != 0 {
		t.Fatalf("45s after restart: ready %d restarts %d, want fresh ready pods", w.ReadyReplicas, w.Pods[0].Restarts)
	}
	p.Advance(20 * time.Second) // the new pods are OOM-killed a minute after they start
	assertCrashLooping(t, p, "65s after restart")
}

func TestMemoryRaiseRecoversOOM(t *testing.T) {
	p := load(t, "clickhouse-oom")
	ctx := context.Background()
	w, err := p.Cluster().SetResources(ctx, ref("clickhouse"), platform.ResourceRequest{Container: "clickhouse", MemoryLimit: 8 * gib})
	if err != nil {
		t.Fatal(err)
	}
	if w.Containers[0].MemoryLimit != 8*gib {
		t.Fatalf("limit %d after SetResources", w.Containers[0].MemoryLimit)
	}
	recycle(t, p, "clickhouse", "clickhouse-0", "clickhouse-1")
	p.Advance(30 * time.Second)
	if _, err := p.Cluster().Scale(ctx, ref("clickhouse"), platform.ScaleRequest{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	p.Advance(5 * time.Minute)
	w = workload(t, p, "clickhouse")
	if w.ReadyReplicas != 3 || len(w.Pods) != 3 {
		t.Fatalf("ready %d of %d pods, want 3/3", w.ReadyReplicas, len(w.Pods))
	}
	for _, pd := range w.Pods {
		if !pd.Ready || pd.Restarts != 0 || pd.WaitingReason != "" {
			t.Errorf("pod %+v, want ready without restarts", pd)
		}
	}
	if h := health(t, p, "clickhouse"); !h.OK {
		t.Errorf("health %+v, want ok", h)
	}
	if got := instant(t, p, "clickhouse", platform.MetricErrorRate); got != 0 {
		t.Errorf("error rate %v, want 0", got)
	}
	if got := instant(t, p, "clickhouse", platform.MetricMemory); got != 77.5 {
		t.Errorf("memory %v%%, want 77.5 (6.2Gi of 8Gi)", got)
	}
	if err := load(t, "clickhouse-oom").Scenario().Expect.CheckState(p.Snapshot()); err != nil {
		t.Errorf("scenario expectations after the fix: %v", err)
	}
}

func TestScalingAnOOMServiceAddsCrashingPods(t *testing.T) {
	p := load(t, "clickhouse-oom")
	if _, err := p.Cluster().Scale(context.Background(), ref("clickhouse"), platform.ScaleRequest{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	p.Advance(2 * time.Minute)
	w := workload(t, p, "clickhouse")
	if len(w.Pods) != 3 || w.Pods[2].Name != "clickhouse-2" {
		t.Fatalf("pods %+v, want clickhouse-0..2", w.Pods)
	}
	assertCrashLooping(t, p, "2m after scaling to 3")
}

// recycle recycles the stalled pods of a workload and checks which were.
func recycle(t *testing.T, p *sim.Platform, name string, want ...string) {
	t.Helper()
	res, err := p.Cluster().RecycleStalledPods(context.Background(), ref(name), platform.RecycleRequest{Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Recycled, want) || len(res.Left) != 0 {
		t.Fatalf("recycled %q, left %q; want %q recycled", res.Recycled, res.Left, want)
	}
}

func hasEvent(w platform.Workload, text string) bool {
	for _, ev := range w.Events {
		if strings.Contains(ev.Message, text) {
			return true
		}
	}
	return false
}

// A StatefulSet with a pod that is not ready does not roll on a template
// change (the controller waits for it, as OrderedReady does); recycling
// deletes the not-ready pods on the old template, at most Max, never a
// ready one, and the recreated pods run with the new limit: ready, not
// OOM-killed, 65 s later (the old ones are killed a minute after start).
func TestStatefulSetRollWaitsForItsNotReadyPodsUntilRecycled(t *testing.T) {
	cases := []struct {
		name     string
		raise    bool
		max      int
		dryRun   bool
		recycled []string
		left     []string
		healthy  []string // the pods ready and never killed 65 s later
	}{
		{name: "memory raise, both pods recycled", raise: true, max: 10, recycled: []string{"clickhouse-0", "clickhouse-1"},
			healthy: []string{"clickhouse-0", "clickhouse-1"}},
		{name: "bounded to one pod", raise: true, max: 1, recycled: []string{"clickhouse-0"}, left: []string{"clickhouse-1"},
			healthy: []string{"clickhouse-0"}},
		{name: "dry run recycles nothing", raise: true, max: 10, dryRun: true, recycled: []string{"clickhouse-0", "clickhouse-1"}},
		{name: "no template change, no pod on an old template", max: 10},
		{name: "bound zero recycles none", raise: true, max: 0, left: []string{"clickhouse-0", "clickhouse-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := load(t, "clickhouse-oom")
			ctx := context.Background()
			if tc.raise {
				if _, err := p.Cluster().SetResources(ctx, ref("clickhouse"), platform.ResourceRequest{MemoryLimit: 8 * gib}); err != nil {
					t.Fatal(err)
				}
				if w := workload(t, p, "clickhouse"); w.Pods[0].Restarts == 0 || w.Pods[1].Restarts == 0 {
					t.Fatalf("pods replaced although not ready: %+v", w.Pods)
				}
			}
			res, err := p.Cluster().RecycleStalledPods(ctx, ref("clickhouse"), platform.RecycleRequest{Max: tc.max, DryRun: tc.dryRun})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Recycled, tc.recycled) || !slices.Equal(res.Left, tc.left) {
				t.Errorf("recycled %q left %q, want %q and %q", res.Recycled, res.Left, tc.recycled, tc.left)
			}
			p.Advance(65 * time.Second)
			var healthy []string
			for _, pd := range workload(t, p, "clickhouse").Pods {
				if pd.Ready && pd.Restarts == 0 {
					healthy = append(healthy, pd.Name)
				}
			}
			if !slices.Equal(healthy, tc.healthy) {
				t.Errorf("healthy pods %q, want %q", healthy, tc.healthy)
			}
		})
	}
}

// A ready StatefulSet rolls at once; recycling then finds nothing, and a
// Deployment never has anything to recycle.
func TestRecycleLeavesReadyPodsAlone(t *testing.T) {
	p := load(t, "clickhouse-oom")
	ctx := context.Background()
	for _, name := range []string{"postgresql", "backend"} {
		if _, err := p.Cluster().SetResources(ctx, ref(name), platform.ResourceRequest{MemoryLimit: 3 * gib}); err != nil {
			t.Fatal(err)
		}
		res, err := p.Cluster().RecycleStalledPods(ctx, ref(name), platform.RecycleRequest{Max: 10})
		if err != nil || len(res.Recycled)+len(res.Left) != 0 {
			t.Errorf("%s: recycled %+v, %v; want nothing", name, res, err)
		}
	}
}
