package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/notify"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// concurrentRuns handles the harness's alert n times at once, on its one
// simulated platform and history, and returns the summaries.
func concurrentRuns(h *harness, n int) []agent.Summary {
	sums := make([]agent.Summary, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			sums[i] = h.agent.Handle(context.Background(), h.alert)
		})
	}
	close(start)
	wg.Wait()
	return sums
}

// oneIncident checks that every run names the same incident, the only one
// in history, with every joining run's alert on its timeline.
func oneIncident(t *testing.T, h *harness, sums []agent.Summary) string {
	t.Helper()
	id := sums[0].Incident
	for i, s := range sums {
		if s.Incident == "" || s.Incident != id {
			t.Fatalf("run %d: incident %q (%s: %s), run 0: %q; want one incident for all", i, s.Incident, s.Resolution, s.Headline, id)
		}
	}
	incs, err := h.st.ListIncidents(context.Background(), false, 100)
	if err != nil || len(incs) != 1 {
		t.Fatalf("history has %d incidents (%v), want 1", len(incs), err)
	}
	_, timeline, err := h.st.GetIncident(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	joined := 0
	for _, e := range timeline {
		if e.Kind == "alert" && strings.HasPrefix(e.Text, "alert joined: ") {
			joined++
		}
	}
	if joined != len(sums)-1 {
		t.Errorf("timeline has %d joined alerts, want %d", joined, len(sums)-1)
	}
	opened := 0
	for _, d := range of[agent.ToolDone](h.events) {
		if ir, ok := d.Outcome.Result.(tools.IncidentResult); ok && !ir.Joined {
			opened++
		}
	}
	if opened != 1 {
		t.Errorf("%d createIncident calls opened an incident, want 1 (the others joined)", opened)
	}
	return id
}

// notifiedOnce checks that one run sent the notification and every other
// run's transcript says it was already sent for the incident.
func notifiedOnce(t *testing.T, h *harness, incident string) {
	t.Helper()
	sent, suppressed := 0, 0
	for _, ev := range of[agent.Notified](h.events) {
		switch {
		case ev.Delivered:
			sent++
		case strings.Contains(ev.Suppressed, "the notification for incident "+incident+" was already sent"):
			suppressed++
		default:
			t.Errorf("a run neither sent nor was told it was sent: %+v", ev)
		}
	}
	if sent != 1 || sent+suppressed != 20 {
		t.Errorf("%d runs sent, %d were suppressed; want 1 and 19", sent, suppressed)
	}
}

func TestConcurrentRunsOfOneAlertJoinOneIncidentAndNotifyOnce(t *testing.T) {
	for _, scenario := range []string{"high-cpu-max-replicas", "clickhouse-oom-at-ceiling"} {
		t.Run(scenario, func(t *testing.T) {
			h := newHarness(t, setup{scenario: scenario, notify: true})
			sums := concurrentRuns(h, 20)
			id := oneIncident(t, h, sums)
			notes := h.p.Notifications()
			if len(notes) != 1 || !notes[0].Escalate || notes[0].IncidentID != id {
				t.Fatalf("the platform received %d notifications (%+v), want one escalation of %s", len(notes), notes, id)
			}
			notifiedOnce(t, h, id)
		})
	}
}

// receiver is a loopback HTTP server that counts what it is sent.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	srv    *httptest.Server
}

