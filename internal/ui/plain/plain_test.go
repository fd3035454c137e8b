package plain

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

var at = time.Date(2026, 2, 16, 10, 0, 0, 0, time.UTC)

// scaleRun is the events of a high-CPU run, as the agent emits them.
func scaleRun() []agent.Event {
	return []agent.Event{
		agent.RunStarted{At: at, Alert: alert.Alert{Text: "Backend service CPU at 85% for 5 minutes"}, Planner: "rules", Mode: "auto"},
		agent.PhaseStarted{At: at, Phase: agent.PhaseCheck},
		agent.ToolDone{At: at, Phase: agent.PhaseCheck, Outcome: tools.Outcome{Tool: "getServiceStatus", Status: tools.StatusOK, Summary: "ai-data-labs/backend: Healthy, 3/3 ready"}},
		agent.ToolDone{At: at, Phase: agent.PhaseAnalys, Outcome: tools.Outcome{Tool: "queryMetrics", Status: tools.StatusOK, Summary: "request_rate rising"}},
		agent.Reported{At: at, Phase: agent.PhaseAnalys, Report: plan.Report{Diagnosis: []string{"Service: backend", "CPU: 85%"}, Decision: "scale up from 3 to 4 replicas."}},
		agent.ToolDone{At: at, Phase: agent.PhaseAction, Verdict: "allow", Outcome: tools.Outcome{Tool: "scaleDeployment", Risk: tools.RiskWrite,
			Status: tools.StatusExecuted, Target: "ai-data-labs/backend", Summary: "scale ai-data-labs/backend from 3 to 4 replicas"}},
		agent.Reported{At: at, Phase: agent.PhaseNotify, Report: plan.Report{Text: "Scaled backend."}, Final: true},
		agent.Verified{At: at, Signal: "CPU", Before: "85%", After: "45%", Result: "resolved", Waited: units.Seconds(2 * time.Minute)},
		agent.Notified{At: at, Channel: "webhook", Delivered: true},
		agent.Summary{At: at, Alert: "Alert: Backend service CPU at 85% for 5 minutes", Resolution: agent.Resolved, Planner: "rules", Mode: "auto",
			Headline: "Scaled ai-data-labs/backend from 3 to 4 replicas", TimeToResolution: units.Seconds(2 * time.Minute)},
	}
}

func render(header string, events []agent.Event) string {
	var b bytes.Buffer
	tr := NewTranscript(&b, nil, header)
	for _, e := range events {
		tr.Emit(e)
	}
	return b.String()
}

func TestTranscriptHasTheSpecShape(t *testing.T) {
	got := render("Planner: rules · Platform: simulated", scaleRun())
	want := `Alert: "Backend service CPU at 85% for 5 minutes"
Planner: rules · Platform: simulated · Mode: auto

Automatic Actions Taken:

1. Check current state:
   - ai-data-labs/backend: Healthy, 3/3 ready

2. Analyse cause:
   - Checked: request_rate rising
   - Service: backend
   - CPU: 85%
   - Decision: scale up from 3 to 4 replicas.

3. Action:
   - Done: scale ai-data-labs/backend from 3 to 4 replicas (guard: allowed)

4. Verification:
   - CPU after 2m: 45% (was 85%)
   - Status: Healthy

5. Notification:
   - Planner: Scaled backend.
   - Team notified (webhook)

Resolution: Scaled ai-data-labs/backend from 3 to 4 replicas
Outcome: resolved
Time to resolution: 2m
`
	if got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
}

// probe is a sink that, when an event of the settle wait or the
// verification arrives, keeps what the transcript had written by then.
type probe struct {
	out    *bytes.Buffer
	before map[string]string
}

func (p *probe) Emit(e agent.Event) {
	switch e.(type) {
	case agent.Waiting, agent.Verified:
		if _, seen := p.before[e.Kind()]; !seen {
			p.before[e.Kind()] = p.out.String()
		}
	}
}

