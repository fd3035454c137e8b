//go:build integration

// Integration tests of `ops-skill serve` (the built binary) with real
// Alertmanagers (Debian's prometheus-alertmanager, from
// scripts/testenv/alertmanager.sh) routing alerts fired through their API,
// and, for leader election, the real test cluster's Lease
// (scripts/testenv/kube.sh). The agent acts on the simulated platform
// (--simulate): what is checked here is delivery, de-duplication,
// resolution, authentication and leadership, through the shared history.
package serve_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/store"
)

const leading = "leading: acting on alerts and running the loops"

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// alertsWith returns the recorded alerts whose summary contains text.
func alertsWith(t *testing.T, st *store.Store, text string) []store.AlertRecord {
	t.Helper()
	all, err := st.ListAlerts(context.Background(), store.AlertFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AlertRecord
	for _, a := range all {
		if strings.Contains(a.Summary, text) {
			out = append(out, a)
		}
	}
	return out
}

// metric returns the text of /metrics.
func metric(t *testing.T, p *proc) string {
	t.Helper()
	resp, err := http.Get(p.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestTwoAlertmanagerPeersDeliverOnceAndResolutionClosesTheIncident fires
// the same alert into two Alertmanagers that both notify serve: one run,
// one incident; the resolution through both closes the incident.
func TestTwoAlertmanagerPeersDeliverOnceAndResolutionClosesTheIncident(t *testing.T) {
	am := testEnv(t, "alertmanager")
	dir := t.TempDir()
	token := writeToken(t, "it-"+randHex(16))
	srv := startServe(t, "serve", cleanEnv("OPS_SKILL_STATE_DIR="+dir), "--simulate", "--scenario", "clickhouse-oom",
		"--auth-token-file", token, "--no-health-loop", "--escalation-period", "0")
	peers := []string{startAlertmanager(t, am["ALERTMANAGER_BIN"], token, srv.url()), startAlertmanager(t, am["ALERTMANAGER_BIN"], token, srv.url())}
	a := amAlert{
		Labels:      map[string]string{"alertname": "ClickHouseConnectionFailed", "namespace": "ai-data-labs", "service": "clickhouse", "severity": "critical"},
		Annotations: map[string]string{"summary": "ClickHouse database connection failed (3 attempts)"},
		StartsAt:    time.Now().UTC().Add(-time.Minute).Truncate(time.Second),
	}
	for _, p := range peers {
		fire(t, p, a)
	}
	run := srv.wait("run finished", 30*time.Second)
	incident, _ := run["incident"].(string)
	if incident == "" {
		t.Fatalf("run %v opened no incident", run)
	}
	poll(t, 20*time.Second, "the second peer's delivery", func() bool {
		return strings.Contains(metric(t, srv), `ops_skill_serve_webhook_requests_total{code="200"} 1`)
	})
	st := history(t, dir)
	if got := alertsWith(t, st, "ClickHouse database connection failed"); len(got) != 1 {
		t.Fatalf("%d alert records, want 1 (two peers delivered it)", len(got))
	}

	a.EndsAt = time.Now().UTC()
	for _, p := range peers {
		fire(t, p, a)
	}
	srv.wait("incident resolved: the alert cleared", 30*time.Second, "incident", incident)
	inc, timeline, err := st.GetIncident(context.Background(), incident)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != store.StatusResolved || timeline[len(timeline)-1].Kind != "resolved" {
		t.Fatalf("incident %s: %s, last timeline entry %+v; want resolved", incident, inc.Status, timeline[len(timeline)-1])
	}
	poll(t, 20*time.Second, "both resolutions", func() bool {
		return strings.Contains(metric(t, srv), `ops_skill_serve_alerts_received_total{status="resolved"} 2`)
	})
	if n := srv.count("run finished"); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}

// TestUnauthenticatedAndOversizedRequestsAreRefused checks the refusals on
// the real binary, and an Alertmanager configured with a wrong token.
func TestUnauthenticatedAndOversizedRequestsAreRefused(t *testing.T) {
	am := testEnv(t, "alertmanager")
	dir := t.TempDir()
	token := writeToken(t, "it-"+randHex(16))
	srv := startServe(t, "serve", cleanEnv("OPS_SKILL_STATE_DIR="+dir), "--simulate", "--auth-token-file", token,
		"--no-health-loop", "--escalation-period", "0", "--max-body-bytes", "65536")
	body := []byte(`{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"BackendHighCPU","service":"backend"},"annotations":{"summary":"Backend service CPU at 85% for 5 minutes"},"fingerprint":"it1","startsAt":"2026-11-26T10:00:00Z"}]}`)
	secret := strings.TrimSpace(readFile(t, token))
	tests := []struct {
		name string
		auth string
		body []byte
		want int
	}{
		{"no credentials", "", body, http.StatusUnauthorized},
		{"wrong bearer token", "Bearer nope", body, http.StatusUnauthorized},
		{"basic credentials not configured", "Basic YWxlcnRtYW5hZ2VyOnB3", body, http.StatusUnauthorized},
		{"oversized, authenticated", "Bearer " + secret, bytes.Repeat([]byte(" "), 70000), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, srv.url()+"/webhook", bytes.NewReader(tt.body))
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	srv.wait("webhook refused: not authenticated", 5*time.Second, "why", "wrong bearer token") // the direct request's
	wrong := writeToken(t, "not-the-token-"+randHex(16))
	amURL := startAlertmanager(t, am["ALERTMANAGER_BIN"], wrong, srv.url())
	fire(t, amURL, amAlert{Labels: map[string]string{"alertname": "BackendHighCPU", "service": "backend"},
		Annotations: map[string]string{"summary": "Backend service CPU at 85% for 5 minutes"}, StartsAt: time.Now().UTC()})
	srv.wait("webhook refused: not authenticated", 20*time.Second, "why", "wrong bearer token")
	if n := srv.count("run finished"); n != 0 {
		t.Fatalf("%d runs from refused requests", n)
	}
	if got := alertsWith(t, history(t, dir), "Backend"); len(got) != 0 {
		t.Fatalf("refused requests reached the history: %+v", got)
	}
	if strings.Contains(srv.log(), secret) {
		t.Fatal("the server's log shows the token")
	}
}

// TestLeaderFailoverActsOnce runs three serve replicas on the real test
// cluster's Lease, sharing one history; one Alertmanager notifies all three.
// Killing the leader hands over without acting twice on what it handled; a
// leader paused past its renew deadline stops acting when it resumes.
func TestLeaderFailoverActsOnce(t *testing.T) {
	am := testEnv(t, "alertmanager")
	kc := testEnv(t, "kube")["KUBECONFIG"]
	lease := "ops-skill-it-" + randHex(4)
	cs := leaseClient(t, kc)
	t.Cleanup(func() {
		_ = cs.CoordinationV1().Leases("default").Delete(context.Background(), lease, metav1.DeleteOptions{})
	})
	dir := t.TempDir()
	token := writeToken(t, "it-"+randHex(16))
	env := cleanEnv("OPS_SKILL_STATE_DIR="+dir, "KUBECONFIG="+kc)
	args := []string{"--simulate", "--scenario", "high-cpu", "--auth-token-file", token, "--no-health-loop", "--escalation-period", "0",
		"--leader-election", "lease", "--lease-namespace", "default", "--lease-name", lease,
		"--lease-duration", "4s", "--renew-deadline", "2s", "--retry-period", "500ms"}
	var reps []*proc
	var urls []string
	for _, name := range []string{"r1", "r2", "r3"} {
		p := startServe(t, name, env, append(args, "--identity", name)...)
		reps, urls = append(reps, p), append(urls, p.url())
	}
	amURL := startAlertmanager(t, am["ALERTMANAGER_BIN"], token, urls...)
	st := history(t, dir)

	leader := waitLeader(t, reps, nil)
	fire(t, amURL, cpuAlertNamed("ServeFailoverA"))
	leader.wait("run finished", 30*time.Second)

	leader.signal(syscall.SIGKILL)
	second := waitLeader(t, reps, leader)
	// Alertmanager keeps retrying the replicas that answered 503; the new
	// leader accepts the retry and finds the alert handled in the ledger —
	// done, or still claimed by the killed leader if the kill came before
	// it recorded the end of its run (it may have acted: not run again).
	second.waitAny([]string{"alert already handled: not acting again",
		"alert claimed by a run that has not finished (a replica that stopped may have acted): not acting again; a delivery after the claim timeout runs it"},
		30*time.Second)
	fire(t, amURL, cpuAlertNamed("ServeFailoverB"))
	second.wait("run finished", 30*time.Second)
	// Frozen past its renew deadline, once idle: a process frozen inside a
	// write would hold the shared SQLite file's lock (see deploy/README.md).
	second.wait("delivery recorded", 10*time.Second)
	second.signal(syscall.SIGSTOP)
	third := waitLeader(t, reps, leader, second)
	fire(t, amURL, cpuAlertNamed("ServeFailoverC"))
	third.wait("run finished", 30*time.Second)
	runsBefore := second.count("run finished")
	second.signal(syscall.SIGCONT)
	second.wait("not leading any more: stopped acting", 15*time.Second)

	for _, name := range []string{"ServeFailoverA", "ServeFailoverB", "ServeFailoverC"} {
		recs := alertsWith(t, st, name)
		if len(recs) != 1 {
			t.Errorf("%s: %d alert records, want exactly 1", name, len(recs))
		}
	}
	scales, err := st.ListScaleEvents(context.Background(), store.ScaleFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	perAlert := map[int64]int{}
	for _, s := range scales {
		perAlert[s.AlertID]++
	}
	if len(scales) != 3 || len(perAlert) != 3 {
		t.Errorf("scale events %+v, want one per alert", scales)
	}
	if n := second.count("run finished"); n != runsBefore {
		t.Errorf("the paused leader ran %d alerts after it resumed", n-runsBefore)
	}
}

// cpuAlertNamed is a backend CPU alert with its own name (and fingerprint).
func cpuAlertNamed(name string) amAlert {
	return amAlert{
		Labels:      map[string]string{"alertname": name, "namespace": "ai-data-labs", "service": "backend", "severity": "warning"},
		Annotations: map[string]string{"summary": "Backend service CPU at 85% for 5 minutes (" + name + ")"},
		StartsAt:    time.Now().UTC().Add(-time.Minute).Truncate(time.Second),
	}
}

// waitLeader waits until one replica, not among skip, leads.
func waitLeader(t *testing.T, reps []*proc, skip ...*proc) *proc {
	t.Helper()
	var found *proc
	poll(t, 30*time.Second, "a leader", func() bool {
		for _, p := range reps {
			skipped := false
			for _, s := range skip {
				skipped = skipped || s == p
			}
			if !skipped && p.count(leading) > p.count("not leading any more: stopped acting") {
				found = p
				return true
			}
		}
		return false
	})
	return found
}

func leaseClient(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	conn, err := kube.LoadConfig(kube.ConnectOptions{Kubeconfig: kubeconfig, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(conn.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
