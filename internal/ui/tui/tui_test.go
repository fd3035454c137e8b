package tui

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	testclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/testenv"
)

func uiOptions(out io.Writer, in io.Reader) Options {
	o := testOptions(testclock.NewFakeClock(at))
	o.Out, o.In = out, in
	return o
}

func fullRun() []agent.Event {
	return upTo(startEvents, checkEvents, analyseEvents, actionEvents, verifyEvents, notifyEvents, []agent.Event{summaryEvent})
}

func TestIncidentRunsTheWorkAndLeavesTheRecord(t *testing.T) {
	var out testenv.SyncBuffer
	ui := New(uiOptions(&out, nil))
	sink := ui.Sink()
	err := ui.Incident(context.Background(), func(context.Context) error {
		for _, e := range fullRun() {
			sink.Emit(e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The record comes after the live view, whole, with no cursor. The live
	// frames drawn meanwhile (how many depends on the machine's speed) show the
	// cursor; the record is what follows the program's last control sequence.
	rec, ok := afterLastControl(out.String())
	if !ok || !strings.Contains(rec, "1. Check current state") || !strings.Contains(rec, "Time to resolution 2m") || strings.Contains(rec, "▸") {
		t.Errorf("output does not end with the record:\n%q", out.String())
	}
}

// afterLastControl is the text after the last ANSI control sequence (CSI).
func afterLastControl(s string) (string, bool) {
	i := strings.LastIndex(s, "\x1b[")
	if i < 0 {
		return "", false
	}
	rest := s[i+2:]
	end := strings.IndexFunc(rest, func(r rune) bool { return r >= 0x40 && r <= 0x7e })
	if end < 0 {
		return "", false
	}
	return rest[end+1:], true
}

func TestIncidentReturnsTheWorksError(t *testing.T) {
	boom := errors.New("boom")
	ui := New(uiOptions(&testenv.SyncBuffer{}, nil))
	if err := ui.Incident(context.Background(), func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the work's error", err)
	}
}

// blockingWork starts a run, waits for its context to end and closes the run
// as the agent does when cancelled.
func blockingWork(sink agent.Sink, started chan<- struct{}) Work {
	return func(ctx context.Context) error {
		sink.Emit(agent.RunStarted{At: sec(0), Alert: cpuAlert, Planner: "rules", Mode: "auto"})
		close(started)
		<-ctx.Done()
		sink.Emit(agent.Summary{At: sec(1), Alert: cpuAlert.Text, Resolution: agent.Failed, Headline: "Run failed",
			Error: "cancelled: " + ctx.Err().Error(), Actions: []agent.Action{}, Refusals: []agent.Refusal{}})
		return ctx.Err()
	}
}

func TestQKeyCancelsTheWorkCleanly(t *testing.T) {
	in, keys := io.Pipe()
	defer keys.Close()
	var out testenv.SyncBuffer
	ui := New(uiOptions(&out, in))
	started := make(chan struct{})
	go func() {
		<-started
		_, _ = keys.Write([]byte("q"))
	}()
	err := ui.Incident(context.Background(), blockingWork(ui.Sink(), started))
	if !errors.Is(err, ErrCancelled) {
		t.Errorf("err = %v, want ErrCancelled", err)
	}
	if !strings.Contains(out.String(), "cancelled: context canceled") {
		t.Errorf("the record does not show the cancellation:\n%s", out.String())
	}
}

func TestASignalCancelsTheWorkAndEndsTheView(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out testenv.SyncBuffer
	ui := New(uiOptions(&out, nil))
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()
	err := ui.Incident(ctx, blockingWork(ui.Sink(), started))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrCancelled) {
		t.Errorf("err = %v, want the work's context error (not the operator's)", err)
	}
	if !strings.Contains(out.String(), "cancelled: context canceled") {
		t.Errorf("the record does not show the cancellation:\n%s", out.String())
	}
}

func TestChatReadsRequestsFromTheKeyboard(t *testing.T) {
	in, keys := io.Pipe()
	defer keys.Close()
	var out testenv.SyncBuffer
	ui := New(uiOptions(&out, in))
	sink := ui.Sink()
	var asked []string
	answered := make(chan struct{}, 2)
	ask := func(_ context.Context, text string) error {
		asked = append(asked, text)
		sink.Emit(agent.RunStarted{At: sec(0), Alert: alert.Alert{Source: "chat", Text: text}, Planner: "rules", Mode: "auto"})
		sink.Emit(agent.Reported{At: sec(1), Phase: agent.PhaseNotify, Final: true, Report: plan.Report{Text: "answer to " + text}})
		sink.Emit(agent.Summary{At: sec(1), Alert: text, Resolution: agent.NoAction, Actions: []agent.Action{}, Refusals: []agent.Refusal{}})
		answered <- struct{}{}
		return nil
	}
	go func() {
		for _, line := range []string{"show ClickHouse disk growth", "why did you scale backend?"} {
			_, _ = keys.Write([]byte(line + "\r"))
			select {
			case <-answered:
			case <-time.After(10 * time.Second):
			}
		}
		_, _ = keys.Write([]byte{0x04}) // ctrl-d
	}()
	if err := ui.Chat(context.Background(), ask); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || asked[1] != "why did you scale backend?" {
		t.Errorf("asked %q", asked)
	}
	if !strings.Contains(out.String(), "answer to why did you scale backend?") {
		t.Errorf("the record lacks the second answer:\n%s", out.String())
	}
}

func TestApproverWithoutKeysDoesNotAsk(t *testing.T) {
	ap := New(uiOptions(&testenv.SyncBuffer{}, nil)).Approver()
	if ap.Interactive() {
		t.Error("an approver without keys says it can ask")
	}
	if ok, err := ap.Approve(context.Background(), scalePlan); ok || !errors.Is(err, ErrNotInteractive) {
		t.Errorf("approve = %v, %v", ok, err)
	}
}

func TestApproverGivesUpWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ap := NewApprover(senderFunc(func(tea.Msg) {}), true)
	if ok, err := ap.Approve(ctx, scalePlan); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("approve = %v, %v", ok, err)
	}
}

func TestEventsAfterTheProgramEndedReachTheRecord(t *testing.T) {
	m, _ := newIncident(t)
	r := &relay{}
	r.detach(m)
	NewSink(r).Emit(agent.RunStarted{At: sec(0), Alert: cpuAlert, Planner: "rules", Mode: "auto"})
	reply := make(chan bool, 1)
	r.Send(approvalMsg{plan: scalePlan, reply: reply})
	if !strings.Contains(m.Record(), "Backend service CPU") {
		t.Errorf("record:\n%s", m.Record())
	}
	if <-reply {
		t.Error("an approval after the program ended was granted")
	}
}

type senderFunc func(tea.Msg)

func (f senderFunc) Send(msg tea.Msg) { f(msg) }
