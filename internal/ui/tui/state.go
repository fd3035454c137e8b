package tui

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/ui/lines"
	"github.com/duet-company/ops-skill/tools"
)

// call is one tool call as the view shows it.
type call struct {
	n        int // 1-based, per run
	id       string
	tool     string
	args     json.RawMessage
	by       string
	phase    agent.Phase
	done     bool
	out      tools.Outcome
	verdict  string // allow, clamp, refuse
	from, to int64
	approval string // "approved" or "declined" by the operator, in approve mode
	expanded bool
	on       string // where a write acts, " on cluster …" (platform.Where.On); "" when simulated
}

// phaseState is what happened in one phase of a run. A phase can be entered
// more than once (a model reads again after a write); its time is the sum.
type phaseState struct {
	started   bool
	active    bool          // the current phase
	enteredAt time.Time     // the agent's clock, when last entered
	spent     time.Duration // in the phase before it was last entered
	calls     []*call
	notes     []note
}

// note is a line of text under a phase: the planner's words, a verification,
// a notification.
type note struct {
	text  string
	tone  Tone
	quote bool // the planner's words
}

// runState is one run (an alert or a conversation turn) as the view shows it.
type runState struct {
	start    agent.RunStarted
	chat     bool
	phases   map[agent.Phase]*phaseState
	current  agent.Phase
	calls    []*call
	byID     map[string]*call
	switched []agent.PlannerSwitched
	answer   []string       // the planner's words, in a conversation turn
	decision string         // the planner's last decision line, the result of "Analyse cause"
	waiting  *agent.Waiting // the settle wait before verification
	verified *agent.Verified
	notified []agent.Notified
	summary  *agent.Summary
	lastAt   time.Time // the agent's clock at the last event
	lastSeen time.Time // the view's clock when the last event arrived
}

func newRun(ev agent.RunStarted, seen time.Time) *runState {
	r := &runState{start: ev, chat: ev.Alert.Source == alert.SourceChat, phases: map[agent.Phase]*phaseState{},
		byID: map[string]*call{}, lastAt: ev.At, lastSeen: seen}
	for _, p := range agent.Phases {
		r.phases[p] = &phaseState{}
	}
	return r
}

// finished reports whether the run's summary has arrived.
func (r *runState) finished() bool { return r.summary != nil }

// enter makes p the current phase, closing the one before it.
func (r *runState) enter(p agent.Phase, at time.Time) {
	if p == "" || p == r.current {
		return
	}
	if prev, ok := r.phases[r.current]; ok && prev.active {
		prev.spent += max(at.Sub(prev.enteredAt), 0)
		prev.active = false
	}
	r.current = p
	if ps, ok := r.phases[p]; ok {
		ps.started, ps.active, ps.enteredAt = true, true, at
	}
}

// apply folds one event into the run.
func (r *runState) apply(e agent.Event, seen time.Time) {
	switch ev := e.(type) {
	case agent.PhaseStarted:
		r.enter(ev.Phase, ev.At)
	case agent.PlannerSwitched:
		r.switched = append(r.switched, ev)
	case agent.SubjectResolved:
		r.project(e)
	case agent.Reported:
		if d := lines.Decision(ev.Report); d != "" {
			r.decision = d
		}
		r.project(e)
	case agent.ToolCalled:
		r.called(ev)
	case agent.ToolDone:
		r.done(ev)
	case agent.Waiting:
		r.waiting = &ev
	case agent.Verified:
		r.verified = &ev
		r.project(e)
	case agent.Notified:
		r.notified = append(r.notified, ev)
		r.project(e)
	case agent.HistoryFailed, agent.Resumed:
		r.project(e)
	case agent.Summary:
		r.enter(agent.Phase("done"), ev.At)
		r.summary = &ev
	}
	if at := eventTime(e); !at.IsZero() {
		r.lastAt = at
	}
	r.lastSeen = seen
}

// project adds the lines the shared projection gives an event, each where
// it belongs (see lines.Place).
func (r *runState) project(e agent.Event) {
	for _, l := range lines.Project(e, r.start) {
		if l.Place == lines.PlaceAnswer {
			r.answer = append(r.answer, l.Text)
			continue
		}
		if ps, ok := r.phases[r.placeOf(l.Place)]; ok {
			ps.notes = append(ps.notes, note{text: l.Text, tone: toneOf(l.Tone), quote: l.Quote})
		}
	}
}

