//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/testenv"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// served is an `ops-skill serve` process of a user, its JSON log lines
// read as they come.
type served struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string

	mu    sync.Mutex
	lines []map[string]any
	raw   strings.Builder
}

// serve starts `ops-skill serve` as the user, with the token file that
// Alertmanager sends, and waits until it listens.
func (u *user) serve(token string, args ...string) *served {
	u.t.Helper()
	cmd := exec.Command(binary(u.t), append([]string{"serve", "--listen", "127.0.0.1:0", "--auth-token-file", token, "--no-health-loop"}, args...)...)
	cmd.Env, cmd.Dir = u.env, u.home
	stderr, err := cmd.StderrPipe()
	if err != nil {
		u.t.Fatal(err)
	}
	s := &served{t: u.t, cmd: cmd}
	if err := cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			_ = json.Unmarshal(sc.Bytes(), &m)
			s.mu.Lock()
			s.raw.WriteString(sc.Text() + "\n")
			if m != nil {
				s.lines = append(s.lines, m)
			}
			s.mu.Unlock()
		}
	}()
	u.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
		if u.t.Failed() {
			u.t.Logf("serve log:\n%s", s.log())
		}
	})
	s.addr = fmt.Sprint(s.wait(30*time.Second, "serving")["address"])
	return s
}

func (s *served) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

// wait waits for a log line whose message starts with msg.
func (s *served) wait(timeout time.Duration, msg string) map[string]any {
	s.t.Helper()
	var got map[string]any
	eventually(s.t, timeout, "serve logs "+msg, func() (bool, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, m := range s.lines {
			if strings.HasPrefix(fmt.Sprint(m["msg"]), msg) {
				got = m
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d lines", len(s.lines))
	})
	return got
}

// alertmanager starts an Alertmanager of the test stack's binary that
// routes every alert to each of the webhooks with the bearer token in
// tokenFile, grouped and repeated as route says (testenv.StartAlertmanager).
func (s *stack) alertmanager(tokenFile string, route testenv.AlertmanagerRoute, webhooks ...string) string {
	s.t.Helper()
	return testenv.StartAlertmanager(s.t, s.env["ALERTMANAGER_BIN"], tokenFile, route, webhooks...)
}

// fire posts one alert to Alertmanager's API v2.
func fire(t *testing.T, amURL string, labels, annotations map[string]string) {
	t.Helper()
	b, _ := json.Marshal([]map[string]any{{"labels": labels, "annotations": annotations, "startsAt": time.Now().UTC().Add(-5 * time.Minute).Format(time.RFC3339)}})
	resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s %s", resp.Status, body)
	}
}

// tokenFile writes a bearer token only its owner can read.
func tokenFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("e2e-%d-%s", time.Now().UnixNano(), strings.Repeat("x", 32))), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// withCPUHistory sets a backend's load and waits until Prometheus has CPU
// above (or below) the threshold from before the guard's window.
func (s *stack) withCPUHistory(ns string, cores float64, window time.Duration, ok func(float64) bool) {
	s.t.Helper()
	s.load(map[string]any{"namespace": ns, "name": "backend", "cpu_cores": cores, "memory_bytes_per_pod": 256 << 20,
		"requests_per_second": 100, "error_ratio": 0.001, "latency_seconds": 0.05})
	took := eventually(s.t, 6*time.Minute, "Prometheus has the CPU history of "+ns+"/backend", func() (bool, string) {
		v, found := s.promValue(cpuQuery(ns), time.Now().Add(-window-15*time.Second))
		return found && ok(v), fmt.Sprintf("%v (result: %v)", v, found)
	})
	s.t.Logf("%s: CPU history covered the window after %s", ns, took.Round(time.Second))
}

