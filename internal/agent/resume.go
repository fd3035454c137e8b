package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/tools"
)

// ResumePolicy says when a pending alert of the subject a run holds the turn
// of belongs to a run whose process died.
type ResumePolicy struct {
	// TurnsSpanWriters: every process that writes the history takes the
	// subject's turn (Deps.Subjects) before it writes to the platform —
	// SQLite beside a state directory's file locks, which die with their
	// process. A pending alert with writes, seen while holding the turn,
	// is then a dead run's. False with a shared PostgreSQL: file locks do
	// not span machines.
	TurnsSpanWriters bool
	// After: a pending alert received this long ago is a dead run's
	// whatever the turns, its own run's deadline (agent.run_timeout)
	// having passed; 0: never by age.
	After time.Duration
}

// Dead reports whether u belongs to a run that died, at now.
func (p ResumePolicy) Dead(u Unfinished, now time.Time) bool {
	if p.After > 0 && now.Sub(u.ReceivedAt) >= p.After {
		return true
	}
	return p.TurnsSpanWriters && len(u.Writes) > 0
}

// Unfinished is a run whose alert is still pending: being handled now, or
// left so by a process that died.
type Unfinished struct {
	AlertID    int64
	ReceivedAt time.Time
	Alert      alert.Alert // as recorded: subject, kind, fingerprint, text
	Writes     []RecordedWrite
}

// RecordedWrite is a write an unfinished run recorded.
type RecordedWrite struct {
	Tool   tools.Name
	Target string
	Rule   string
	Reason string
	// Done: its result was recorded (executed). False: only its intent was,
	// the process died as it wrote; it may or may not have been made.
	Done   bool
	Result json.RawMessage // the recorded result, when Done
}

// UnfinishedRuns finds and claims the unfinished runs of a subject.
type UnfinishedRuns interface {
	// Unfinished lists the pending alerts of al's subject in env, except
	// self (the asking run's alert), with their executed and intent-only
	// writes.
	Unfinished(ctx context.Context, al alert.Alert, env string, self int64) ([]Unfinished, error)
	// ClaimUnfinished marks the pending alert id interrupted for the run
	// of alert by; of every run claiming it, exactly one gets true.
	ClaimUnfinished(ctx context.Context, id, by int64) (bool, error)
	// FinishResumed records what the resuming run found as the outcome of
	// the claimed alert id.
	FinishResumed(ctx context.Context, id int64, s Summary) error
}

// Resumed says a run found the unfinished run of a process that died,
// verified what it wrote, told it, and finished its alert.
type Resumed struct {
	At         time.Time `json:"at"`
	AlertID    int64     `json:"alertId"` // the dead run's alert
	By         int64     `json:"byAlertId,omitempty"`
	ReceivedAt time.Time `json:"receivedAt"`
	Actions    []Action  `json:"actions"`
	// Unconfirmed counts the writes recorded only as intents.
	Unconfirmed  int        `json:"unconfirmed,omitempty"`
	Verification *Verified  `json:"verification,omitempty"`
	Notified     *Notified  `json:"notified,omitempty"`
	Resolution   Resolution `json:"resolution"`
	Incident     string     `json:"incident,omitempty"`
	Headline     string     `json:"headline"`
}

// Kind names the event in JSON output.
func (Resumed) Kind() string { return "resumed" }

// interruptedNote is the error text of a claimed alert until it is finished.
func interruptedNote(by int64) string {
	return fmt.Sprintf("interrupted: the process of this run died before it finished; resumed by the run of alert %d", by)
}

// resumeUnfinished finishes, before this run decides anything, the runs of
// its subject that a dead process left unfinished: it claims each, verifies
// the current state of what it wrote, notifies what was done and finishes
// its alert. The run holds the subject's turn.
func (r *run) resumeUnfinished(ctx context.Context) {
	u := r.a.d.Unfinished
	if u == nil || r.sum.AlertID == 0 || CorrelationKey(r.al) == "" {
		return
	}
	runs, err := u.Unfinished(ctx, r.al, r.a.cfg.Env, r.sum.AlertID)
	if err != nil {
		r.historyErr("read the unfinished runs of "+CorrelationKey(r.al), err)
		return
	}
	for _, un := range runs {
		if ctx.Err() != nil || !r.a.cfg.Resume.Dead(un, r.now()) {
			continue
		}
		won, err := u.ClaimUnfinished(ctx, un.AlertID, r.sum.AlertID)
		if err != nil {
			r.historyErr(fmt.Sprintf("claim the unfinished run of alert %d", un.AlertID), err)
			continue
		}
		if won {
			r.emit(r.a.resume(ctx, un, r))
		}
	}
}

