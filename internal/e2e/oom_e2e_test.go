//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// statefulSet creates a StatefulSet with one container named like it, of the
// given memory limit.
func (s *stack) statefulSet(ns, name string, replicas int32, memLimit string) {
	labels := map[string]string{"app": name}
	st := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas, ServiceName: name, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "clickhouse/clickhouse-server:26.7", Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse(memLimit)},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memLimit)}}}}}}}}
	if _, err := s.admin.AppsV1().StatefulSets(ns).Create(context.Background(), st, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// oomPods counts the pods of a StatefulSet whose status says OOMKilled.
func (s *stack) oomPods(ns, name string) (oom, ready, total int) {
	pods, err := s.admin.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, p := range pods.Items {
		total++
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if t := cs.LastTerminationState.Terminated; t != nil && t.Reason == "OOMKilled" {
				oom++
			}
		}
	}
	return oom, ready, total
}

// TestClickHouseOOMIncidentRaisesMemoryOnTheRealStack plays the spec's
// ClickHouse incident: both pods of the StatefulSet want 6.2 GiB under a
// 4 GiB limit, so the workload model OOM-kills them (restart counts and
// OOMKilled in their status on the API server); ops-skill raises the limit,
// and, since the StatefulSet controller (OrderedReady) waits for its
// crash-looping pods forever, deletes those on the old revision; the
// controller recreates them with the new limit and the kills stop.
func TestClickHouseOOMIncidentRaisesMemoryOnTheRealStack(t *testing.T) {
	start := time.Now()
	s := newStack(t, "kube", "prometheus", "workload", "clickhouse")
	binary(t)
	ns := s.namespace("e2e-oom")
	s.statefulSet(ns, "clickhouse", 2, "4Gi")
	s.load(map[string]any{"namespace": ns, "name": "clickhouse", "cpu_cores": 0.5, "memory_bytes_per_pod": 6.2 * (1 << 30),
		"requests_per_second": 20, "error_ratio": 0, "latency_seconds": 0.01})
	took := eventually(t, 2*time.Minute, "both clickhouse pods OOMKilled in their status", func() (bool, string) {
		oom, ready, total := s.oomPods(ns, "clickhouse")
		return oom == 2 && ready == 0 && total == 2, fmt.Sprintf("%d OOMKilled, %d ready of %d", oom, ready, total)
	})
	t.Logf("pods OOMKilled after %s", took.Round(time.Second))

	hook := newReceiver(t)
	// From a workstation the default matrix's clickhouse.<namespace>.svc
	// does not resolve: the user points the check at the ClickHouse they
	// reach (here the stack's real server, as a port-forward would).
	matrix := filepath.Join(t.TempDir(), "health-matrix.yaml")
	if err := os.WriteFile(matrix, []byte(fmt.Sprintf("- {service: clickhouse, type: http, target: %q}\n", strings.TrimSuffix(s.env["CLICKHOUSE_URL"], "/")+"/ping")), 0o600); err != nil {
		t.Fatal(err)
	}
	u := s.user(ns, "operations: {}\n", map[string]string{"PROMETHEUS_URL": s.env["PROMETHEUS_URL"], "ALERT_WEBHOOK": hook.srv.URL + "/services/e2e",
		"HEALTH_MATRIX_FILE": matrix})
	out, errOut, code, runTook := u.run(8*time.Minute, "-o", "json", "ClickHouse database connection failed (3 attempts)")
	t.Logf("ops-skill ran for %s (exit %d); stderr:\n%s\nsummary: %s", runTook.Round(time.Second), code, errOut, lastLine(out))

	st, err := s.admin.AppsV1().StatefulSets(ns).Get(context.Background(), "clickhouse", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lim := st.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]
	if lim.Cmp(resource.MustParse("6.2Gi")) <= 0 {
		t.Errorf("clickhouse's memory limit is %s, want above the 6.2Gi working set", lim.String())
	}
	took = eventually(t, 3*time.Minute, "clickhouse's pods rolled with the new limit, ready, none OOMKilled", func() (bool, string) {
		oom, ready, total := s.oomPods(ns, "clickhouse")
		st, err := s.admin.AppsV1().StatefulSets(ns).Get(context.Background(), "clickhouse", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return oom == 0 && ready == total && total >= 2 && st.Status.UpdatedReplicas == total32(total),
			fmt.Sprintf("%d OOMKilled, %d ready of %d, %d updated", oom, ready, total, st.Status.UpdatedReplicas)
	})
	t.Logf("pods rolled and healthy %s after the run", took.Round(time.Second))
	msgs := hook.expect(t, "clickhouse", ns, "emory")
	// The exit code and, last, the run's own account: as on the simulated
	// platform (scenario clickhouse-oom), the raise is verified and the run
	// escalated (exit 3): a raise treats the symptom, the leak needs people.
	if code != 3 {
		t.Errorf("exit %d, want 3 (escalated)\nstdout: %s", code, out)
	}
	sum := oomSummary(t, out)
	if sum.Resolution != "escalated" || sum.Verification == nil || sum.Verification.Result != "resolved" {
		t.Errorf("resolution %q, verification %+v; want escalated after a resolved verification", sum.Resolution, sum.Verification)
	}
	var recycled []string
	for _, a := range sum.Actions {
		if a.Tool == "updateResources" {
			recycled = a.Recycled
		}
	}
	if len(recycled) != 2 {
		t.Errorf("updateResources recycled %q, want both clickhouse pods", recycled)
	}
	t.Logf("exit %d, %d webhook messages, recycled %q, verification %+v; whole test %s", code, len(msgs), recycled, sum.Verification, time.Since(start).Round(time.Second))

	// Parity: the simulated clickhouse-oom scenario decides the same. Its
	// crash-looping pods, like these, serve no requests, so neither
	// platform has an error rate to add a replica on.
	u.decidesAsSimulated(out, "clickhouse-oom")
}

// oomRun is what this test reads of the summary line of a run (-o json).
type oomRun struct {
	Type       string `json:"type"`
	Resolution string `json:"resolution"`
	Actions    []struct {
		Tool     string   `json:"tool"`
		Recycled []string `json:"recycledPods"`
	} `json:"actions"`
	Verification *struct {
		Before, After, Result string
	} `json:"verification"`
}

func oomSummary(t *testing.T, out string) oomRun {
	t.Helper()
	var s oomRun
	if err := json.Unmarshal([]byte(lastLine(out)), &s); err != nil || s.Type != "summary" {
		t.Fatalf("the last line is not the summary: %v\n%s", err, out)
	}
	return s
}

func total32(n int) int32 { return int32(n) }

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}