// TestAlertmanagerDeliversAKubePrometheusAlertToServe: Alertmanager
// delivers kube-prometheus' CPUThrottlingHigh, with its real labels (a pod
// and a container, no workload), to `ops-skill serve` on the real stack;
// serve resolves the pod to its Deployment through the API server, scales
// it from 3 to 4 under the guard, verifies it on Prometheus and notifies.
func TestAlertmanagerDeliversAKubePrometheusAlertToServe(t *testing.T) {
	t.Parallel()
	s := newStack(t, "kube", "prometheus", "workload", "alertmanager")
	binary(t)
	ns := s.namespace("e2e-serve")
	s.deployment(ns, "backend", 3, "1", "1Gi")
	s.waitReady(ns, "backend", 3)
	const window = 30 * time.Second
	s.withCPUHistory(ns, 2.55, window, func(v float64) bool { return v > 84 })

	hook := newReceiver(t)
	u := s.user(ns, "operations:\n  auto_scaling:\n    scale_up_duration: 30s\n  agent:\n    mode: auto\n",
		map[string]string{"PROMETHEUS_URL": s.env["PROMETHEUS_URL"], "ALERT_WEBHOOK": hook.srv.URL + "/services/e2e"})
	token := tokenFile(t)
	srv := u.serve(token, "--scale-period", "0", "--lease-namespace", ns)
	am := s.alertmanager(token, testenv.AlertmanagerRoute{GroupBy: []string{"alertname", "namespace", "pod"}, Repeat: time.Hour}, "http://"+srv.addr)
	pods, err := s.admin.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=backend"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("backend's pods: %v (%d)", err, len(pods.Items))
	}
	pod := pods.Items[0].Name
	start := time.Now()
	fire(t, am, map[string]string{"alertname": "CPUThrottlingHigh", "namespace": ns, "pod": pod, "container": "app", "severity": "info",
		"prometheus": "monitoring/k8s", "job": "kubelet"},
		map[string]string{"description": fmt.Sprintf("85%% throttling of CPU in namespace %s for container app in pod %s.", ns, pod),
			"runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/cputhrottlinghigh", "summary": "Processes experience elevated CPU throttling."})

	run := srv.wait(5*time.Minute, "run finished")
	t.Logf("alert delivered → run finished after %s: %v", time.Since(start).Round(time.Second), run)
	if d := s.getDeployment(ns, "backend"); *d.Spec.Replicas != 4 {
		t.Errorf("backend has spec.replicas %d after the alert, want 4", *d.Spec.Replicas)
	}
	s.waitReady(ns, "backend", 4)
	if run["resolution"] != "resolved" || run["target"] != ns+"/backend" {
		t.Errorf("serve's run: resolution %v on %v, want resolved on %s/backend", run["resolution"], run["target"], ns)
	}
	hook.expect(t, ns+"/backend from 3 to 4 replicas")
}

// TestServesScalingLoopScalesAnIdleBackendDown: backend at 4 replicas
// uses 10% of its CPU requests for longer than the scale-down window;
// serve's scaling loop scales it down one step, to 3, on the real cluster,
// and says so on the webhook.
func TestServesScalingLoopScalesAnIdleBackendDown(t *testing.T) {
	t.Parallel()
	s := newStack(t, "kube", "prometheus", "workload")
	binary(t)
	ns := s.namespace("e2e-down")
	s.deployment(ns, "backend", 4, "1", "1Gi")
	s.waitReady(ns, "backend", 4)
	const window = 30 * time.Second
	s.withCPUHistory(ns, 0.4, window, func(v float64) bool { return v < 20 })

	hook := newReceiver(t)
	u := s.user(ns, "operations:\n  auto_scaling:\n    scale_down_duration: 30s\n    min_replicas: 2\n  agent:\n    mode: auto\n",
		map[string]string{"PROMETHEUS_URL": s.env["PROMETHEUS_URL"], "ALERT_WEBHOOK": hook.srv.URL + "/services/e2e"})
	start := time.Now()
	srv := u.serve(tokenFile(t), "--scale-workload", ns+"/backend", "--scale-period", "5s", "--lease-namespace", ns)
	line := srv.wait(3*time.Minute, "scaling loop: scale "+ns+"/backend from 4 to 3")
	t.Logf("scale-down %s after %s", line["msg"], time.Since(start).Round(time.Second))
	if d := s.getDeployment(ns, "backend"); *d.Spec.Replicas > 3 || *d.Spec.Replicas < 2 {
		t.Errorf("backend has spec.replicas %d, want 3 (one step down), never below min_replicas 2", *d.Spec.Replicas)
	}
	eventually(t, 30*time.Second, "the webhook message of the scale-down", func() (bool, string) {
		for _, m := range hook.received() {
			if strings.Contains(m, "Scaling loop: scale "+ns+"/backend from 4 to 3") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%q", hook.received())
	})
}
