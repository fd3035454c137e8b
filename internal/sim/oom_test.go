package sim_test

import (
	"context"
	"errors"
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
	if got := instant(t, p, "clickhouse", platform.MetricErrorRate); got != 100 {
		t.Errorf("%s: error rate %v, want 100", when, got)
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

func hasEvent(w platform.Workload, text string) bool {
	for _, ev := range w.Events {
		if strings.Contains(ev.Message, text) {
			return true
		}
	}
	return false
}
