package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// t0 is the start of the simulated incidents (the fake clock's origin).
var t0 = time.Date(2026, 11, 26, 19, 40, 24, 0, time.UTC)

// answer is what a test receiver replies.
type answer struct {
	status     int
	body       string
	retryAfter string
	hang       bool
}

// request is what a test receiver got.
type request struct {
	Path   string
	Header http.Header
	Body   []byte
}

// receiver is an httptest server answering from a script, indexed by the
// number of the request (0-based); past the script it repeats the last answer.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []request
	script  func(i int, r request) answer
	hung    chan struct{}
	release chan struct{}
}

func newReceiver(t *testing.T, script func(i int, r request) answer) *receiver {
	t.Helper()
	rc := &receiver{script: script, hung: make(chan struct{}, 64), release: make(chan struct{})}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(func() {
		close(rc.release)
		rc.Close()
	})
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := request{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body}
	rc.mu.Lock()
	i := len(rc.got)
	rc.got = append(rc.got, req)
	rc.mu.Unlock()
	a := rc.script(i, req)
	if a.hang {
		rc.hung <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-rc.release:
		}
		return
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(a.body))
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.got...)
}

// always answers every request the same way.
func always(status int, body string) func(int, request) answer {
	return func(int, request) answer { return answer{status: status, body: body} }
}

// drive advances the fake clock while the dispatchers wait on it: to the
// earliest wake-up of a sleeping dispatcher when every one is parked (so
// none is between reading the clock and arming its timer),
// and, each time a receiver reports a hanging request, to the end of the
// attempt (the dispatcher's timeout fires). It returns when done is closed.
// It never sleeps.
func drive(t *testing.T, fc *testingclock.FakeClock, done <-chan struct{}, hung <-chan struct{}, ds ...*Dispatcher) {
	t.Helper()
	limit := time.Now().Add(30 * time.Second) // real-time safety net against a stuck test
	for {
		select {
		case <-done:
			return
		case <-hung:
			for _, d := range ds {
				if s := d.snapshot(); s.inflight && s.attemptUntil.After(fc.Now()) {
					fc.SetTime(s.attemptUntil)
				}
			}
			continue
		default:
		}
		var wake time.Time
		busy := false
		for _, d := range ds {
			s := d.snapshot()
			busy = busy || !s.parked
			if s.sleeping && (wake.IsZero() || s.sleepUntil.Before(wake)) {
				wake = s.sleepUntil
			}
		}
		if !busy && !wake.IsZero() && wake.After(fc.Now()) {
			fc.SetTime(wake)
		}
		if time.Now().After(limit) {
			t.Fatalf("test stuck: virtual time %s", fc.Now().Sub(t0))
		}
		runtime.Gosched()
	}
}

// run calls f in a goroutine while driving the clock, and returns when f does.
func run(t *testing.T, fc *testingclock.FakeClock, f func(), ds ...*Dispatcher) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	drive(t, fc, done, nil, ds...)
}

// golden compares got (JSON) with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, buf.String())
	}
}

// The spec's three incidents, as the agent builds their notifications
// (agent/notify.go: Title, "Alert:", "Action:", "Verification:", "Escalated
// to engineering", "Incident:" lines, Fields, Links, Severity, Escalate),
// with the structured fields the agent fills as well. Texts are those of
// `ops-skill --simulate --output json` on the three scenarios.
const (
	grafanaBase  = "http://grafana.example:3000"
	generatorURL = "http://prometheus.example:9090/graph?g0.expr=container_memory_working_set_bytes&g0.tab=1"
)

func cpuIncident() platform.Notification {
	return platform.Notification{
		Severity: "info", Service: "backend",
		Title: "ops-skill: Scaled ai-data-labs/backend from 3 to 4 replicas",
		Text: "Alert: Alert: Backend service CPU at 85% for 5 minutes\n" +
			"Action: scale ai-data-labs/backend from 3 to 4 replicas\n" +
			"Verification: resolved — CPU after 2m: 45% (was 85%)",
		Fields: map[string]string{"verification": "resolved"},
		Links:  map[string]string{"dashboard": ExploreURL(grafanaBase, "ai-data-labs", "backend")},
		Alert:  "Alert: Backend service CPU at 85% for 5 minutes", Target: "ai-data-labs/backend", State: platform.NotifyResolved,
		Actions: []platform.NotificationAction{{Tool: "scaleDeployment", Target: "ai-data-labs/backend", Status: StatusExecuted,
			Summary: "scale ai-data-labs/backend from 3 to 4 replicas", From: "3", To: "4", At: t0}},
		VerificationDetail: "CPU after 2m: 45% (was 85%)", TimeToResolution: 2 * time.Minute, At: t0.Add(2 * time.Minute),
	}
}

