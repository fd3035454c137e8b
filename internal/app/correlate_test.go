package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/notify"
	"github.com/duet-company/ops-skill/internal/store"
)

// twoPods is one Alertmanager notification with an alert for each of two
// pods of backend: one subject.
const twoPods = `{"version":"4","groupKey":"{}:{alertname=\"BackendHighCPU\"}","status":"firing","receiver":"ops-skill",
"groupLabels":{"alertname":"BackendHighCPU"},"commonLabels":{"alertname":"BackendHighCPU","namespace":"ai-data-labs","service":"backend"},
"commonAnnotations":{},"externalURL":"http://alertmanager.example:9093","truncatedAlerts":0,"alerts":[
{"status":"firing","labels":{"pod":"backend-0"},"annotations":{"summary":"Backend service CPU at 85% for 5 minutes (backend-0)"},
 "startsAt":"2026-02-16T09:25:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"1111111111111111"},
{"status":"firing","labels":{"pod":"backend-1"},"annotations":{"summary":"Backend service CPU at 85% for 5 minutes (backend-1)"},
 "startsAt":"2026-02-16T09:25:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"2222222222222222"}]}`

// TestAlertsOfOneSubjectInOnePayloadShareOneIncidentAndOnePage runs a
// payload with two alerts about one workload: they run in sequence, the
// second joins the incident the first opened, and Slack and PagerDuty hear
// of it once. Another invocation (a new simulated platform) opens its own.
func TestAlertsOfOneSubjectInOnePayloadShareOneIncidentAndOnePage(t *testing.T) {
	slack, pager := newReceiver(t), newReceiver(t)
	h := newHarness(t)
	h.env["ALERT_WEBHOOK"], h.env["PAGERDUTY_ROUTING_KEY"], h.env["PAGERDUTY_URL"] = slack.srv.URL+"/services/x", "routing-key-0123456789", pager.srv.URL
	file := filepath.Join(t.TempDir(), "two-pods.json")
	if err := os.WriteFile(file, []byte(twoPods), 0o600); err != nil {
		t.Fatal(err)
	}
	h.run("--notify", "--scenario", "high-cpu-max-replicas", "--alert-file", file)
	if !strings.Contains(h.out.String(), "Joined the open incident ticket: ") || !strings.Contains(h.out.String(), "Notification not repeated: the notification for incident ") {
		t.Errorf("the transcript does not say the second alert joined and was not notified again:\n%s", h.out.String())
	}
	if got := slack.received(); len(got) != 1 || strings.Count(got[0], `\nIncident: INC-`) != 1 {
		t.Errorf("Slack received %d posts, want one message: %q", len(got), got)
	}
	pages := pager.received()
	if len(pages) != 1 || !strings.Contains(pages[0], `"event_action":"trigger"`) {
		t.Fatalf("PagerDuty received %d events, want one trigger: %q", len(pages), pages)
	}
	st, err := store.Open(context.Background(), filepath.Join(h.env["OPS_SKILL_STATE_DIR"], "history.db"), testingclock.NewFakeClock(goldenStart))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	incs, err := st.ListIncidents(context.Background(), false, 10)
	if err != nil || len(incs) != 1 {
		t.Fatalf("%d incidents (%v), want 1", len(incs), err)
	}
	var page struct {
		DedupKey string `json:"dedup_key"`
	}
	want := notify.DedupScope{Store: st.Identity(), Cluster: store.EnvSimulated}.Key(incs[0].ID)
	if err := json.Unmarshal([]byte(pages[0]), &page); err != nil || page.DedupKey != want {
		t.Errorf("page dedup key %q (%v), want %s", page.DedupKey, err, want)
	}
	_, timeline, err := st.GetIncident(context.Background(), incs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	joined := 0
	for _, e := range timeline {
		if strings.HasPrefix(e.Text, "alert joined: Backend service CPU at 85% for 5 minutes (backend-1)") {
			joined++
		}
	}
	if joined != 1 {
		t.Errorf("timeline %+v, want the second alert joined once", timeline)
	}

	h.run("--scenario", "high-cpu-max-replicas", "--alert-file", file) // a new simulated platform
	if incs, _ := st.ListIncidents(context.Background(), false, 10); len(incs) != 2 {
		t.Errorf("%d incidents after a second invocation, want 2: a simulated platform never joins another's incident", len(incs))
	}
}
