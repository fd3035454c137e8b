package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	testclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// Golden files live in testdata/<test name>.golden; go test -update rewrites them.

func key(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "ctrl+d":
		return tea.KeyMsg{Type: tea.KeyCtrlD}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestIncidentViewAtEachPhase(t *testing.T) {
	tests := []struct {
		name   string
		events []agent.Event
		wait   time.Duration // on the view's clock since the last event
	}{
		{"check_state", upTo(startEvents, checkEvents[:3]), 2 * time.Second},
		{"analyse_cause", upTo(startEvents, checkEvents, analyseEvents), time.Second},
		{"action", upTo(startEvents, checkEvents, analyseEvents, []agent.Event{scaleCall}), 0},
		{"verification", upTo(startEvents, checkEvents, analyseEvents, actionEvents, verifyEvents[:2]), 40 * time.Second},
		{"notification", upTo(startEvents, checkEvents, analyseEvents, actionEvents, verifyEvents, notifyEvents), 0},
		{"summary", upTo(startEvents, checkEvents, analyseEvents, actionEvents, verifyEvents, notifyEvents, []agent.Event{summaryEvent}), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newIncident(t)
			feed(m, tt.events...)
			clk.Step(tt.wait)
			golden.RequireEqual(t, []byte(m.View()))
		})
	}
}

func TestGuardDecisionsReadDifferently(t *testing.T) {
	tests := []struct {
		name string
		done agent.ToolDone
		want []string
	}{
		{"allowed", scaleDone, []string{"✓ #4 scaleDeployment", "guard: allowed · scale_up.cpu"}},
		{"clamped", clampDone, []string{"guard: clamped 12 → 10 · max_replicas — 12 replicas asked, 10"}},
		{"refused", refuseDone, []string{"⊘ #4 scaleDeployment", "guard: refused · scale_up.cpu — CPU 40% is not above 80%", "Refused: scaleDeployment — scale_up.cpu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newIncident(t)
			feed(m, upTo(startEvents, checkEvents, analyseEvents, []agent.Event{scaleCall, tt.done})...)
			view := m.View()
			for _, w := range tt.want {
				if !strings.Contains(view, w) {
					t.Errorf("view lacks %q:\n%s", w, view)
				}
			}
			golden.RequireEqual(t, []byte(view))
		})
	}
}

func TestApprovalAsksInsideTheView(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		want    bool
		records string
	}{
		{"y approves", "y", true, "approved by the operator"},
		{"n declines", "n", false, "declined by the operator"},
		{"enter declines by default", "enter", false, "declined by the operator"},
		{"esc declines", "esc", false, "declined by the operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newIncident(t)
			feed(m, upTo(startEvents, checkEvents, analyseEvents, []agent.Event{scaleCall})...)
			reply := make(chan bool, 1)
			m.Update(approvalMsg{plan: scalePlan, reply: reply})
			if tt.key == "y" {
				golden.RequireEqual(t, []byte(m.View()))
			}
			m.Update(key("x")) // not an answer: the prompt stays
			if m.pending == nil {
				t.Fatal("a key that is no answer closed the prompt")
			}
			m.Update(key(tt.key))
			select {
			case got := <-reply:
				if got != tt.want {
					t.Errorf("answer = %v, want %v", got, tt.want)
				}
			default:
				t.Fatal("no answer sent")
			}
			done := scaleDone
			if !tt.want {
				done = agent.ToolDone{At: sec(7), Phase: agent.PhaseAction, ID: "rules-1-0", Outcome: tools.Outcome{Tool: "scaleDeployment",
					Risk: tools.RiskWrite, Status: tools.StatusRefused, Target: "ai-data-labs/backend", Rule: "approval.declined",
					Reason: "the operator declined scale ai-data-labs/backend from 3 to 4 replicas"}}
			}
			feed(m, done)
			if v := m.View(); !strings.Contains(v, tt.records) || strings.Contains(v, "Approve this change?") {
				t.Errorf("after the answer the view should record %q and drop the prompt:\n%s", tt.records, v)
			}
		})
	}
}

// clusterHeader is the runtime's line for a run on cluster prod.
const clusterHeader = "Planner: rules (no LLM configured) · Platform: cluster prod-admin (10.0.0.1:6443)"

