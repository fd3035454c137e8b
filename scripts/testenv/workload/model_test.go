package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func backendPods(ready int) Cluster {
	var c Cluster
	for i := 0; i < ready; i++ {
		c.Pods = append(c.Pods, Pod{Namespace: "shop", Name: fmt.Sprintf("backend-abcde-%05d", i), Workload: "backend", OwnerKind: "Deployment",
			Running: true, Ready: true, Containers: []Container{{Name: "app", CPURequest: 1, MemLimit: 1 << 30}}})
	}
	return c
}

// value returns the sample of a series in the exposition text.
func value(t *testing.T, text, series string) string {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if s, v, ok := strings.Cut(l, "} "); ok && s+"}" == series {
			return v
		}
	}
	t.Fatalf("no %s in\n%s", series, text)
	return ""
}

func TestReadyPodsShareTheCPUDemand(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewModel(Scenario{Workloads: []Load{{Namespace: "shop", Name: "backend", CPUCores: 2.55}}}, t0)
	three, four := backendPods(3), backendPods(4)
	m.Render(three, t0)
	out := m.Render(three, t0.Add(10*time.Second))
	cpu := `container_cpu_usage_seconds_total{namespace="shop",pod="backend-abcde-00000",container="app"}`
	if got := value(t, out, cpu); got != "8.5" {
		t.Errorf("after 10s at 3 ready pods: %s cpu seconds, want 8.5", got)
	}
	m.Render(four, t0.Add(10*time.Second)) // the fourth pod appears
	out = m.Render(four, t0.Add(20*time.Second))
	if got := value(t, out, cpu); got != "14.875" {
		t.Errorf("10s more at 4 ready pods: %s cpu seconds, want 8.5+6.375", got)
	}
}

func TestMemoryOverTheLimitIsKilled(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewModel(Scenario{Workloads: []Load{{Namespace: "shop", Name: "backend", MemoryBytesPerPod: 2 << 30}}}, t0)
	c := backendPods(1)
	m.Render(c, t0)
	out := m.Render(c, t0.Add(25*time.Second))
	ctr := `{namespace="shop",pod="backend-abcde-00000",container="app"`
	if got := value(t, out, "kube_pod_container_status_restarts_total"+ctr+"}"); got != "2" {
		t.Errorf("restarts after 25s over the limit: %s, want 2", got)
	}
	if got := value(t, out, "container_memory_working_set_bytes"+ctr+`,image=""}`); got != fmtFloat(1<<30) {
		t.Errorf("working set %s, want the limit", got)
	}
}

func TestUnlistedWorkloadsHaveNoSeries(t *testing.T) {
	m := NewModel(Scenario{}, time.Now())
	if out := m.Render(backendPods(3), time.Now()); out != "" {
		t.Errorf("series for a workload the scenario does not name:\n%s", out)
	}
}
