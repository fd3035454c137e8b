package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

func TestServiceStatusOfOOMLoopingClickHouse(t *testing.T) {
	e := newEnv(t, "clickhouse-oom")
	o := e.call(autoRun(), "getServiceStatus", `{"namespace":"ai-data-labs","name":"clickhouse"}`)
	mustStatus(t, o, tools.StatusOK)
	st := result[tools.ServiceStatus](t, o)
	if st.Target != "ai-data-labs/clickhouse" || st.Kind != "StatefulSet" || st.Status != "Down" || st.Replicas != 2 || st.Ready != 0 {
		t.Errorf("status %+v", st)
	}
	if st.CrashLooping != 2 || st.OOMKilled != 2 || len(st.Pods) != 2 {
		t.Errorf("crashLooping %d oomKilled %d pods %d, want 2 2 2", st.CrashLooping, st.OOMKilled, len(st.Pods))
	}
	for _, p := range st.Pods {
		if p.Waiting != "CrashLoopBackOff" || !strings.HasPrefix(p.LastExit, "OOMKilled (exit 137) ") || !strings.HasSuffix(p.LastExit, " ago") || p.Ready || p.Restarts < 100 {
			t.Errorf("pod %+v", p)
		}
	}
	if len(st.Containers) != 1 || st.Containers[0].MemoryLimit != "4Gi" || st.Containers[0].CPURequest != "2000m" {
		t.Errorf("containers %+v", st.Containers)
	}
	if len(st.Events) == 0 || !strings.Contains(strings.Join(st.Events, "\n"), "OOMKilled") {
		t.Errorf("events %v", st.Events)
	}
	if o.Summary != "ai-data-labs/clickhouse: Down, 0/2 ready" {
		t.Errorf("summary %q", o.Summary)
	}
}

func TestServiceStatusOfEachScenario(t *testing.T) {
	cases := []struct {
		scenario, name, status string
		replicas, ready        int32
		autoscaledBy           string
		paused                 bool
	}{
		{"high-cpu", "backend", "Healthy", 3, 3, "", false},
		{"high-cpu-max-replicas", "backend", "Healthy", 10, 10, "", false},
		{"high-cpu-hpa-owned", "backend", "Healthy", 3, 3, "HorizontalPodAutoscaler/backend", false},
		{"health-check-failing", "frontend", "Healthy", 3, 3, "", false}, // ready but /health fails
		{"health-check-failing-paused", "frontend", "Healthy", 3, 3, "", true},
		{"clickhouse-oom", "backend", "Healthy", 3, 3, "", false},
	}
	for _, c := range cases {
		e := newEnv(t, c.scenario)
		o := e.call(autoRun(), "getServiceStatus", `{"namespace":"ai-data-labs","name":"`+c.name+`"}`)
		mustStatus(t, o, tools.StatusOK)
		st := result[tools.ServiceStatus](t, o)
		if st.Status != c.status || st.Replicas != c.replicas || st.Ready != c.ready || st.AutoscaledBy != c.autoscaledBy || st.Paused != c.paused {
			t.Errorf("%s %s: %+v", c.scenario, c.name, st)
		}
	}
}

func TestUnknownWorkloadFailsListingTheWorkloads(t *testing.T) {
	for _, tool := range []string{"getServiceStatus", "getLogs", "scaleDeployment", "restartPods", "updateResources"} {
		e := newEnv(t, "high-cpu")
		args := `{"namespace":"ai-data-labs","name":"payments","replicas":4,"memoryLimit":"8Gi"}`
		args = trimArgs(tool, args)
		o := e.call(autoRun(), tool, args)
		mustStatus(t, o, tools.StatusFailed)
		want := "ai-data-labs/payments: not found"
		if tool != "getLogs" {
			want += " (workloads in ai-data-labs: backend, clickhouse, frontend, postgresql, redis)"
		}
		if !strings.Contains(o.Error, want) {
			t.Errorf("%s: error %q, want %q", tool, o.Error, want)
		}
		if n := strings.Count(o.Error, "ai-data-labs/payments"); n != 1 {
			t.Errorf("%s: error %q names the workload %d times", tool, o.Error, n)
		}
	}
}

// trimArgs keeps only the fields a tool accepts from a superset of workload args.
func trimArgs(tool, args string) string {
	switch tool {
	case "scaleDeployment":
		return strings.Replace(args, `,"memoryLimit":"8Gi"`, "", 1)
	case "updateResources":
		return strings.Replace(args, `,"replicas":4`, "", 1)
	}
	return `{"namespace":"ai-data-labs","name":"payments"}`
}

