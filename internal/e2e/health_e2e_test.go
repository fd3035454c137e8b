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
	// A one-off run confirms a failing check by probing it again each
	// interval until the restart threshold (3): 10s here instead of the
	// default 30s keeps the test short.
	c := s.stuckFrontendCase("e2e-health", 10*time.Second)
	ns, hook, health, probes := c.ns, c.hook, c.health, c.probes
	u := s.user(ns, "operations: {}\n", map[string]string{"PROMETHEUS_URL": s.env["PROMETHEUS_URL"], "ALERT_WEBHOOK": hook.srv.URL + "/services/e2e",
		"HEALTH_MATRIX_FILE": c.matrix})
	const alertText = "Frontend health check failed: GET /health returned 503 for 3 consecutive checks"
	out, errOut, code, runTook := u.run(8*time.Minute, "-o", "json", alertText)
	t.Logf("ops-skill ran for %s (exit %d), %d health probes; stderr:\n%s", runTook.Round(100*time.Millisecond), code, probes.Load(), errOut)

	if s.checkRolledOut(ns, c.old, health.URL) == "" {
		t.Logf("stdout: %s", out)
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

// stuckCase is frontend with 3 ready pods whose /health is stuck
// (stuckFrontend), a webhook receiver, and a health matrix that probes the
// stuck /health every interval.
type stuckCase struct {
	ns     string
	old    []corev1.Pod // frontend's pods before the fault
	health *httptest.Server
	probes *atomic.Int64
	hook   *receiver
	matrix string // the HEALTH_MATRIX_FILE
}

func (s *stack) stuckFrontendCase(prefix string, interval time.Duration) stuckCase {
	t := s.t
	t.Helper()
	c := stuckCase{ns: s.namespace(prefix), hook: newReceiver(t), matrix: filepath.Join(t.TempDir(), "health-matrix.yaml")}
	s.deployment(c.ns, "frontend", 3, "500m", "512Mi")
	s.load(map[string]any{"namespace": c.ns, "name": "frontend", "cpu_cores": 0.6, "memory_bytes_per_pod": 200 << 20,
		"requests_per_second": 50, "error_ratio": 0.001, "latency_seconds": 0.03})
	s.waitReady(c.ns, "frontend", 3)
	old, err := s.admin.CoreV1().Pods(c.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=frontend"})
	if err != nil {
		t.Fatal(err)
	}
	c.old = old.Items
	c.health, c.probes = s.stuckFrontend(c.ns, time.Now())
	row := fmt.Sprintf("- {service: frontend, type: http, target: %q, interval: %s}\n", c.health.URL+"/health", interval)
	if err := os.WriteFile(c.matrix, []byte(row), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// checkRolledOut asserts a rollout restart of ns/frontend that cured it:
// its template carries the restart, none of the pods in old is left and
// /health answers 200. It returns the restart's restartedAt annotation.
func (s *stack) checkRolledOut(ns string, old []corev1.Pod, healthURL string) string {
	t := s.t
	t.Helper()
	d := s.getDeployment(ns, "frontend")
	restarted := d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"]
	if restarted == "" {
		t.Errorf("frontend's template has no restartedAt annotation: %v", d.Spec.Template.Annotations)
	}
	s.waitReady(ns, "frontend", 3)
	now, err := s.admin.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=frontend"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range now.Items {
		for _, o := range old {
			if p.UID == o.UID && p.DeletionTimestamp == nil {
				t.Errorf("pod %s from before the restart is still there", p.Name)
			}
		}
	}
	resp, err := http.Get(healthURL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/health answers %s after the restart, want 200", resp.Status)
	}
	return restarted
}

// TestServesHealthLoopRestartsAStuckFrontendOnTheRealStack: serve's own
// health loop (not an alert) probes frontend's /health every 5s; at the
// third failure in a row the ladder says restart, and serve restarts the
// rollout once on the real cluster, verifies it and says so on the
// webhook. Rounds after the cure find it healthy and do nothing more.
func TestServesHealthLoopRestartsAStuckFrontendOnTheRealStack(t *testing.T) {
	t.Parallel()
	s := newStack(t, "kube", "prometheus", "workload")
	binary(t)
	c := s.stuckFrontendCase("e2e-healthloop", 5*time.Second)
	ns, hook, health, probes := c.ns, c.hook, c.health, c.probes
	u := s.user(ns, "operations:\n  agent:\n    mode: auto\n", map[string]string{"PROMETHEUS_URL": s.env["PROMETHEUS_URL"],
		"ALERT_WEBHOOK": hook.srv.URL + "/services/e2e", "HEALTH_MATRIX_FILE": c.matrix, "HEALTH_CHECK_INTERVAL": "5s"})
	start := time.Now()
	// The last --no-health-loop given wins: this one turns the loop back on.
	srv := u.serve(tokenFile(t), "--no-health-loop=false", "--scale-period", "0", "--escalation-period", "0", "--lease-namespace", ns)

	run := srv.wait(5*time.Minute, "run finished")
	t.Logf("serve started → the health loop's run finished after %s, %d probes: %v", time.Since(start).Round(time.Second), probes.Load(), run)
	if run["resolution"] != "resolved" || run["target"] != ns+"/frontend" {
		t.Errorf("serve's run: resolution %v on %v, want resolved on %s/frontend", run["resolution"], run["target"], ns)
	}
	restarted := s.checkRolledOut(ns, c.old, health.URL)
	hook.expect(t, "rollout restart "+ns+"/frontend")

	// Three more rounds find frontend healthy: no other run, restart or message.
	after := probes.Load()
	eventually(t, time.Minute, "three more health rounds", func() (bool, string) {
		return probes.Load() >= after+3, fmt.Sprintf("%d probes since", probes.Load()-after)
	})
	if n := srv.count("run finished"); n != 1 {
		t.Errorf("%d runs finished, want 1: the health loop acted again on a healthy frontend", n)
	}
	if now := s.getDeployment(ns, "frontend").Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"]; now != restarted {
		t.Errorf("frontend restarted again: restartedAt %q, then %q", restarted, now)
	}
	if msgs := hook.received(); len(msgs) != 1 {
		t.Errorf("%d webhook messages, want 1 (the restart): %q", len(msgs), msgs)
	}
}