// resume verifies, notifies and finishes the unfinished run un for the run
// by, in a run of its own that speaks for un's alert; its events stay in
// the Resumed event it returns, so that by's transcript is by's.
func (a *Agent) resume(ctx context.Context, un Unfinished, by *run) Resumed {
	var notified *Notified
	sub := *a
	sub.d.Sink = SinkFunc(func(e Event) {
		switch ev := e.(type) {
		case HistoryFailed:
			by.emit(ev)
		case Notified:
			notified = &ev
		}
	})
	r := sub.newRun(un.Alert, plan.Context{}, nil)
	r.started, r.sum.AlertID, r.resuming = by.now(), un.AlertID, true
	r.gate = tools.NewRun(un.AlertID, a.cfg.Mode, a.d.Approver, a.cfg.MaxWrites)
	r.gate.Subject = CorrelationKey(un.Alert)
	r.before = signal{name: string(un.Alert.Kind), text: "not measured (the run that wrote it died)"}
	r.outcomes = a.recordedOutcomes(un.Writes)
	if len(r.outcomes) > 0 { // nothing written, nothing to verify or tell: by handles the subject
		r.verify(ctx)
		r.escalateIfNeeded(ctx)
		r.notify(ctx)
	}
	s := r.resumedSummary(ctx)
	ev := Resumed{At: r.now(), AlertID: un.AlertID, By: by.sum.AlertID, ReceivedAt: un.ReceivedAt, Actions: s.Actions,
		Verification: s.Verification, Notified: notified, Resolution: s.Resolution, Incident: s.Incident, Headline: s.Headline}
	for _, w := range un.Writes {
		if !w.Done {
			ev.Unconfirmed++
		}
	}
	return ev
}

// resumedSummary is the outcome of a resumed run, recorded as its alert's.
func (r *run) resumedSummary(ctx context.Context) Summary {
	s := &r.sum
	wrote := 0
	for _, o := range r.outcomes {
		if o.Wrote() {
			s.Actions, wrote = append(s.Actions, actionOf(o)), wrote+1
		}
	}
	s.ToolCalls, s.Incident, s.Escalated = len(r.outcomes), r.incident, r.escalate && r.incident != ""
	s.Resolution = r.resolution()
	if wrote == 0 {
		s.Resolution = Cancelled // it died before it wrote anything
	}
	s.Headline = "Resumed after its process died: " + headline(r)
	s.Error = firstNonEmpty(s.Error, "interrupted: the process of this run died; a later run verified and told what it did")
	s.At = r.now()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	r.historyErr(fmt.Sprintf("record the outcome of resumed alert %d", s.AlertID), r.a.d.Unfinished.FinishResumed(hctx, s.AlertID, *s))
	return *s
}

// recordedOutcomes turns a dead run's recorded writes into the outcomes the
// verification and the notification read.
func (a *Agent) recordedOutcomes(ws []RecordedWrite) []tools.Outcome {
	out := make([]tools.Outcome, 0, len(ws))
	for _, w := range ws {
		o := tools.Outcome{Tool: w.Tool, Target: w.Target, Status: tools.StatusExecuted, Rule: w.Rule, Reason: w.Reason, Risk: tools.RiskWrite}
		if t, ok := a.d.Registry.Lookup(w.Tool); ok {
			o.Risk = t.Risk()
		}
		o.Params = paramsOf(w.Result)
		o.Summary = recordedSummary(w.Tool, w.Target, o.Params) + " (by a run whose process died before it verified)"
		if !w.Done {
			o.Summary = fmt.Sprintf("%s %s (its intent was recorded, not its result: the process died as it wrote; it may or may not have been made)", w.Tool, w.Target)
		}
		out = append(out, o)
	}
	return out
}

// recordedSummary says what a recorded write did, as its run said it:
// "scale shop/backend from 3 to 4 replicas".
func recordedSummary(tool tools.Name, target string, p map[string]any) string {
	from, okFrom := p["from"]
	to, okTo := p["to"]
	switch {
	case !okFrom || !okTo:
		return fmt.Sprintf("%s %s", tool, target)
	case tool == tools.ScaleDeployment:
		return fmt.Sprintf("scale %s from %v to %v replicas", target, from, to)
	}
	return fmt.Sprintf("%s %s from %v to %v", tool, target, from, to)
}

// paramsOf keeps the from and to of a recorded result, as the notification
// shows them.
func paramsOf(res json.RawMessage) map[string]any {
	var m map[string]any
	if len(res) == 0 || json.Unmarshal(res, &m) != nil {
		return nil
	}
	p := map[string]any{}
	for _, k := range []string{"from", "to"} {
		if v, ok := m[k]; ok {
			p[k] = v
		}
	}
	return p
}
