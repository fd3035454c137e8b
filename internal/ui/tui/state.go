package tui

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
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
	waiting  *agent.Waiting // the settle wait before verification
	verified *agent.Verified
	notified []agent.Notified
	summary  *agent.Summary
	lastAt   time.Time // the agent's clock at the last event
	lastSeen time.Time // the view's clock when the last event arrived
}

func newRun(ev agent.RunStarted, seen time.Time) *runState {
	r := &runState{start: ev, chat: ev.Alert.Source == "chat", phases: map[agent.Phase]*phaseState{},
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
	case agent.ModelText:
		r.modelText(ev)
	case agent.ToolCalled:
		r.called(ev)
	case agent.ToolDone:
		r.done(ev)
	case agent.Waiting:
		r.waiting = &ev
	case agent.Verified:
		r.verified = &ev
		r.phases[agent.PhaseVerify].notes = append(r.phases[agent.PhaseVerify].notes, note{text: verifiedLine(ev), tone: verifiedTone(ev.Result)})
	case agent.Notified:
		r.notified = append(r.notified, ev)
		for _, n := range notifiedLines(ev) {
			r.phases[agent.PhaseNotify].notes = append(r.phases[agent.PhaseNotify].notes, n)
		}
	case agent.HistoryFailed:
		r.historyFailed(ev)
	case agent.Summary:
		r.enter(agent.Phase("done"), ev.At)
		r.summary = &ev
	}
	if at := eventTime(e); !at.IsZero() {
		r.lastAt = at
	}
	r.lastSeen = seen
}

// historyFailed notes a failed history write under the phase in progress
// (the first phase before any has started).
func (r *runState) historyFailed(ev agent.HistoryFailed) {
	ps, ok := r.phases[r.current]
	if !ok {
		ps = r.phases[agent.PhaseCheck]
	}
	ps.notes = append(ps.notes, note{text: capital(ev.String()), tone: ToneBad})
}

// modelText puts the planner's reasoning under "Analyse cause"; in a final
// answer, the diagnosis and decision stay there and the rest is its closing
// word, shown with the notification (as the plain transcript does). In a
// conversation, the words are the answer.
func (r *runState) modelText(ev agent.ModelText) {
	if r.chat {
		r.answer = append(r.answer, strings.TrimSpace(ev.Text))
		return
	}
	for _, line := range strings.Split(ev.Text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p := agent.PhaseAnalys
		if ev.Final && !isAnalysis(line) {
			p, line = agent.PhaseNotify, "Planner: "+line
		}
		for _, part := range splitDiagnosis(line) {
			r.phases[p].notes = append(r.phases[p].notes, note{text: part, quote: true})
		}
	}
}

// splitDiagnosis turns "Diagnosis: a; b; c" into lines a, b, c.
func splitDiagnosis(line string) []string {
	body, ok := strings.CutPrefix(line, "Diagnosis: ")
	if !ok {
		return []string{line}
	}
	return strings.Split(body, "; ")
}

func isAnalysis(line string) bool {
	for _, p := range []string{"Diagnosis: ", "Cause: ", "Decision: "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
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
	case agent.ModelText:
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
	case agent.Summary:
		return ev.At
	}
	return time.Time{}
}

func verifiedLine(v agent.Verified) string {
	status := map[platform.VerifyResult]string{platform.VerifyResolved: "healthy", platform.VerifyWorse: "worse", platform.VerifyUnresolved: "still firing", platform.VerifyUnknown: "unknown"}[v.Result]
	if status == "" {
		status = string(v.Result)
	}
	if v.Waited > 0 {
		return capital(v.Signal) + " after " + v.Waited.String() + ": " + v.After + " (was " + v.Before + ") — " + status
	}
	return capital(v.Signal) + " now: " + v.After + " — " + status
}

func verifiedTone(result platform.VerifyResult) Tone {
	switch result {
	case platform.VerifyResolved:
		return ToneGood
	case platform.VerifyWorse:
		return ToneBad
	}
	return ToneWarn
}

func notifiedLines(ev agent.Notified) []note {
	var out []note
	switch {
	case ev.Held != "":
		out = append(out, note{text: "Notification not sent: " + ev.Held, tone: ToneDim})
	case ev.Suppressed != "":
		out = append(out, note{text: "Notification not repeated: " + ev.Suppressed, tone: ToneDim})
	case ev.Error != "":
		out = append(out, note{text: "Notification not delivered: " + strings.TrimPrefix(ev.Error, "notification not delivered: "), tone: ToneWarn})
	case ev.Delivered:
		out = append(out, note{text: "Team notified (" + ev.Channel + ")", tone: ToneGood})
	default:
		out = append(out, note{text: "Notification kept in this transcript (set ALERT_WEBHOOK to deliver it)", tone: ToneDim})
	}
	if ev.Escalated {
		out = append(out, note{text: "Escalated to engineering", tone: ToneWarn})
	}
	return out
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
