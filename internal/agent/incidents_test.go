package agent_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
)

// wantAction is an executed write, with the params that must match.
type wantAction struct {
	tool, target string
	params       map[string]string // fmt.Sprint of Action.Params[key]
}

var incidentID = regexp.MustCompile(`^INC-\d{4}-\d{2}-\d{2}-\d{3}$`)

func TestRulesPlannerHandlesSpecIncidentsOnTheSimulatedPlatform(t *testing.T) {
	tests := []struct {
		name         string
		scenario     string
		resolution   agent.Resolution
		actions      []wantAction
		refused      []string // the tools whose call the guard refused, in order
		verification string
		incident     bool
		end          func(t *testing.T, s sim.State)
	}{
		{
			name: "sustained high CPU scales backend up by one", scenario: "high-cpu", resolution: agent.Resolved,
			actions:      []wantAction{{"scaleDeployment", "ai-data-labs/backend", map[string]string{"from": "3", "to": "4"}}},
			verification: "resolved",
			end:          backendScaledTo4,
		},
		{
			// The spec's third action, "Scale to 3 replicas", is refused by
			// the guard: no load signal asks for a replica (crash-looping pods
			// serve no requests, so they have no error rate), as on a real
			// cluster (internal/e2e's OOM test).
			name: "ClickHouse OOM crash loop gets more memory, an incident and an escalation", scenario: "clickhouse-oom", resolution: agent.Escalated,
			actions: []wantAction{
				{"updateResources", "ai-data-labs/clickhouse", map[string]string{"from": "4Gi", "to": "8Gi"}},
			},
			refused:      []string{"scaleDeployment"},
			verification: "resolved", incident: true,
			end: clickhouseHealed,
		},
		{
			name: "disk usage high drops partitions older than the retention", scenario: "disk-space", resolution: agent.Resolved,
			actions:      []wantAction{{"dropPartitions", "analytics.events", map[string]string{"partitions": "5", "bytes": "200 GB", "retention": "90 days"}}},
			verification: "resolved",
			end:          diskCleaned,
		},
		{
			name: "failing health check gets a rollout restart", scenario: "health-check-failing", resolution: agent.Resolved,
			actions:      []wantAction{{"restartPods", "ai-data-labs/frontend", map[string]string{"action": "rollout"}}},
			verification: "resolved",
			end:          frontendRestarted,
		},
		{
			name: "false positive CPU alert changes nothing", scenario: "healthy", resolution: agent.NoAction,
			verification: "resolved",
			end:          nothingChanged,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, setup{scenario: tt.scenario})
			sum := h.run()
			if sum.Resolution != tt.resolution {
				t.Fatalf("resolution = %s (%s), want %s; error %q", sum.Resolution, sum.Headline, tt.resolution, sum.Error)
			}
			if sum.Planner != "rules" || sum.LLMCalls != 0 {
				t.Errorf("planner = %s with %d LLM calls, want rules with 0", sum.Planner, sum.LLMCalls)
			}
			checkActions(t, sum.Actions, tt.actions)
			var refused []string
			for _, r := range sum.Refusals {
				refused = append(refused, string(r.Tool))
			}
			if !slices.Equal(refused, tt.refused) {
				t.Errorf("refusals = %+v, want %v", sum.Refusals, tt.refused)
			}
			if sum.Verification == nil || string(sum.Verification.Result) != tt.verification {
				t.Errorf("verification = %+v, want %s", sum.Verification, tt.verification)
			}
			checkIncident(t, h, sum, tt.incident)
			checkEventOrder(t, h.events, sum)
			checkHistory(t, h, sum)
			tt.end(t, h.after())
			if err := h.p.Scenario().Expect.CheckState(h.after()); err != nil {
				t.Errorf("scenario expectations: %v", err)
			}
		})
	}
}

// checkActions compares the executed writes with the wanted ones, in order.
func checkActions(t *testing.T, got []agent.Action, want []wantAction) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("actions = %+v, want %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if string(g.Tool) != w.tool || g.Target != w.target || g.Status != "executed" {
			t.Errorf("action %d = %s %s (%s), want %s %s executed", i, g.Tool, g.Target, g.Status, w.tool, w.target)
		}
		for k, v := range w.params {
			if fmt.Sprint(g.Params[k]) != v {
				t.Errorf("action %d %s param %s = %v, want %s", i, g.Tool, k, g.Params[k], v)
			}
		}
	}
}

func checkIncident(t *testing.T, h *harness, sum agent.Summary, want bool) {
	t.Helper()
	if !want {
		if sum.Incident != "" || sum.Escalated {
			t.Errorf("incident = %q (escalated %v), want none", sum.Incident, sum.Escalated)
		}
		return
	}
	if !incidentID.MatchString(sum.Incident) || !sum.Escalated {
		t.Fatalf("incident = %q (escalated %v), want INC-YYYY-MM-DD-NNN, escalated", sum.Incident, sum.Escalated)
	}
	if want := "INC-" + fixedStart.Format("2006-01-02") + "-001"; sum.Incident != want {
		t.Errorf("incident = %s, want %s (the virtual date)", sum.Incident, want)
	}
	inc, timeline, err := h.st.GetIncident(context.Background(), sum.Incident)
	if err != nil {
		t.Fatalf("incident %s not in history: %v", sum.Incident, err)
	}
	if inc.Status != store.StatusMitigated || len(timeline) == 0 {
		t.Errorf("incident status %s with %d timeline entries, want mitigated with entries", inc.Status, len(timeline))
	}
}

