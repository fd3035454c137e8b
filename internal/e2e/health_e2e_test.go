//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// stuckFrontend is frontend's /health as a port-forward reaches it: every
// pod started before the worker pool got stuck answers 503, a pod started
// after answers 200 — the fault a rollout restart cures. It reads the pods
// from the API server on each probe, so the answer follows the cluster.
func (s *stack) stuckFrontend(ns string, stuckAt time.Time) (*httptest.Server, *atomic.Int64) {
	var probes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probes.Add(1)
		pods, err := s.admin.CoreV1().Pods(ns).List(r.Context(), metav1.ListOptions{LabelSelector: "app=frontend"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && podReady(p) && p.CreationTimestamp.Time.Before(stuckAt) {
				http.Error(w, "worker pool exhausted", http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = fmt.Fprintln(w, "ok")
	}))
	s.t.Cleanup(srv.Close)
	return srv, &probes
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TestFailingHealthCheckIsFixedByARolloutRestartOnTheRealStack plays the
// spec's failing health check: frontend's /health answers 503 on every
// pod; ops-skill, run as a user runs it with its health matrix pointed at
// the frontend it reaches, restarts the rollout; the Deployment's pods are
// replaced (the restart annotation on the template, none of the old pods
// left), /health answers 200, the verification sees it and the webhook
// says so. Then the same binary on the simulated platform's
// health-check-failing scenario decides the same.
func TestFailingHealthCheckIsFixedByARolloutRestartOnTheRealStack(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := newStack(t, "kube", "prometheus", "workload")
	binary(t)
	ns := s.namespace("e2e-health")
	s.deployment(ns, "frontend", 3, "500m", "512Mi")
	s.load(map[string]any{"namespace": ns, "name": "frontend", "cpu_cores": 0.6, "memory_bytes_per_pod": 200 << 20,
		"requests_per_second": 50, "error_ratio": 0.001, "latency_seconds": 0.03})
	s.waitReady(ns, "frontend", 3)
	old, err := s.admin.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=frontend"})
	if err != nil {
		t.Fatal(err)
	}
	health, probes := s.stuckFrontend(ns, time.Now())

	hook := newReceiver(t)
	matrix := filepath.Join(t.TempDir(), "health-matrix.yaml")
	// A one-off run confirms a failing check by probing it again each
	// interval until the restart threshold (3): 10s here instead of the
	// default 30s keeps the test short.
	if err := os.WriteFile(matrix, []byte(fmt.Sprintf("- {service: frontend, type: http, target: %q, interval: 10s}\n", health.URL+"/health")), 0o600); err != nil {
		t.Fatal(err)
	}
	u := s.user(ns, "operations: {}\n", map[string]string{"PROMETHEUS_URL": s.env["PROMETHEUS_URL"], "ALERT_WEBHOOK": hook.srv.URL + "/services/e2e",
		"HEALTH_MATRIX_FILE": matrix})
	const alertText = "Frontend health check failed: GET /health returned 503 for 3 consecutive checks"
	out, errOut, code, runTook := u.run(8*time.Minute, "-o", "json", alertText)
	t.Logf("ops-skill ran for %s (exit %d), %d health probes; stderr:\n%s", runTook.Round(100*time.Millisecond), code, probes.Load(), errOut)

	// The cluster: the template carries the restart, and none of the old
	// pods is left.
	d := s.getDeployment(ns, "frontend")
	if d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Errorf("frontend's template has no restartedAt annotation: %v\nstdout: %s", d.Spec.Template.Annotations, out)
	}
	s.waitReady(ns, "frontend", 3)
	now, err := s.admin.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=frontend"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range now.Items {
		for _, o := range old.Items {
			if p.UID == o.UID && p.DeletionTimestamp == nil {
				t.Errorf("pod %s from before the restart is still there", p.Name)
			}
		}
	}
	// The endpoint itself answers again.
	resp, err := http.Get(health.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/health answers %s after the run, want 200", resp.Status)
	}
	hook.expect(t, "rollout restart "+ns+"/frontend")
	if code != 0 {
		t.Errorf("exit %d, want 0\nstdout: %s", code, out)
	}
	sum := lastSummary(t, out)
	sum.checkResolved(t, ns, "")
	t.Logf("verification %+v; time to resolution %.1fs; whole test %s", sum.Verification, sum.TimeToResolution, time.Since(start).Round(time.Second))

	u.decidesAsSimulated(out, "health-check-failing")
}