func TestApprovalNamesTheClusterAndEachPartition(t *testing.T) {
	m, _ := newIncident(t)
	m.o.Header = clusterHeader
	feed(m, onCluster(upTo(startEvents, checkEvents, analyseEvents))...)
	feed(m, agent.ToolCalled{At: sec(6), Phase: agent.PhaseAction, ID: "rules-1-0", Tool: "dropPartitions",
		Args: args(map[string]any{"database": "analytics", "table": "events"}), By: "rules"})
	m.Update(approvalMsg{plan: dropPlan, reply: make(chan bool, 1)})
	view := m.View()
	for _, want := range []string{"Where cluster prod (context prod-admin), namespace ai-data-labs",
		"Partitions 202603, 202604, 202605, 202606, 202607", "#4 dropPartitions awaiting approval: drop 5 partitions"} {
		if !strings.Contains(strings.Join(strings.Fields(view), " "), want) {
			t.Errorf("the approval lacks %q:\n%s", want, view)
		}
	}
	golden.RequireEqual(t, []byte(view))
}

func TestWriteLinesNameTheCluster(t *testing.T) {
	m, _ := newIncident(t)
	m.o.Header = clusterHeader
	feed(m, onCluster(fullRunEvents())...)
	rec := m.Record()
	for _, want := range []string{
		"Scale ai-data-labs/backend from 3 to 4 replicas on cluster prod (context prod-admin) ✓ #4 scaleDeployment",
		"Actions Scale ai-data-labs/backend from 3 to 4 replicas on │ │ cluster prod (context prod-admin) (executed)",
	} {
		if !strings.Contains(strings.Join(strings.Fields(rec), " "), want) {
			t.Errorf("the record lacks %q:\n%s", want, rec)
		}
	}
	golden.RequireEqual(t, []byte(rec))
}

func fullRunEvents() []agent.Event {
	return upTo(startEvents, checkEvents, analyseEvents, actionEvents, verifyEvents, notifyEvents, []agent.Event{summaryEvent})
}

func TestApprovalQuitDeclinesAndCancels(t *testing.T) {
	m, _ := newIncident(t)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	reply := make(chan bool, 1)
	m.Update(approvalMsg{plan: scalePlan, reply: reply})
	m.Update(key("ctrl+c"))
	if got := <-reply; got {
		t.Error("ctrl-c approved the write")
	}
	if ctx.Err() == nil || !m.Aborted() {
		t.Error("ctrl-c on the prompt did not cancel the run")
	}
}

func TestFinalRecordKeepsTheWholeRun(t *testing.T) {
	m, _ := newIncident(t)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 12}) // the live view is cut; the record is not
	feed(m, upTo(startEvents, checkEvents, analyseEvents, actionEvents, verifyEvents, notifyEvents, []agent.Event{summaryEvent})...)
	if strings.Contains(m.View(), "1. Check current state") {
		t.Errorf("a 12-line view shows the first phase:\n%s", m.View())
	}
	m.Update(workDoneMsg{})
	if !m.quitting || m.View() != "" {
		t.Error("the view did not quit once the work ended")
	}
	golden.RequireEqual(t, []byte(m.Record()))
}

func TestExpandShowsACallsResult(t *testing.T) {
	m, _ := newIncident(t)
	feed(m, upTo(startEvents, checkEvents, analyseEvents, actionEvents)...)
	m.Update(key("k")) // from the scale (#4) to the request-rate query (#3)
	m.Update(key("enter"))
	golden.RequireEqual(t, []byte(m.View()))
	m.Update(key("enter"))
	if strings.Contains(m.View(), `"trend": "flat"`) {
		t.Error("enter again did not fold the call")
	}
}

func TestCursorMovesAndStopsAtTheEnds(t *testing.T) {
	m, _ := newIncident(t)
	feed(m, upTo(startEvents, checkEvents, analyseEvents)...)
	steps := []struct {
		key    string
		cursor int
		follow bool
	}{{"up", 1, false}, {"k", 0, false}, {"k", 0, false}, {"j", 1, false}, {"down", 2, true}, {"j", 2, true}, {"g", 0, false}, {"G", 2, true}}
	for _, s := range steps {
		m.Update(key(s.key))
		if m.cursor != s.cursor || m.follow != s.follow {
			t.Fatalf("after %q: cursor %d follow %v, want %d %v", s.key, m.cursor, m.follow, s.cursor, s.follow)
		}
	}
	feed(m, scaleCall)
	if m.cursor != 3 {
		t.Errorf("following cursor = %d, want the new call (3)", m.cursor)
	}
}

func TestResizeReflows(t *testing.T) {
	m, _ := newIncident(t)
	feed(m, upTo(startEvents, checkEvents, analyseEvents, actionEvents, verifyEvents, notifyEvents, []agent.Event{summaryEvent})...)
	for _, w := range []int{80, 60, 120} {
		m.Update(tea.WindowSizeMsg{Width: w, Height: 0})
		for i, l := range strings.Split(m.View(), "\n") {
			if n := displayWidth(l); n > w {
				t.Errorf("width %d: line %d is %d wide: %q", w, i+1, n, l)
			}
		}
	}
}