// checkEventOrder: RunStarted first, Summary last and equal to the result,
// phases in transcript order, every call answered, one verification.
func checkEventOrder(t *testing.T, rec *recorder, sum agent.Summary) {
	t.Helper()
	evs := rec.all()
	if len(evs) < 3 {
		t.Fatalf("only %d events", len(evs))
	}
	if _, ok := evs[0].(agent.RunStarted); !ok {
		t.Errorf("first event = %T, want RunStarted", evs[0])
	}
	last, ok := evs[len(evs)-1].(agent.Summary)
	if !ok {
		t.Fatalf("last event = %T, want Summary", evs[len(evs)-1])
	}
	if last.Resolution != sum.Resolution || len(last.Actions) != len(sum.Actions) {
		t.Errorf("summary event differs from the returned summary")
	}
	prev := -1
	for _, ph := range of[agent.PhaseStarted](rec) {
		i := slices.Index(agent.Phases, ph.Phase)
		if i <= prev {
			t.Errorf("phase %s after %s: out of order", ph.Phase, agent.Phases[prev])
		}
		prev = i
	}
	called := map[string]bool{}
	for _, c := range of[agent.ToolCalled](rec) {
		called[c.ID] = true
	}
	for _, d := range of[agent.ToolDone](rec) {
		if !called[d.ID] {
			t.Errorf("result %s without a call", d.ID)
		}
		delete(called, d.ID)
	}
	if len(called) != 0 {
		t.Errorf("calls without a result: %v", called)
	}
	if v := of[agent.Verified](rec); len(v) != 1 {
		t.Errorf("%d verification events, want 1", len(v))
	}
}

// checkHistory: the alert is finished with the run's outcome and every
// executed write is recorded with its verdict.
func checkHistory(t *testing.T, h *harness, sum agent.Summary) {
	t.Helper()
	ctx := context.Background()
	rec, err := h.st.GetAlert(ctx, sum.AlertID)
	if err != nil {
		t.Fatalf("alert %d: %v", sum.AlertID, err)
	}
	if rec.Outcome != string(sum.Resolution) || rec.Planner != sum.Planner || rec.IncidentID != sum.Incident {
		t.Errorf("history alert = %s by %s (%s), want %s by %s (%s)", rec.Outcome, rec.Planner, rec.IncidentID, sum.Resolution, sum.Planner, sum.Incident)
	}
	calls, err := h.st.ListToolCalls(ctx, sum.AlertID)
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	for _, c := range calls {
		if c.Write && c.Verdict == store.VerdictExecuted {
			writes++
		}
	}
	if writes != len(sum.Actions) || len(calls) != sum.ToolCalls {
		t.Errorf("history has %d calls (%d executed writes), summary %d calls (%d actions)", len(calls), writes, sum.ToolCalls, len(sum.Actions))
	}
}

// unchangedExcept checks that services not named kept their replicas and limits.
func unchangedExcept(t *testing.T, s sim.State, changed ...string) {
	t.Helper()
	start := map[string][2]int64{"backend": {3, 1 << 30}, "clickhouse": {2, 4 << 30}, "postgresql": {1, 2 << 30}, "redis": {1, 512 << 20}}
	for name, want := range start {
		if slices.Contains(changed, name) {
			continue
		}
		if got := s.Services[name]; int64(got.Replicas) != want[0] || got.MemoryLimit != want[1] {
			t.Errorf("%s changed: %d replicas, limit %d", name, got.Replicas, got.MemoryLimit)
		}
	}
}

// End states of the spec incidents and the other scenarios, shared with the scripted-model tests.

func backendScaledTo4(t *testing.T, s sim.State) {
	t.Helper()
	b := s.Services["backend"]
	if b.Replicas != 4 || b.ReadyReplicas != 4 || b.CPU >= 80 {
		t.Errorf("backend = %d replicas (%d ready), CPU %.0f%%; want 4/4 and CPU < 80%%", b.Replicas, b.ReadyReplicas, b.CPU)
	}
	unchangedExcept(t, s, "backend")
}

func clickhouseHealed(t *testing.T, s sim.State) {
	t.Helper()
	c := s.Services["clickhouse"]
	if c.Replicas != 2 || c.ReadyReplicas != 2 || c.CrashLooping != 0 || !c.Healthy {
		t.Errorf("clickhouse = %d/%d ready, %d crash-looping, healthy %v; want 2/2, 0, true", c.ReadyReplicas, c.Replicas, c.CrashLooping, c.Healthy)
	}
	if c.MemoryLimit != 8<<30 {
		t.Errorf("clickhouse memory limit = %d, want 8Gi", c.MemoryLimit)
	}
	unchangedExcept(t, s, "clickhouse")
}