func newReceiver(t *testing.T, answer string) *receiver {
	t.Helper()
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

func TestConcurrentRunsOfOneAlertPostAndPageOnce(t *testing.T) {
	slack := newReceiver(t, "ok")
	pager := newReceiver(t, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	fan, err := notify.New(notify.Config{SlackWebhook: slack.srv.URL + "/services/x", PagerDutyRoutingKey: "routing-key-0123456789abcdef",
		PagerDutyURL: pager.srv.URL, Deadline: 10 * time.Second}, notify.Deps{Clock: clock.RealClock{}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, setup{scenario: "high-cpu-max-replicas", notifier: fan})
	id := oneIncident(t, h, concurrentRuns(h, 20))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fan.Close(ctx); err != nil { // delivers what is queued
		t.Fatal(err)
	}
	// Slack coalesces messages queued together into one post: count them.
	if got := slack.received(); len(got) != 1 || strings.Count(got[0], `\nIncident: `+id) != 1 {
		t.Errorf("Slack received %d posts, want 1 with one message about %s: %q", len(got), id, got)
	}
	pages := pager.received()
	if len(pages) != 1 {
		t.Fatalf("PagerDuty received %d events, want 1: %q", len(pages), pages)
	}
	var ev struct {
		Action   string `json:"event_action"`
		DedupKey string `json:"dedup_key"`
	}
	if err := json.Unmarshal([]byte(pages[0]), &ev); err != nil || ev.Action != "trigger" || ev.DedupKey != id {
		t.Errorf("page %s (%v), want a trigger with dedup key %s", pages[0], err, id)
	}
	notifiedOnce(t, h, id)
}

// flaky fails its first deliveries, then records the others.
type flaky struct {
	mu        sync.Mutex
	fails     int
	delivered []platform.Notification
}

func (f *flaky) Notify(_ context.Context, n platform.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return fmt.Errorf("webhook answered 503: %w", platform.ErrUnavailable)
	}
	f.delivered = append(f.delivered, n)
	return nil
}

func TestUndeliveredNotificationDoesNotStartTheCooldown(t *testing.T) {
	f := &flaky{fails: 1}
	h := newHarness(t, setup{scenario: "high-cpu-max-replicas", notifier: f})
	want := []struct {
		delivered  bool
		failed     bool
		suppressed string
	}{
		{failed: true},    // the webhook fails: the claim is given back
		{delivered: true}, // so the next run sends it
		{suppressed: "the notification for incident"}, // and the one after is the repeat the cooldown stops
	}
	for i, w := range want {
		h.run()
		evs := of[agent.Notified](h.events)
		if len(evs) != i+1 {
			t.Fatalf("run %d: %d notification events, want %d", i, len(evs), i+1)
		}
		ev := evs[i]
		if ev.Delivered != w.delivered || (ev.Error != "") != w.failed || !strings.HasPrefix(ev.Suppressed, w.suppressed) || (ev.Suppressed == "") != (w.suppressed == "") {
			t.Errorf("run %d: delivered=%v error=%q suppressed=%q; want delivered=%v failed=%v suppressed %q…",
				i, ev.Delivered, ev.Error, ev.Suppressed, w.delivered, w.failed, w.suppressed)
		}
	}
	if len(f.delivered) != 1 {
		t.Errorf("%d notifications delivered, want 1", len(f.delivered))
	}
}

// When one run acts, the others take their turn after it: they see the
// change it made, join its incident and do not page again — one write, one
// page, whatever the interleaving. A run after the fix that finds the
// workload healthy may tell that change of state once (escalated →
// resolved), never page.
func TestConcurrentRunsTakeTurnsWhenOneActs(t *testing.T) {
	for _, tt := range []struct {
		scenario string
		incident bool
	}{{"high-cpu", false}, {"clickhouse-oom", true}} {
		t.Run(tt.scenario, func(t *testing.T) {
			h := newHarness(t, setup{scenario: tt.scenario, notify: true})
			sums := concurrentRuns(h, 20)
			writes := 0
			for _, s := range sums {
				writes += len(s.Actions)
			}
			first := sums[0]
			for _, s := range sums {
				if len(s.Actions) > 0 {
					first = s
				}
			}
			if writes != len(first.Actions) || writes == 0 {
				t.Errorf("%d writes over 20 runs; want those of one run only (%d)", writes, len(first.Actions))
			}
			notes := h.p.Notifications()
			pages, states := 0, map[string]int{}
			for _, n := range notes {
				states[n.State]++
				if n.Escalate {
					pages++
				}
			}
			t.Logf("20 concurrent runs: %d writes, %d notifications (states %v), %d pages", writes, len(notes), states, pages)
			wantPages := map[bool]int{true: 1, false: 0}[tt.incident]
			if pages != wantPages || len(notes) > 2 || len(notes) == 0 {
				t.Errorf("%d notifications, %d pages (states %v); want %d page and at most one more notice of a new state", len(notes), pages, states, wantPages)
			}
			for st, n := range states {
				if n > 1 {
					t.Errorf("state %q notified %d times, want once", st, n)
				}
			}
			if tt.incident {
				incs, err := h.st.ListIncidents(context.Background(), false, 100)
				if err != nil || len(incs) != 1 {
					t.Errorf("history has %d incidents (%v), want 1", len(incs), err)
				}
			}
		})
	}
}