func TestTranscriptStreamsEachLineBeforeTheSettleWait(t *testing.T) {
	var out, progress bytes.Buffer
	tr := NewTranscript(&out, &progress, "Planner: rules · Platform: cluster prod")
	p := &probe{out: &out, before: map[string]string{}}
	sink := agent.Sinks{p, tr} // the probe looks before the transcript writes the event
	events := scaleRun()
	wait := agent.Waiting{At: at, Until: at.Add(2 * time.Minute), For: units.Seconds(2 * time.Minute), Reason: "the scale of ai-data-labs/backend"}
	for _, e := range events {
		if _, ok := e.(agent.Verified); ok {
			sink.Emit(wait) // the agent emits it before the wait, before verifying
		}
		sink.Emit(e)
	}
	for kind, got := range p.before {
		for _, want := range []string{"Alert: \"Backend service CPU at 85% for 5 minutes\"\n", "1. Check current state:\n",
			"3. Action:\n   - Done: scale ai-data-labs/backend from 3 to 4 replicas (guard: allowed)\n"} {
			if !strings.Contains(got, want) {
				t.Errorf("when %s arrived the transcript lacked %q; it was:\n%s", kind, want, got)
			}
		}
		if strings.Contains(got, "Verification") || strings.Contains(got, "Resolution:") {
			t.Errorf("when %s arrived the transcript had more than the events so far:\n%s", kind, got)
		}
	}
	if len(p.before) != 2 {
		t.Fatalf("the probe saw %d of the waiting and verification events", len(p.before))
	}
	if want := "waiting for the scale of ai-data-labs/backend to settle, verifying at 10:02:00\n"; progress.String() != want {
		t.Errorf("progress = %q, want %q", progress.String(), want)
	}
	if strings.Contains(out.String(), "waiting for") {
		t.Errorf("the wait went to the transcript, not to progress:\n%s", out.String())
	}
}

// writes records each Write on its own.
type writes struct{ chunks []string }

func (w *writes) Write(p []byte) (int, error) {
	w.chunks = append(w.chunks, string(p))
	return len(p), nil
}

func TestTranscriptWritesLineByLineTheSameAsAtOnce(t *testing.T) {
	var w writes
	tr := NewTranscript(&w, nil, "Planner: rules · Platform: simulated")
	for _, e := range scaleRun() {
		tr.Emit(e)
	}
	if got, want := strings.Join(w.chunks, ""), render("Planner: rules · Platform: simulated", scaleRun()); got != want {
		t.Fatalf("chunks differ from the whole:\n%s\nwant:\n%s", got, want)
	}
	if len(w.chunks) < 8 {
		t.Errorf("%d writes for a run of %d events: the transcript is not streamed", len(w.chunks), len(scaleRun()))
	}
}

func TestAVirtualWaitPrintsNoProgressLine(t *testing.T) {
	var out, progress bytes.Buffer
	tr := NewTranscript(&out, &progress, "")
	tr.Emit(scaleRun()[0])
	tr.Emit(agent.Waiting{At: at, Until: at.Add(2 * time.Minute), Reason: "the scale of ai-data-labs/backend", Virtual: true})
	if progress.Len() != 0 {
		t.Errorf("a simulated (virtual) wait printed %q", progress.String())
	}
}

func TestInterleavedEventsContinueTheirPhase(t *testing.T) {
	scale := agent.ToolDone{At: at, Phase: agent.PhaseAction, Verdict: "allow", Outcome: tools.Outcome{Tool: "scaleDeployment", Risk: tools.RiskWrite,
		Status: tools.StatusExecuted, Target: "ai-data-labs/backend", Summary: "scale ai-data-labs/backend from 3 to 4 replicas"}}
	got := render("", []agent.Event{
		agent.RunStarted{At: at, Planner: "llm:gpt", Mode: "auto"},
		agent.ToolDone{At: at, Phase: agent.PhaseCheck, Outcome: tools.Outcome{Tool: "getServiceStatus", Status: tools.StatusOK, Summary: "backend: Healthy, 3/3 ready"}},
		agent.PlannerSwitched{At: at, From: "llm:gpt", To: "rules", Reason: "llm:gpt failed: 503"},
		agent.Reported{At: at, Phase: agent.PhaseAnalys, Report: plan.Report{Decision: "scale up from 3 to 4 replicas."}},
		scale,
		agent.Reported{At: at, Phase: agent.PhaseAnalys, Report: plan.Report{Text: "The scale went through; reading the CPU again."}},
		agent.ToolDone{At: at, Phase: agent.PhaseAnalys, Outcome: tools.Outcome{Tool: "queryMetrics", Status: tools.StatusOK, Summary: "cpu 60%"}},
		agent.Reported{At: at, Phase: agent.PhaseNotify, Final: true, Report: plan.Report{Text: "Scaled backend."}},
		agent.Verified{At: at, Signal: "CPU", Before: "85%", After: "45%", Result: "resolved", Waited: units.Seconds(2 * time.Minute)},
		agent.PhaseStarted{At: at, Phase: agent.PhaseNotify},
		agent.Notified{At: at, Channel: "webhook", Delivered: true},
		agent.Summary{At: at, Resolution: agent.Resolved, Headline: "Scaled"},
	})
	want := `Alert: ""
Planner: llm:gpt · Mode: auto

Automatic Actions Taken:

1. Check current state:
   - backend: Healthy, 3/3 ready

2. Analyse cause:
   - Planner fallback: llm:gpt → rules: llm:gpt failed: 503
   - Decision: scale up from 3 to 4 replicas.

3. Action:
   - Done: scale ai-data-labs/backend from 3 to 4 replicas (guard: allowed)
   - The scale went through; reading the CPU again.

2. Analyse cause (continued):
   - Checked: cpu 60%

4. Verification:
   - CPU after 2m: 45% (was 85%)
   - Status: Healthy

5. Notification:
   - Planner: Scaled backend.
   - Team notified (webhook)

Resolution: Scaled
Outcome: resolved
`
	if got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
}