func diskCleaned(t *testing.T, s sim.State) {
	t.Helper()
	if s.Storage.UsagePct < 64.5 || s.Storage.UsagePct > 65.5 || s.Storage.Partitions != 3 {
		t.Errorf("disk = %.2f%% with %d partitions, want about 65%% with 3", s.Storage.UsagePct, s.Storage.Partitions)
	}
	unchangedExcept(t, s)
}

func frontendRestarted(t *testing.T, s sim.State) {
	t.Helper()
	if f := s.Services["frontend"]; !f.Healthy || f.Replicas != 3 || f.ReadyReplicas != 3 {
		t.Errorf("frontend = healthy %v, %d/%d ready; want healthy 3/3", f.Healthy, f.ReadyReplicas, f.Replicas)
	}
	unchangedExcept(t, s, "frontend")
}

func nothingChanged(t *testing.T, s sim.State) {
	t.Helper()
	if b := s.Services["backend"]; b.Replicas != 3 || b.CPU >= 50 {
		t.Errorf("backend = %d replicas, CPU %.0f%%; want 3 and about 40%%", b.Replicas, b.CPU)
	}
	unchangedExcept(t, s)
}

// With the metrics source down nothing can confirm a sustained rise: the rules
// planner reads once, says so, and the run escalates without acting.
func TestRulesPlannerWithMetricsDownEscalatesWithoutLooping(t *testing.T) {
	sc := loadScenario(t, "high-cpu")
	sc.MetricsDown = true
	h := newHarness(t, setup{platform: sim.New(sc, fixedStart)})
	sum := h.run()
	if sum.Resolution != agent.Escalated || len(sum.Actions) != 0 || sum.Incident == "" {
		t.Errorf("resolution %s, actions %+v, incident %q; want escalated with an incident and no action", sum.Resolution, sum.Actions, sum.Incident)
	}
	if sum.ToolCalls > 10 || !strings.Contains(sum.Explanation, "could not be read") {
		t.Errorf("%d tool calls, explanation %q; want one round of reads and the reason", sum.ToolCalls, sum.Explanation)
	}
	if got := h.after().Services["backend"].Replicas; got != 3 {
		t.Errorf("backend replicas = %d, want 3", got)
	}
}

// TestIncidentStatusSaysWhoOwnsTheProblem: mitigated only when the run acted,
// verified the symptom back to normal and people are needed for its cause
// alone (the OOM case above); an alert older than ESCALATION_HOURS is people's
// problem whatever the run did, as its notification says.
func TestIncidentStatusSaysWhoOwnsTheProblem(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		age      time.Duration // how long the alert fired before the run
		actions  int
		want     store.IncidentStatus
	}{
		{name: "high CPU firing past ESCALATION_HOURS: scaled, verified, escalated", scenario: "high-cpu", age: 2 * time.Hour, actions: 1, want: store.StatusEscalated},
		{name: "a false positive firing past ESCALATION_HOURS: nothing done, escalated", scenario: "healthy", age: 2 * time.Hour, want: store.StatusEscalated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, setup{scenario: tt.scenario, parse: backendCPUFiringSince(fixedStart.Add(-tt.age))})
			sum := h.run()
			if len(sum.Actions) != tt.actions || sum.Verification == nil || sum.Verification.Result != platform.VerifyResolved {
				t.Fatalf("actions %+v, verification %+v: want %d actions, resolved", sum.Actions, sum.Verification, tt.actions)
			}
			if !sum.Escalated || sum.Incident == "" {
				t.Fatalf("incident %q, escalated %v: want an escalated incident (the alert outlived ESCALATION_HOURS)", sum.Incident, sum.Escalated)
			}
			inc, _, err := h.st.GetIncident(context.Background(), sum.Incident)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Status != tt.want {
				t.Errorf("incident %s is %s, want %s", inc.ID, inc.Status, tt.want)
			}
		})
	}
}

// backendCPUFiringSince is the spec's CPU alert from Alertmanager, firing since start.
func backendCPUFiringSince(start time.Time) func(alert.Parser) alert.Alert {
	return func(p alert.Parser) alert.Alert {
		w := alert.Webhook{Version: "4", Status: "firing", Alerts: []alert.WebhookAlert{{Status: "firing",
			Labels:      map[string]string{"alertname": "BackendHighCPU", "service": "backend", "namespace": namespace, "severity": "critical"},
			Annotations: map[string]string{"summary": "Backend service CPU at 85% for 5 minutes"},
			StartsAt:    start}}}
		as, err := p.ParseWebhook(w, fixedStart)
		if err != nil || len(as) != 1 {
			panic(fmt.Sprintf("webhook fixture does not parse: %v", err))
		}
		return as[0]
	}
}