// placeOf resolves a place to a phase: the planner's words go under
// "Analyse cause", or under "Action" when they come between writes; a line
// for "here" goes under the phase in progress (the first before any).
func (r *runState) placeOf(p lines.Place) agent.Phase {
	switch p {
	case lines.PlaceWork, lines.PlaceFallback:
		if r.current == agent.PhaseAction {
			return agent.PhaseAction
		}
		return agent.PhaseAnalys
	case lines.PlaceHere:
		if _, ok := r.phases[r.current]; ok {
			return r.current
		}
		return agent.PhaseCheck
	}
	return p
}

func toneOf(t lines.Tone) Tone {
	switch t {
	case lines.ToneGood:
		return ToneGood
	case lines.ToneWarn:
		return ToneWarn
	case lines.ToneBad:
		return ToneBad
	case lines.ToneDim:
		return ToneDim
	}
	return ToneNone
}

func (r *runState) called(ev agent.ToolCalled) {
	r.enter(ev.Phase, ev.At)
	c := &call{n: len(r.calls) + 1, id: ev.ID, tool: string(ev.Tool), args: ev.Args, by: ev.By, phase: ev.Phase, on: r.start.Where.On()}
	r.calls = append(r.calls, c)
	if ev.ID != "" {
		r.byID[ev.ID] = c
	}
	if ps, ok := r.phases[ev.Phase]; ok {
		ps.calls = append(ps.calls, c)
	}
}

func (r *runState) done(ev agent.ToolDone) {
	c, ok := r.byID[ev.ID]
	if !ok || c.done {
		// A result without its call (a recorded stream cut short): show it anyway.
		r.called(agent.ToolCalled{At: ev.At, Phase: ev.Phase, ID: ev.ID, Tool: ev.Outcome.Tool})
		c = r.calls[len(r.calls)-1]
	}
	c.done, c.out, c.verdict, c.from, c.to = true, ev.Outcome, ev.Verdict, ev.From, ev.To
	if c.approval == "" && ev.Outcome.Rule == guard.RuleApprovalDeclined {
		c.approval = "declined"
	}
}

// pendingWrite is the latest write still running: the one an approval is about.
func (r *runState) pendingWrite() *call {
	for i := len(r.calls) - 1; i >= 0; i-- {
		if c := r.calls[i]; !c.done && c.phase == agent.PhaseAction {
			return c
		}
	}
	return nil
}

// elapsed is how long phase p took, or has been running: the agent's clock
// for what it reported, plus, while it runs, the view's clock since the last
// event.
func (r *runState) elapsed(p agent.Phase, now time.Time) (time.Duration, bool) {
	ps, ok := r.phases[p]
	if !ok || !ps.started {
		return 0, false
	}
	d := ps.spent
	if ps.active {
		d += max(r.lastAt.Sub(ps.enteredAt), 0) + max(now.Sub(r.lastSeen), 0)
	}
	return d, true
}

// running reports whether p is the phase in progress.
func (r *runState) running(p agent.Phase) bool { return !r.finished() && r.current == p }

func eventTime(e agent.Event) time.Time {
	switch ev := e.(type) {
	case agent.RunStarted:
		return ev.At
	case agent.PhaseStarted:
		return ev.At
	case agent.PlannerSwitched:
		return ev.At
	case agent.Reported:
		return ev.At
	case agent.SubjectResolved:
		return ev.At
	case agent.ToolCalled:
		return ev.At
	case agent.ToolDone:
		return ev.At
	case agent.Waiting:
		return ev.At
	case agent.Verified:
		return ev.At
	case agent.Notified:
		return ev.At
	case agent.HistoryFailed:
		return ev.At
	case agent.Resumed:
		return ev.At
	case agent.Summary:
		return ev.At
	}
	return time.Time{}
}

// verifiedLine is the first line the projection gives a verification: the
// signal after the wait and before; its verdict is the next line.
func verifiedLine(v agent.Verified) string { return lines.Verified(v)[0].Text }

func verifiedTone(result platform.VerifyResult) Tone { return toneOf(lines.VerifiedTone(result)) }

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
