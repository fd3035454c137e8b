package tui

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/agent"
)

// Work runs an incident (one or more alerts) to its end; ctx is cancelled
// when the operator quits. Its events reach the view through a Sink.
type Work func(ctx context.Context) error

// Ask answers one conversation request; its events reach the view through a
// Sink. It returns an error when the request could not be run at all.
type Ask func(ctx context.Context, request string) error

// Options configure the view.
type Options struct {
	// Header describes the platform and planner, e.g. "Planner: rules · Platform: simulated".
	Header string
	// Out is where the view is drawn (standard error); it decides the colour profile.
	Out io.Writer
	// NoColor forces the ASCII profile (NO_COLOR, --no-color).
	NoColor bool
	// In is where keys are read from: standard input when it is a terminal,
	// else nil (no keys; writes in approve mode are then refused).
	In io.Reader
	// Clock times the phases that are running.
	Clock clock.PassiveClock
	// Dashboard returns a dashboard link for a service, or "".
	Dashboard func(service string) string
	// Notice is a line under the header, e.g. "Resumed conversation from …
	// (3 turns)"; empty: none.
	Notice string
	// Recall gives a conversation's input an input history: ↑/↓ go through it
	// and shift+↑/↓ select a call. Nil: ↑/↓ select a call.
	Recall *Recall
}

// defaultWidth is used until the terminal reports its size.
const defaultWidth = 80

// entry is one run in the view; in a conversation, the request that started it.
type entry struct {
	request string
	run     *runState
	err     string
}

// Model is the bubbletea model of an incident or a conversation. The agent
// never runs inside Update: work and turns run in commands' goroutines and
// their events arrive as messages.
type Model struct {
	o      Options
	st     styles
	ctx    context.Context
	cancel context.CancelFunc
	work   Work
	ask    Ask
	chat   bool

	width, height int
	entries       []*entry
	spin          spinner.Model
	input         textinput.Model
	cursor        int  // index into calls(); -1 when there is none
	follow        bool // the cursor follows the newest call
	pending       *approvalMsg
	busy          bool
	cancelled     bool // cancel was asked for what runs now
	aborted       bool // the operator cancelled (q, ctrl-c, or declined by quitting)
	stopping      bool // quit once what runs has returned
	quitting      bool
	err           error

	hist *history // the input's history; nil without Options.Recall
}

// NewIncident returns the model of an incident: work starts with the program.
func NewIncident(ctx context.Context, o Options, work Work) *Model {
	m := newModel(ctx, o)
	m.work, m.busy = work, true
	return m
}

// NewChat returns the model of a conversation: each request typed runs ask.
func NewChat(ctx context.Context, o Options, ask Ask) *Model {
	m := newModel(ctx, o)
	m.ask, m.chat = ask, true
	in := textinput.New()
	in.Prompt = "› "
	in.Placeholder = "ask ops-skill, e.g. check system health and auto-scale if needed"
	in.CharLimit = 4096
	in.PromptStyle, in.TextStyle, in.PlaceholderStyle = m.st.prompt, m.st.r.NewStyle(), m.st.dim
	in.Cursor.Style = m.st.r.NewStyle().Reverse(true)
	in.Cursor.TextStyle = m.st.r.NewStyle()
	in.Width = defaultWidth - 4
	in.Focus()
	m.input = in
	if o.Recall != nil {
		m.hist = newHistory(*o.Recall)
	}
	return m
}

func newModel(ctx context.Context, o Options) *Model {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	st := newStyles(newRenderer(o.Out, o.NoColor))
	sp := spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.info))
	return &Model{o: o, st: st, ctx: ctx, cancel: func() {}, width: defaultWidth, spin: sp, cursor: -1, follow: true}
}

