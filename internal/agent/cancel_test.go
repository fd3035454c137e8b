package agent_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
)

// hookedRun runs the harness's alert with a context that hook may cancel
// when it sees an event (the order of events, no timers).
func hookedRun(h *harness, hook func(agent.Event, context.CancelFunc)) agent.Summary {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.events.hook = func(e agent.Event) { hook(e, cancel) }
	return h.agent.Handle(ctx, h.alert)
}

func TestCancelledAfterTheWriteEndsWithWhatWasDone(t *testing.T) {
	h := newHarness(t, setup{scenario: "high-cpu", notify: true})
	s := hookedRun(h, func(e agent.Event, cancel context.CancelFunc) {
		if d, ok := e.(agent.ToolDone); ok && d.Outcome.Tool == "scaleDeployment" {
			cancel() // Ctrl-C right after the scale
		}
	})
	if s.Resolution != agent.Cancelled {
		t.Fatalf("resolution = %s (%s), want cancelled", s.Resolution, s.Error)
	}
	if len(s.Actions) != 1 || s.Actions[0].Tool != "scaleDeployment" || s.Actions[0].Status != "executed" {
		t.Errorf("actions = %+v, want the scale that was done", s.Actions)
	}
	if want := "Scaled ai-data-labs/backend from 3 to 4 replicas; cancelled before verification"; s.Headline != want {
		t.Errorf("headline = %q, want %q", s.Headline, want)
	}
	if !strings.HasPrefix(s.Error, "cancelled: ") || s.Verification != nil {
		t.Errorf("error %q, verification %+v: want a cancellation and nothing verified", s.Error, s.Verification)
	}
	if n := len(of[agent.Waiting](h.events)); n != 0 {
		t.Errorf("%d waits announced after the cancellation", n)
	}
	if got := h.after().Services["backend"].Replicas; got != 4 {
		t.Errorf("backend has %d replicas, want the 4 of the scale done before the cancellation", got)
	}
	// The team hears of the scale that was made, and that the run was cancelled.
	notes := h.p.Notifications()
	if len(notes) != 1 || !strings.Contains(notes[0].Title, "cancelled before verification") || !strings.Contains(notes[0].Text, "from 3 to 4 replicas") {
		t.Errorf("notifications = %+v, want one telling of the scale and the cancellation", notes)
	}
}

// signalledPlanner answers like its inner model until its nth call, during
// which the process is signalled: it cancels the run's context and fails the
// way a provider's client does when its request is cancelled.
type signalledPlanner struct {
	inner  llm.Client
	n      int
	calls  int
	cancel context.CancelFunc
}

func (p *signalledPlanner) Name() string { return "llm:test" }

func (p *signalledPlanner) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	if p.calls++; p.calls == p.n {
		p.cancel()
		<-ctx.Done()
		return llm.Response{}, fmt.Errorf("chat completion: Post \"https://llm.example/v1/chat/completions\": %w", ctx.Err())
	}
	return p.inner.Chat(ctx, req)
}

func TestACancelledPlannerCallIsNoProviderFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, inner := scriptedModel(t, llmtest.Steps(calls("", "scaleDeployment", wl("backend", "replicas", 4)),
		calls("", "getLogs", wl("backend", "tail", 5)), final("Diagnosis: done.")))
	pl := &signalledPlanner{n: 3, cancel: cancel, inner: inner}
	h := newHarness(t, setup{scenario: "high-cpu", planner: pl})
	s := h.agent.Handle(ctx, h.alert)
	if sw := of[agent.PlannerSwitched](h.events); len(sw) != 0 {
		t.Errorf("the run fell back to %s because it was cancelled: %s", sw[0].To, sw[0].Reason)
	}
	if s.Resolution != agent.Cancelled || s.Planner != "llm:test" || s.PlannerNote != "" {
		t.Errorf("resolution %s, planner %s (%q), want cancelled by llm:test with no fallback note", s.Resolution, s.Planner, s.PlannerNote)
	}
	if pl.calls != 3 {
		t.Errorf("the planner was asked %d times, want no call after the cancelled one", pl.calls)
	}
	if len(s.Actions) != 1 {
		t.Errorf("actions = %+v, want the scale of the turn before the cancellation", s.Actions)
	}
}