func oomIncident() platform.Notification {
	return platform.Notification{
		Severity: "critical", Service: "clickhouse", IncidentID: "INC-2026-11-26-001", Escalate: true,
		Title: "ops-skill: Raised the memory limit of ai-data-labs/clickhouse from 4Gi to 8Gi, then scaled ai-data-labs/clickhouse from 2 to 3 replicas; escalated to engineering",
		Text: "Alert: ClickHouse database connection failed (3 attempts)\n" +
			"Action: raise the memory limit of ai-data-labs/clickhouse (container clickhouse) from 4Gi to 8Gi\n" +
			"Action: scale ai-data-labs/clickhouse from 2 to 3 replicas\n" +
			"Verification: resolved — Pods after 2m: 3/3 ready, Healthy; tcp 8123 ok (was 0/2 ready, Down)\n" +
			"Escalated to engineering\nIncident: INC-2026-11-26-001",
		Fields: map[string]string{"verification": "resolved"},
		Links:  map[string]string{"dashboard": ExploreURL(grafanaBase, "ai-data-labs", "clickhouse"), "alert": generatorURL},
		Alert:  "ClickHouse database connection failed (3 attempts)", Target: "ai-data-labs/clickhouse", State: platform.NotifyEscalated,
		Actions: []platform.NotificationAction{
			{Tool: "updateResources", Target: "ai-data-labs/clickhouse", Status: StatusExecuted,
				Summary: "raise the memory limit of ai-data-labs/clickhouse (container clickhouse) from 4Gi to 8Gi", From: "4Gi", To: "8Gi", At: t0},
			{Tool: "scaleDeployment", Target: "ai-data-labs/clickhouse", Status: StatusExecuted,
				Summary: "scale ai-data-labs/clickhouse from 2 to 3 replicas", From: "2", To: "3", At: t0.Add(time.Second)}},
		VerificationDetail: "Pods after 2m: 3/3 ready, Healthy; tcp 8123 ok (was 0/2 ready, Down)",
		TimeToResolution:   2 * time.Minute, At: t0.Add(2 * time.Minute),
	}
}

// oomCleared is the later notification that the escalated target is healthy.
func oomCleared() platform.Notification {
	return platform.Notification{
		Severity: "info", Service: "clickhouse", IncidentID: "INC-2026-11-26-001",
		Title:  "ops-skill: Resolved: ClickHouse database connection failed (3 attempts)",
		Text:   "Alert: ClickHouse database connection failed (3 attempts)\nVerification: resolved — alert cleared\nIncident: INC-2026-11-26-001",
		Fields: map[string]string{"verification": "resolved"}, Target: "ai-data-labs/clickhouse", State: platform.NotifyResolved,
		At: t0.Add(time.Hour),
	}
}

func diskIncident() platform.Notification {
	return platform.Notification{
		Severity: "info", Service: "clickhouse",
		Title: "ops-skill: Dropped 5 partitions of analytics.events older than 90d, freeing 200 GB",
		Text: "Alert: Database disk usage at 85%\n" +
			"Action: drop 5 partitions of analytics.events older than 90d (200 GB)\n" +
			"Verification: resolved — Disk usage after 2m: 65% (650.01 GB / 1 TB) (was 85% (850 GB / 1 TB))",
		Fields: map[string]string{"verification": "resolved"},
		Links:  map[string]string{"dashboard": ExploreURL(grafanaBase, "ai-data-labs", "clickhouse")},
		Alert:  "Database disk usage at 85%", Target: "ai-data-labs/clickhouse", State: platform.NotifyResolved,
		Actions: []platform.NotificationAction{{Tool: "dropPartitions", Target: "ai-data-labs/clickhouse", Status: StatusExecuted,
			Summary: "drop 5 partitions of analytics.events older than 90d (200 GB)", At: t0}},
		VerificationDetail: "Disk usage after 2m: 65% (650.01 GB / 1 TB) (was 85% (850 GB / 1 TB))",
		TimeToResolution:   2 * time.Minute, At: t0.Add(2 * time.Minute),
	}
}

// legacy strips the structured fields, leaving what today's agent sends.
func legacy(n platform.Notification) platform.Notification {
	return platform.Notification{Severity: n.Severity, Title: n.Title, Text: n.Text, Service: n.Service,
		IncidentID: n.IncidentID, Fields: n.Fields, Links: n.Links, Escalate: n.Escalate}
}

func contains(s string, subs ...string) string {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}