// Init starts the spinner and, for an incident, the work.
func (m *Model) Init() tea.Cmd {
	if m.chat {
		return textinput.Blink
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	work := m.work
	return tea.Batch(m.spin.Tick, func() tea.Msg {
		defer cancel()
		return workDoneMsg{err: work(ctx)}
	})
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 20), max(msg.Height, 0)
		m.input.Width = max(m.width-4, 10)
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	case eventMsg:
		m.event(msg.e)
		return m, nil
	case approvalMsg:
		m.pending = &msg
		return m, nil
	case workDoneMsg:
		return m.workDone(msg)
	case stopMsg:
		return m.stop()
	case spinner.TickMsg:
		if !m.busy {
			return m, nil // let the ticks stop; a new turn starts them again
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	}
	if m.chat {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

// event folds an agent event into the view.
func (m *Model) event(e agent.Event) {
	now := m.o.Clock.Now()
	if rs, ok := e.(agent.RunStarted); ok {
		m.startRun(rs, now)
	} else {
		r := m.lastRun()
		if r == nil || r.finished() {
			r = m.startRun(agent.RunStarted{At: eventTime(e)}, now)
		}
		r.apply(e, now)
	}
	if m.follow {
		m.cursor = len(m.calls()) - 1
	}
}

func (m *Model) startRun(ev agent.RunStarted, now time.Time) *runState {
	r := newRun(ev, now)
	if n := len(m.entries); n > 0 && m.entries[n-1].run == nil && m.entries[n-1].err == "" {
		m.entries[n-1].run = r // the turn the operator just asked for
	} else {
		m.entries = append(m.entries, &entry{run: r})
	}
	return r
}

func (m *Model) lastRun() *runState {
	for i := len(m.entries) - 1; i >= 0; i-- {
		if r := m.entries[i].run; r != nil {
			return r
		}
	}
	return nil
}

// calls lists every call in the view, in order: what the cursor moves over.
func (m *Model) calls() []*call {
	var out []*call
	for _, e := range m.entries {
		if e.run != nil {
			out = append(out, e.run.calls...)
		}
	}
	return out
}

func (m *Model) workDone(msg workDoneMsg) (tea.Model, tea.Cmd) {
	m.busy, m.cancelled = false, false
	m.err = msg.err
	if m.pending != nil { // the work gave up waiting (cancelled)
		m.answerPending(false)
	}
	if !m.chat || m.stopping {
		m.quitting = true
		return m, tea.Quit
	}
	if msg.err != nil && len(m.entries) > 0 {
		last := m.entries[len(m.entries)-1]
		last.err = msg.err.Error()
	}
	return m, m.input.Focus()
}

// stop handles a signal: cancel what runs and quit once it has returned.
func (m *Model) stop() (tea.Model, tea.Cmd) {
	m.stopping = true
	if m.busy {
		m.cancelled = true
		m.cancel()
		return m, nil
	}
	m.quitting = true
	return m, tea.Quit
}

// interrupt is q or ctrl-c: the first cancels what runs (the agent records
// the cancellation and ends its run), the second leaves at once; with
// nothing running, it quits.
func (m *Model) interrupt() (tea.Model, tea.Cmd) {
	switch {
	case m.busy && !m.cancelled:
		m.cancelled, m.aborted = true, true
		m.cancel()
		if !m.chat {
			m.stopping = true
		}
		return m, nil
	case m.busy:
		m.stopping, m.aborted = true, true
	}
	m.quitting = true
	return m, tea.Quit
}

func (m *Model) submit() (tea.Model, tea.Cmd) {
	text := strings.TrimSpace(m.input.Value())
	if text == "" {
		m.toggle()
		return m, nil
	}
	if m.busy {
		return m, nil // one request at a time; the text stays
	}
	m.input.Reset()
	if text == "exit" || text == "quit" {
		m.quitting = true
		return m, tea.Quit
	}
	if m.hist != nil {
		m.hist.add(text)
	}
	m.entries = append(m.entries, &entry{request: text})
	m.busy, m.follow = true, true
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	ask := m.ask
	return m, tea.Batch(m.spin.Tick, func() tea.Msg {
		defer cancel()
		return workDoneMsg{err: ask(ctx, text)}
	})
}

// answerPending answers the approval shown and notes the decision on its call.
func (m *Model) answerPending(ok bool) {
	p := m.pending
	m.pending = nil
	p.reply <- ok // buffered: never blocks
	if r := m.lastRun(); r != nil {
		if c := r.pendingWrite(); c != nil {
			c.approval = map[bool]string{true: "approved", false: "declined"}[ok]
		}
	}
}

// Err is the error the work (or the last turn) returned.
func (m *Model) Err() error { return m.err }

// Aborted reports whether the operator cancelled running work.
func (m *Model) Aborted() bool { return m.aborted }