func TestStatusOfBoundsPodsAndEvents(t *testing.T) {
	w := platform.Workload{Ref: platform.WorkloadRef{Namespace: ns, Name: "big"}, Kind: "Deployment", Replicas: 15, ReadyReplicas: 14}
	for i := range 15 {
		p := platform.Pod{Name: fmt.Sprintf("big-%02d", i), Phase: "Running", Ready: i != 14}
		if i >= 12 {
			p.WaitingReason, p.LastTerm = "CrashLoopBackOff", &platform.Termination{Reason: "OOMKilled", ExitCode: 137, FinishedAt: t0.Add(-90 * time.Second)}
		}
		w.Pods = append(w.Pods, p)
	}
	for i := range 20 {
		w.Events = append(w.Events, platform.Event{Time: t0.Add(time.Duration(i-20) * time.Minute), Type: "Normal", Reason: "R", Message: fmt.Sprintf("event %d %s", i, strings.Repeat("x", 300))})
	}
	st := tools.StatusOf(w, t0)
	if len(st.Pods) != 15 || st.PodsOmitted != 0 {
		t.Errorf("%d pods, %d omitted; want all 15", len(st.Pods), st.PodsOmitted)
	}
	if c := st.Condensed().(tools.ServiceStatus); len(c.Pods) != 10 || c.PodsOmitted != 5 || len(st.Pods) != 15 {
		t.Errorf("condensed: %d pods shown, %d omitted (whole %d); want 10 and 5, the whole kept", len(c.Pods), c.PodsOmitted, len(st.Pods))
	}
	if st.CrashLooping != 3 || st.OOMKilled != 3 {
		t.Errorf("omitted pods must still be counted: crashLooping %d oomKilled %d", st.CrashLooping, st.OOMKilled)
	}
	if len(st.Events) != 8 || !strings.HasPrefix(st.Events[7], "1m ago Normal R: event 19") || !strings.HasPrefix(st.Events[0], "8m ago") {
		t.Errorf("events %q: want the 8 newest, oldest first", st.Events)
	}
	for _, ev := range st.Events {
		if len(ev) > 200 {
			t.Errorf("event of %d chars not clipped", len(ev))
		}
	}
	if st.Status != "Degraded" {
		t.Errorf("status %q", st.Status)
	}
	for _, c := range []struct {
		replicas, ready int32
		want            string
	}{{0, 0, "ScaledToZero"}, {3, 3, "Healthy"}, {3, 0, "Down"}, {3, 1, "Degraded"}} {
		if got := tools.StatusOf(platform.Workload{Replicas: c.replicas, ReadyReplicas: c.ready}, t0).Status; got != c.want {
			t.Errorf("%d/%d ready: %q, want %q", c.ready, c.replicas, got, c.want)
		}
	}
	pod := tools.StatusOf(w, t0).Pods[0]
	if pod.LastExit != "" || pod.Waiting != "" {
		t.Errorf("healthy pod %+v", pod)
	}
}

func TestGetLogsIsBoundedAndFiltered(t *testing.T) {
	cases := []struct {
		name, scenario, args string
		maxLines, minLines   int
		each                 string // every line contains this (case-insensitive)
	}{
		{"tail and filter", "high-cpu", `{"namespace":"ai-data-labs","name":"backend","tail":3,"filter":"slow"}`, 3, 3, "slow request"},
		{"default tail is 50", "high-cpu", `{"namespace":"ai-data-labs","name":"backend"}`, 50, 50, "backend-"},
		{"filter ignores case", "clickhouse-oom", `{"namespace":"ai-data-labs","name":"clickhouse","filter":"memory_limit_exceeded","tail":5}`, 5, 1, "MEMORY_LIMIT_EXCEEDED"},
		{"one pod", "clickhouse-oom", `{"namespace":"ai-data-labs","name":"clickhouse","pod":"clickhouse-1","tail":3}`, 3, 3, "clickhouse-1: "},
		{"previous container shows the OOM", "clickhouse-oom", `{"namespace":"ai-data-labs","name":"clickhouse","previous":true,"filter":"exceeded"}`, 50, 1, "would use 6.20 GiB, maximum: 4.00 GiB"},
		{"stuck workers", "health-check-failing", `{"namespace":"ai-data-labs","name":"frontend","filter":"worker pool"}`, 50, 1, "0/64 workers free"},
		{"no match", "high-cpu", `{"namespace":"ai-data-labs","name":"backend","filter":"panic:"}`, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.scenario)
			o := e.call(autoRun(), "getLogs", c.args)
			mustStatus(t, o, tools.StatusOK)
			lt := result[tools.LogTail](t, o)
			if len(lt.Lines) > c.maxLines || len(lt.Lines) < c.minLines {
				t.Errorf("%d lines, want %d to %d", len(lt.Lines), c.minLines, c.maxLines)
			}
			for _, l := range lt.Lines {
				if !strings.Contains(strings.ToLower(l), strings.ToLower(c.each)) {
					t.Errorf("line %q does not contain %q", l, c.each)
				}
			}
			if o.Summary != fmt.Sprintf("%d log lines of %s", len(lt.Lines), lt.Target) {
				t.Errorf("summary %q", o.Summary)
			}
		})
	}
}

func TestGetLogsStaysUnderItsByteBudget(t *testing.T) {
	e := newEnv(t, "high-cpu")
	o := e.call(autoRun(), "getLogs", `{"namespace":"ai-data-labs","name":"backend","tail":200}`)
	mustStatus(t, o, tools.StatusOK)
	lt := result[tools.LogTail](t, o)
	size := 0
	for _, l := range lt.Lines {
		size += len(l)
	}
	if size > 8<<10 || len(lt.Lines) > 200 || len(lt.Lines) == 0 {
		t.Errorf("%d lines, %d bytes: over the 8 KiB / 200-line budget", len(lt.Lines), size)
	}
	if size+60 < 8<<10 && !lt.Truncated && len(lt.Lines) < 200 {
		t.Errorf("%d lines, %d bytes: neither full nor marked truncated", len(lt.Lines), size)
	}
}

func TestGetLogsOfAnUnknownPodFails(t *testing.T) {
	e := newEnv(t, "clickhouse-oom")
	o := e.call(autoRun(), "getLogs", `{"namespace":"ai-data-labs","name":"clickhouse","pod":"clickhouse-9"}`)
	mustStatus(t, o, tools.StatusFailed)
	if !strings.Contains(o.Error, `pod "clickhouse-9" of ai-data-labs/clickhouse: not found`) {
		t.Errorf("error %q", o.Error)
	}
}
