package tui

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/tools"
)

// Sender delivers a message to a running program; *tea.Program is one.
type Sender interface {
	Send(msg tea.Msg)
}

// eventMsg carries an agent event into the program.
type eventMsg struct{ e agent.Event }

// approvalMsg asks the operator about one write; the answer goes to reply.
type approvalMsg struct {
	plan  tools.Plan
	reply chan<- bool
}

// workDoneMsg says the incident's work, or a conversation turn, has returned.
type workDoneMsg struct{ err error }

// stopMsg says the process was asked to stop (a signal cancelled its context).
type stopMsg struct{}

// Sink is an agent.Sink that pushes events into a program. Emit blocks only
// until the program's loop takes the event, and not at all once it has ended.
type Sink struct{ to Sender }

// NewSink returns a sink sending to s.
func NewSink(s Sender) *Sink { return &Sink{to: s} }

// Emit sends one event to the program.
func (k *Sink) Emit(e agent.Event) { k.to.Send(eventMsg{e: e}) }

// Approver is a tools.Approver that asks the operator inside the TUI: Approve
// blocks until the operator answers y or n, or ctx ends.
type Approver struct {
	to          Sender
	interactive bool
}

// NewApprover asks through s; interactive says whether keys can be read (the
// gate refuses writes in approve mode when nobody can answer).
func NewApprover(s Sender, interactive bool) *Approver {
	return &Approver{to: s, interactive: interactive}
}

// Interactive reports whether a person can answer.
func (a *Approver) Interactive() bool { return a.interactive }

// Approve shows the plan and waits for the operator's answer.
func (a *Approver) Approve(ctx context.Context, p tools.Plan) (bool, error) {
	if !a.interactive {
		return false, fmt.Errorf("approve %s: %w", p.Summary, ErrNotInteractive)
	}
	reply := make(chan bool, 1)
	a.to.Send(approvalMsg{plan: p, reply: reply})
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case ok := <-reply:
		return ok, nil
	}
}

var (
	_ agent.Sink     = (*Sink)(nil)
	_ tools.Approver = (*Approver)(nil)
)