func TestTranscriptSaysWhenNoActionWasTaken(t *testing.T) {
	got := render("", []agent.Event{
		agent.RunStarted{At: at, Planner: "rules", Mode: "auto"},
		agent.Reported{At: at, Phase: agent.PhaseNotify, Final: true,
			Report: plan.Report{Diagnosis: []string{"Service: backend", "CPU: 40% now"}, Decision: "no action: CPU is 40% (threshold 80%)."}},
		agent.Summary{At: at, Alert: "Backend CPU", Resolution: agent.NoAction, Planner: "rules", Mode: "auto", Headline: "No action needed: CPU 40%"},
	})
	for _, want := range []string{"Planner: rules · Mode: auto\n", "1. Analyse cause:\n   - Service: backend\n   - CPU: 40% now\n   - Decision: no action",
		"2. Action:\n   - No action taken\n", "Outcome: no_action\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Notification") || strings.Contains(got, "Planner: Diagnosis") {
		t.Errorf("a final diagnosis belongs under Analyse cause:\n%s", got)
	}
}

func TestTranscriptShowsRefusalsFailuresAndDryRuns(t *testing.T) {
	got := render("", []agent.Event{
		agent.RunStarted{At: at},
		agent.PlannerSwitched{At: at, From: "gpt", To: "rules", Reason: "the model timed out"},
		agent.ToolDone{At: at, Phase: agent.PhaseAction, Outcome: tools.Outcome{Tool: "scaleDeployment", Risk: tools.RiskWrite, Status: tools.StatusRefused,
			Target: "ai-data-labs/backend", Rule: "scale_up.cpu", Reason: "cpu 40% is not above 80%"}},
		agent.ToolDone{At: at, Phase: agent.PhaseAction, Outcome: tools.Outcome{Tool: "restartPods", Risk: tools.RiskWrite, Status: tools.StatusFailed,
			Target: "ai-data-labs/frontend", Error: "backend unavailable"}},
		agent.ToolDone{At: at, Phase: agent.PhaseAction, Verdict: "clamp", To: 10, Outcome: tools.Outcome{Tool: "scaleDeployment", Risk: tools.RiskWrite,
			Status: tools.StatusDryRun, Rule: "max_replicas", Reason: "12 > 10", Summary: "would scale ai-data-labs/backend from 9 to 10 replicas"}},
		agent.ToolDone{At: at, Phase: agent.PhaseAnalys, Outcome: tools.Outcome{Tool: "getLogs", Status: tools.StatusInvalid, Error: `unknown field "podz"`}},
		agent.Verified{At: at, Signal: "CPU", After: "85%", Result: "unresolved"},
		agent.Notified{At: at, Error: "notification not delivered: the webhook answered 500", Escalated: true},
		agent.ToolDone{At: at, Phase: agent.PhaseNotify, Outcome: tools.Outcome{Tool: "createIncident", Risk: tools.RiskRecord, Status: tools.StatusOK, Summary: "opened incident INC-2026-02-16-001", Result: tools.IncidentResult{ID: "INC-2026-02-16-001"}}},
		agent.Summary{At: at, Alert: "a", Resolution: agent.Escalated, Mode: "observe", Headline: "h", Incident: "INC-2026-02-16-001", Error: "boom"},
	})
	for _, want := range []string{
		"Planner fallback: gpt → rules: the model timed out\n",
		"   - Refused scaleDeployment ai-data-labs/backend — scale_up.cpu: cpu 40% is not above 80%\n",
		"   - Failed restartPods ai-data-labs/frontend: backend unavailable\n",
		"   - Would scale ai-data-labs/backend from 9 to 10 replicas (guard: clamped to 10 by max_replicas (12 > 10))\n",
		"   - Invalid call getLogs: unknown field \"podz\"\n",
		"   - CPU now: 85%\n   - Status: Still firing\n",
		"   - Notification not delivered: the webhook answered 500\n   - Escalated to engineering\n",
		"   - Created incident ticket: INC-2026-02-16-001\n",
		"Incident: INC-2026-02-16-001\nError: boom\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
}

func TestTranscriptStartsAfreshForEachRun(t *testing.T) {
	events := append(scaleRun(), scaleRun()...)
	got := render("", events)
	if n := strings.Count(got, "Done: scale"); n != 2 {
		t.Errorf("%d action lines for two runs of one action each:\n%s", n, got)
	}
	if n := strings.Count(got, "Automatic Actions Taken:"); n != 2 {
		t.Errorf("%d transcripts for two runs", n)
	}
}

func TestAlertTextDropsATypedPrefix(t *testing.T) {
	tests := map[string]string{
		"Alert: Backend CPU at 85%": "Backend CPU at 85%",
		"ALERT:disk full":           "disk full",
		"Backend CPU at 85%":        "Backend CPU at 85%",
		"Alert:":                    "Alert:",
		"Alerting is broken":        "Alerting is broken",
	}
	for in, want := range tests {
		if got := alertText(in); got != want {
			t.Errorf("alertText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJSONLinesWritesOneTypedObjectPerEvent(t *testing.T) {
	var b bytes.Buffer
	j := NewJSONLines(&b)
	for _, e := range scaleRun() {
		j.Emit(e)
	}
	if err := j.Err(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(scaleRun()) {
		t.Fatalf("%d lines for %d events", len(lines), len(scaleRun()))
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, `{"type":"`) {
			t.Errorf("line %d does not start with its type: %s", i+1, l)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("line %d: %v", i+1, err)
		}
	}
	var last map[string]any
	_ = json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if last["type"] != "summary" || last["resolution"] != "resolved" {
		t.Errorf("last line = %v", last)
	}
}

type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	if w.n > 1 {
		return 0, errDiskFull
	}
	return len(p), nil
}

func TestJSONLinesKeepsTheFirstWriteError(t *testing.T) {
	j := NewJSONLines(&failingWriter{})
	for _, e := range scaleRun() {
		j.Emit(e)
	}
	if !errors.Is(j.Err(), errDiskFull) {
		t.Errorf("Err() = %v, want the writer's error", j.Err())
	}
}

func TestWriteLinesNameTheClusterTheyActedOn(t *testing.T) {
	prod := platform.Where{Kind: platform.WhereCluster, Cluster: "prod", Context: "prod-admin", Namespace: "shop"}
	write := func(status tools.Status, summary, rule, reason, err string) agent.ToolDone {
		return agent.ToolDone{At: at, Phase: agent.PhaseAction, Verdict: "allow", Outcome: tools.Outcome{Tool: "scaleDeployment", Risk: tools.RiskWrite,
			Status: status, Target: "shop/backend", Summary: summary, Rule: rule, Reason: reason, Error: err}}
	}
	events := func(where platform.Where) []agent.Event {
		return []agent.Event{
			agent.RunStarted{At: at, Planner: "rules", Mode: "auto", Where: where},
			agent.ToolDone{At: at, Phase: agent.PhaseCheck, Outcome: tools.Outcome{Tool: "getServiceStatus", Status: tools.StatusOK, Summary: "shop/backend: Healthy, 3/3 ready"}},
			write(tools.StatusExecuted, "scale shop/backend from 3 to 4 replicas", "", "", ""),
			write(tools.StatusDryRun, "would scale shop/backend from 4 to 5 replicas (observe mode: nothing changed)", "", "", ""),
			write(tools.StatusRefused, "", "scale_up.cpu", "CPU 40% is not above 80%", ""),
			write(tools.StatusFailed, "", "", "", "the API server answered 503"),
			agent.Summary{At: at, Resolution: agent.Resolved, Headline: "Scaled"},
		}
	}
	got := render("", events(prod))
	for _, want := range []string{
		"   - shop/backend: Healthy, 3/3 ready\n",
		"   - Done: scale shop/backend from 3 to 4 replicas on cluster prod (context prod-admin) (guard: allowed)\n",
		"   - Would scale shop/backend from 4 to 5 replicas (observe mode: nothing changed) on cluster prod (context prod-admin) (guard: allowed)\n",
		"   - Refused scaleDeployment shop/backend on cluster prod (context prod-admin) — scale_up.cpu: CPU 40% is not above 80%\n",
		"   - Failed scaleDeployment shop/backend on cluster prod (context prod-admin): the API server answered 503\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
	if sim := render("", events(platform.Where{Kind: platform.WhereSimulated, Scenario: "high-cpu"})); strings.Contains(sim, " on ") {
		t.Errorf("on the simulated platform a write line names a place:\n%s", sim)
	}
}