func TestScrollingKeepsTheCursorInView(t *testing.T) {
	m, _ := newIncident(t)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 14})
	feed(m, upTo(startEvents, checkEvents, analyseEvents, actionEvents, verifyEvents)...)
	if n := strings.Count(m.View(), "\n") + 1; n > 14 {
		t.Fatalf("view is %d lines in a 14-line terminal", n)
	}
	m.Update(key("g"))
	v := m.View()
	if !strings.Contains(v, "▸ ✓ #1 getServiceStatus") || !strings.Contains(v, "more lines") {
		t.Errorf("the first call is not in view after g:\n%s", v)
	}
}

func TestQuitCancelsTheWorkAndWaitsForIt(t *testing.T) {
	m, _ := newIncident(t)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	if _, cmd := m.Update(key("q")); cmd != nil {
		t.Error("q quit before the agent recorded the cancellation")
	}
	if ctx.Err() == nil || !m.Aborted() {
		t.Fatal("q did not cancel the work")
	}
	if !strings.Contains(m.View(), "cancelling") {
		t.Errorf("the view does not say it is cancelling:\n%s", m.View())
	}
	feed(m, agent.RunStarted{At: sec(0), Alert: cpuAlert, Planner: "rules", Mode: "auto"},
		agent.Summary{At: sec(1), Alert: cpuAlert.Text, Resolution: agent.Failed, Headline: "Run failed", Planner: "rules", Mode: "auto", Error: "cancelled: context canceled"})
	_, cmd := m.Update(workDoneMsg{err: nil})
	if cmd == nil || !m.quitting {
		t.Error("the view did not quit once the cancelled work returned")
	}
	if r := m.Record(); !strings.Contains(r, "cancelled: context canceled") {
		t.Errorf("the record does not show the cancellation:\n%s", r)
	}
}

func TestSecondCtrlCLeavesAtOnce(t *testing.T) {
	m, _ := newIncident(t)
	m.Update(key("ctrl+c"))
	if _, cmd := m.Update(key("ctrl+c")); cmd == nil || !m.quitting {
		t.Error("a second ctrl-c did not quit")
	}
}

func TestASignalStopsLikeCtrlC(t *testing.T) {
	m, _ := newIncident(t)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.Update(stopMsg{})
	if ctx.Err() == nil {
		t.Error("a signal did not cancel the work")
	}
	if _, cmd := m.Update(workDoneMsg{}); cmd == nil {
		t.Error("the view did not quit after the work returned")
	}
}

func TestWorkErrorIsKept(t *testing.T) {
	m, _ := newIncident(t)
	boom := errors.New("boom")
	m.Update(workDoneMsg{err: boom})
	if !errors.Is(m.Err(), boom) {
		t.Errorf("Err() = %v", m.Err())
	}
}

func TestPlannerFallbackIsShown(t *testing.T) {
	m, _ := newIncident(t)
	feed(m, agent.RunStarted{At: sec(0), Alert: cpuAlert, Planner: "gpt-4o", Mode: "auto"},
		agent.PlannerSwitched{At: sec(1), From: "gpt-4o", To: "rules", Reason: "gpt-4o failed: the model timed out"})
	v := m.View()
	for _, w := range []string{"Planner: gpt-4o → rules · Mode: auto", "⚠ Planner fallback: gpt-4o → rules: gpt-4o failed: the model timed out"} {
		if !strings.Contains(v, w) {
			t.Errorf("view lacks %q:\n%s", w, v)
		}
	}
}

