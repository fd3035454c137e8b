package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/tools"
)

// briefs records what a model would be told: the brief of each run.
type briefs struct {
	mu   sync.Mutex
	seen []plan.Brief
}

// briefed watches situations like watched, and is Briefed, as an LLM
// planner is, to see each run's brief.
type briefed struct {
	watched
	b *briefs
}

func (w briefed) Brief(b plan.Brief) plan.Planner {
	w.b.mu.Lock()
	w.b.seen = append(w.b.seen, b)
	w.b.mu.Unlock()
	return w.watched
}

// parser parses requests the way the CLI does, with the platform's services.
func (h *harness) ask(conv *agent.Conversation, text string) agent.Summary {
	h.t.Helper()
	req, err := h.parser().ParseRequest(text, h.p.Now())
	if err != nil {
		h.t.Fatalf("parse %q: %v", text, err)
	}
	return conv.Ask(context.Background(), req)
}

// The transcript of a conversation, saved as JSON and resumed by another
// agent (another process), gives the later requests the same exchanges (for a
// model) and the same typed context (for the rules planner).
func TestAResumedConversationContinuesWhereItStopped(t *testing.T) {
	first := newHarness(t, setup{scenario: "high-cpu"})
	conv := first.agent.NewConversation()
	first.ask(conv, "status of backend")
	first.ask(conv, "check system health and auto-scale if needed")
	before := conv.Context()
	if before.Subject.Name != "backend" || len(before.LastActions) == 0 {
		t.Fatalf("the first session did not scale backend: %+v", before)
	}
	saved, err := json.Marshal(conv.Save())
	if err != nil {
		t.Fatal(err)
	}

	tr, err := agent.ParseTranscript(saved)
	if err != nil {
		t.Fatal(err)
	}
	rec, br := &situations{}, &briefs{}
	second := newHarness(t, setup{scenario: "high-cpu",
		planners: func(p plan.Planner) plan.Planner { return briefed{watched{Planner: p, rec: rec}, br} }})
	resumed, err := second.agent.ResumeConversation(tr)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Turns() != 2 {
		t.Errorf("resumed %d turns, want 2", resumed.Turns())
	}
	if got, want := contextOf(resumed.Context()), contextOf(before); !reflect.DeepEqual(got, want) {
		t.Errorf("resumed context:\n got %+v\nwant %+v", got, want)
	}
	again, err := json.Marshal(resumed.Save())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, saved) {
		t.Errorf("save → resume → save changed the transcript:\n got %s\nwant %s", again, saved)
	}

	second.ask(resumed, "why?")
	if len(rec.seen) == 0 || len(br.seen) == 0 {
		t.Fatal("the resumed conversation's request reached no planner")
	}
	if s := rec.seen[0].Context; s.Subject.Name != "backend" || s.Turns != 2 || s.LastActions[0].Tool != tools.ScaleDeployment {
		t.Errorf("the rules planner was given the context %+v, want backend after 2 turns and its scale", contextOf(s))
	}
	prior := br.seen[0].Prior
	if len(prior) != 2 || prior[0].Request != "status of backend" || prior[1].Answer == "" {
		t.Errorf("a model would be told the earlier exchanges %+v", prior)
	}
	if got := resumed.Context(); got.Turns != 3 || got.Subject.Name != "backend" {
		t.Errorf("after \"why?\": %+v, want the third turn still about backend", contextOf(got))
	}
}

// contextOf is what a transcript keeps of a context: writes without their
// results, decisions or timings.
func contextOf(c plan.Context) plan.Context {
	acts := make([]tools.Outcome, len(c.LastActions))
	for i, o := range c.LastActions {
		acts[i] = tools.Outcome{Tool: o.Tool, Risk: o.Risk, Target: o.Target, Status: o.Status, Summary: o.Summary,
			Rule: o.Rule, Reason: o.Reason, Params: normalParams(o.Params), Error: o.Error}
	}
	c.LastActions = acts
	return c
}

// normalParams makes numbers comparable across a JSON round trip.
func normalParams(p map[string]any) map[string]any {
	b, _ := json.Marshal(p)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func TestTranscriptsThisBinaryCannotReadAreRefused(t *testing.T) {
	for name, raw := range map[string]string{
		"newer version": `{"version":2,"turns":[]}`,
		"no version":    `{"turns":[]}`,
		"not JSON":      `{"version":`,
	} {
		if _, err := agent.ParseTranscript([]byte(raw)); !errors.Is(err, agent.ErrTranscript) {
			t.Errorf("%s: %v, want ErrTranscript", name, err)
		}
	}
	h := newHarness(t, setup{scenario: "healthy"})
	for name, tr := range map[string]agent.Transcript{
		"version":        {Version: 0},
		"unknown risk":   {Version: agent.TranscriptVersion, Turns: []agent.TranscriptTurn{{Actions: []agent.TranscriptOutcome{{Tool: tools.ScaleDeployment, Risk: "lethal", Status: tools.StatusExecuted}}}}},
		"unknown status": {Version: agent.TranscriptVersion, Turns: []agent.TranscriptTurn{{Actions: []agent.TranscriptOutcome{{Tool: tools.ScaleDeployment, Risk: "write", Status: "maybe"}}}}},
	} {
		if _, err := h.agent.ResumeConversation(tr); !errors.Is(err, agent.ErrTranscript) {
			t.Errorf("%s: %v, want ErrTranscript", name, err)
		}
	}
}

func TestMapTextReachesEveryTextAndLeavesTheConversationAlone(t *testing.T) {
	tr := agent.Transcript{Version: agent.TranscriptVersion, Turns: []agent.TranscriptTurn{{
		Request: "s", Answer: "s", Digest: "s",
		Report:  plan.Report{Diagnosis: []string{"s"}, Cause: "s", Decision: "s", FollowUp: "s", Text: "s"},
		Actions: []agent.TranscriptOutcome{{Summary: "s", Reason: "s", Error: "s"}},
	}}}
	got := tr.MapText(func(string) string { return "x" })
	b, _ := json.Marshal(got)
	if bytes.Contains(b, []byte(`"s"`)) {
		t.Errorf("MapText left a text: %s", b)
	}
	if tr.Turns[0].Report.Diagnosis[0] != "s" || tr.Turns[0].Actions[0].Summary != "s" {
		t.Error("MapText changed the transcript it was given")
	}
}
