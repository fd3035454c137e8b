// Package tui is ops-skill's terminal UI, drawn on standard error with
// bubbletea and lipgloss (the only package that imports the Charm
// libraries). It shows an incident as it unfolds — each phase with a spinner,
// its elapsed time and a one-line result; the numbered tool calls, expandable
// to their summarised results; the guard's decisions (allowed, clamped,
// refused); the planner and any fallback; a final summary box — asks y/N for
// each write in approve mode, and holds a conversation with the agent.
//
// The agent never runs inside Update: the work runs in a goroutine and its
// events are pushed into the program with Send (see Sink and Approver).
package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
)

// ErrNotInteractive says an approval was asked for with no terminal to answer on.
var ErrNotInteractive = errors.New("no terminal to ask on")

// ErrCancelled says the operator cancelled the work (q or ctrl-c). It is a
// context.Canceled (errors.Is), so the command ends as a signal would.
var ErrCancelled error = operatorCancelled{}

type operatorCancelled struct{}

func (operatorCancelled) Error() string        { return "cancelled by the operator" }
func (operatorCancelled) Is(target error) bool { return target == context.Canceled }

// UI runs the view on a terminal. Build the agent with its Sink and Approver,
// then call Incident or Chat once.
type UI struct {
	o     Options
	relay *relay
}

// New returns a UI drawing on o.Out and reading keys from o.In (nil: no keys).
func New(o Options) *UI { return &UI{o: o, relay: &relay{}} }

// Sink returns the sink to give the agent: its events go to the view.
func (u *UI) Sink() *Sink { return NewSink(u.relay) }

// Approver returns the approver to give the agent: it asks y/N in the view.
func (u *UI) Approver() *Approver { return NewApprover(u.relay, u.o.In != nil) }

// Incident shows work as it runs and returns once it has ended and its
// record is printed. q or ctrl-c cancels the work's context; the agent ends
// its current step, records the cancellation, and Incident returns
// ErrCancelled. Otherwise it returns the work's error.
func (u *UI) Incident(ctx context.Context, work Work) error {
	base, cancel := context.WithCancel(ctx)
	defer cancel()
	var g tracker
	m := NewIncident(base, u.o, func(ctx context.Context) error {
		if !g.enter() {
			return ErrCancelled
		}
		defer g.leave()
		return work(ctx)
	})
	return u.finish(m, u.run(ctx, m), cancel, &g)
}

// Chat holds a conversation: each request typed runs ask. It returns when the
// operator quits (ctrl-c or ctrl-d on an empty line, or "exit").
func (u *UI) Chat(ctx context.Context, ask Ask) error {
	base, cancel := context.WithCancel(ctx)
	defer cancel()
	var g tracker
	m := NewChat(base, u.o, func(ctx context.Context, text string) error {
		if !g.enter() {
			return ErrCancelled
		}
		defer g.leave()
		return ask(ctx, text)
	})
	return u.finish(m, u.run(ctx, m), cancel, &g)
}

// run runs the program until it quits; a cancelled ctx (a signal) stops it
// the way ctrl-c does, so the agent still records how the run ended.
func (u *UI) run(ctx context.Context, m *Model) error {
	opts := []tea.ProgramOption{tea.WithOutput(u.o.Out), tea.WithoutSignalHandler(), tea.WithInput(u.o.In)}
	p := tea.NewProgram(m, opts...)
	u.relay.attach(p)
	stop := context.AfterFunc(ctx, func() { p.Send(stopMsg{}) })
	defer stop()
	_, err := p.Run()
	u.relay.detach(m)
	if err != nil {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

// finish waits for what still runs (cancelled), prints the record and says
// how the work ended.
func (u *UI) finish(m *Model, runErr error, cancel context.CancelFunc, g *tracker) error {
	cancel()
	g.close()
	_, _ = fmt.Fprint(u.o.Out, m.Record())
	switch {
	case runErr != nil:
		return runErr
	case m.chat:
		return nil // a cancelled turn is in its summary; the conversation went on
	case m.Aborted():
		return ErrCancelled
	}
	return m.Err()
}

// relay forwards messages to the program while it runs; after it has ended,
// events go straight into the final model (so the record shows how a
// cancelled run ended) and approvals are declined.
type relay struct {
	mu    sync.Mutex
	p     *tea.Program
	after *Model
}

func (r *relay) attach(p *tea.Program) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.p, r.after = p, nil
}

func (r *relay) detach(m *Model) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.p, r.after = nil, m
}

// Send delivers msg to the running program, or to the final model.
func (r *relay) Send(msg tea.Msg) {
	r.mu.Lock()
	p, m := r.p, r.after
	if m == nil {
		r.mu.Unlock()
		if p != nil {
			p.Send(msg)
		}
		return
	}
	defer r.mu.Unlock()
	switch msg := msg.(type) {
	case eventMsg:
		m.event(msg.e)
	case approvalMsg:
		msg.reply <- false
	}
}

// tracker counts the work running, so that the UI returns only after it has
// ended, and refuses work that would start after the program.
type tracker struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	closed bool
}

func (t *tracker) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	return true
}

func (t *tracker) leave() { t.wg.Done() }

// close refuses new work and waits for what runs.
func (t *tracker) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
}