func TestConversationKeepsEveryTurn(t *testing.T) {
	clk := testclock.NewFakeClock(at)
	var asked []string
	m := NewChat(context.Background(), testOptions(clk), func(_ context.Context, text string) error {
		asked = append(asked, text)
		return nil
	})
	m.Update(tea.WindowSizeMsg{Width: 80})
	turn := func(text string, events ...agent.Event) {
		t.Helper()
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(text)})
		_, cmd := m.Update(key("enter"))
		if cmd == nil || !m.busy {
			t.Fatalf("%q did not start a turn", text)
		}
		runCmd(cmd)
		feed(m, events...)
		m.Update(workDoneMsg{})
	}
	req := func(text string) alert.Alert { return alert.Alert{Source: "chat", Text: text} }
	turn("check system health and auto-scale if needed",
		agent.RunStarted{At: sec(0), Alert: req("check system health and auto-scale if needed"), Planner: "rules", Mode: "auto"},
		scaleCall, scaleDone,
		agent.Reported{At: sec(8), Phase: agent.PhaseNotify, Final: true, Report: plan.Report{Text: "Backend was at 85% CPU: scaled it from 3 to 4 replicas."}},
		agent.Verified{At: sec(128), Signal: "CPU", Before: "85%", After: "45%", Result: "resolved", Waited: units.Seconds(2 * time.Minute)},
		agent.Summary{At: sec(129), Alert: "check system health", Resolution: agent.Resolved, Headline: "Scaled ai-data-labs/backend from 3 to 4 replicas",
			Actions: []agent.Action{{Tool: "scaleDeployment"}}, Refusals: []agent.Refusal{}})
	turn("why did you scale backend?",
		agent.RunStarted{At: sec(200), Alert: req("why did you scale backend?"), Planner: "rules", Mode: "auto"},
		agent.Reported{At: sec(201), Phase: agent.PhaseNotify, Final: true, Report: plan.Report{Text: "CPU stayed above 80% for 15 minutes while requests rose to 430/s."}},
		agent.Summary{At: sec(201), Alert: "why did you scale backend?", Resolution: agent.NoAction, Actions: []agent.Action{}, Refusals: []agent.Refusal{}})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("what would you do if CPU stayed at 90%?")})
	if len(asked) != 2 || asked[1] != "why did you scale backend?" {
		t.Errorf("asked %q", asked)
	}
	golden.RequireEqual(t, []byte(m.View()))
}

func TestConversationShowsABadRequest(t *testing.T) {
	m := NewChat(context.Background(), testOptions(testclock.NewFakeClock(at)), func(context.Context, string) error { return nil })
	m.Update(key("x"))
	_, cmd := m.Update(key("enter"))
	runCmd(cmd)
	m.Update(workDoneMsg{err: errors.New("the request is empty")})
	if v := m.View(); !strings.Contains(v, "ops-skill: the request is empty") {
		t.Errorf("view lacks the error:\n%s", v)
	}
	if m.busy {
		t.Error("still busy after the turn returned")
	}
}

func TestConversationKeys(t *testing.T) {
	m := NewChat(context.Background(), testOptions(testclock.NewFakeClock(at)), func(context.Context, string) error { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	m.Update(key("q"))
	if m.input.Value() != "q" || m.quitting {
		t.Fatalf("q in a conversation is text: input %q, quitting %v", m.input.Value(), m.quitting)
	}
	m.busy, m.cancel = true, cancel
	if _, cmd := m.Update(key("ctrl+c")); cmd != nil || ctx.Err() == nil {
		t.Fatal("ctrl-c during a turn should cancel the turn, not quit")
	}
	m.Update(workDoneMsg{})
	if m.quitting || !m.Aborted() {
		t.Fatalf("quitting %v aborted %v after a cancelled turn", m.quitting, m.Aborted())
	}
	m.input.Reset()
	if _, cmd := m.Update(key("ctrl+d")); cmd == nil || !m.quitting {
		t.Error("ctrl-d on an empty line did not quit")
	}
}

func TestConversationExitWordQuits(t *testing.T) {
	m := NewChat(context.Background(), testOptions(testclock.NewFakeClock(at)), func(context.Context, string) error {
		t.Error("exit was sent to the agent")
		return nil
	})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("exit")})
	if _, cmd := m.Update(key("enter")); cmd == nil || !m.quitting {
		t.Error("exit did not quit")
	}
}

// runCmd runs a command and the commands of its batch, as the program's
// goroutines would, dropping their messages.
func runCmd(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if b, ok := cmd().(tea.BatchMsg); ok {
		for _, c := range b {
			runCmd(c)
		}
	}
}

func displayWidth(s string) int { return lipgloss.Width(s) }

// End of input while a request runs (ctrl-d typed ahead, or stdin closed)
// quits once the request has answered, never leaving the conversation hung.
func TestCtrlDDuringATurnQuitsAfterIt(t *testing.T) {
	m := NewChat(context.Background(), testOptions(testclock.NewFakeClock(at)), func(context.Context, string) error { return nil })
	m.busy = true
	if _, cmd := m.Update(key("ctrl+d")); cmd != nil || m.quitting {
		t.Fatal("ctrl-d during a turn quit before the turn answered")
	}
	if _, cmd := m.Update(workDoneMsg{}); cmd == nil || !m.quitting {
		t.Error("the conversation did not quit after the turn that ctrl-d waited for")
	}
}
