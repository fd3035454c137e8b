package tui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	testclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/llm"
)

// lateSender sends to the test program once it exists (the agent is built
// before the program, as in the CLI).
type lateSender struct {
	ready chan struct{}
	tm    *teatest.TestModel
}

func (l *lateSender) Send(msg tea.Msg) {
	<-l.ready
	l.tm.Send(msg)
}

// runIncident runs a whole simulated incident in a teatest program at 80x40;
// during, if set, runs while the program runs (to press keys).
func runIncident(t *testing.T, c composition, during func(tm *teatest.TestModel)) *Model {
	t.Helper()
	send := &lateSender{ready: make(chan struct{})}
	ag, al := c.build(t, NewSink(send), NewApprover(send, true))
	opts := testOptions(testclock.NewFakeClock(at))
	m := NewIncident(context.Background(), opts, func(ctx context.Context) error {
		ag.Handle(ctx, al)
		return nil
	})
	send.tm = teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 40))
	close(send.ready)
	if during != nil {
		during(send.tm)
	}
	final, ok := send.tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).(*Model)
	if !ok {
		t.Fatal("the final model is not a *Model")
	}
	return final
}

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func requireAll(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("lacks %q:\n%s", w, text)
		}
	}
}

func TestTeatestWholeIncident(t *testing.T) {
	m := runIncident(t, composition{scenario: "high-cpu", mode: guard.ModeAuto}, nil)
	rec := m.Record()
	requireAll(t, rec, "✓ 1. Check current state", "Decision: scale up from 3 to 4 replicas.", "guard: allowed · scale_up.cpu",
		"CPU after 1m30s: 45% (was 85%)", "Waited for: the rollout of ai-data-labs/backend completed after 30s", "Status: Healthy", "Outcome            resolved", "Time to resolution 1m30s")
	if m.Err() != nil || m.Aborted() {
		t.Errorf("err %v, aborted %v", m.Err(), m.Aborted())
	}
	golden.RequireEqual(t, []byte(rec))
}

func TestTeatestClampAndFallback(t *testing.T) {
	model := &scripted{replies: []llm.Message{{Role: llm.RoleAssistant, Content: "CPU is high near the maximum: scaling backend to 12.",
		ToolCalls: []llm.ToolCall{{ID: "call-1", Name: "scaleDeployment",
			Arguments: `{"namespace":"ai-data-labs","name":"backend","replicas":12,"reason":"sustained high CPU"}`}}}}}
	m := runIncident(t, composition{scenario: "high-cpu-near-max", mode: guard.ModeAuto, model: model}, nil)
	rec := m.Record()
	requireAll(t, rec, "Planner: scripted → rules · Mode: auto", "⚠ Planner fallback: scripted → rules", "guard: clamped 12 → 10 · scale_up.cpu")
	golden.RequireEqual(t, []byte(rec))
}

func TestTeatestApprovalYes(t *testing.T) {
	m := runIncident(t, composition{scenario: "high-cpu", mode: guard.ModeApprove}, func(tm *teatest.TestModel) {
		waitFor(t, tm, "Approve this change?")
		tm.Send(key("y"))
	})
	requireAll(t, m.Record(), "guard: allowed · scale_up.cpu · approved by the operator", "Outcome            resolved")
}

func TestTeatestApprovalQuitDeclinesAndCancels(t *testing.T) {
	m := runIncident(t, composition{scenario: "high-cpu", mode: guard.ModeApprove}, func(tm *teatest.TestModel) {
		waitFor(t, tm, "Approve this change?")
		tm.Send(key("q"))
	})
	if !m.Aborted() {
		t.Error("q did not count as the operator cancelling")
	}
	requireAll(t, m.Record(), "guard: refused · approval.declined", "declined by the operator", "Outcome            cancelled", "Cancelled before any change")
}
