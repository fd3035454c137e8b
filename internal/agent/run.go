package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// run is the state of one alert's handling.
type run struct {
	a          *Agent
	al         alert.Alert
	ref        platform.WorkloadRef
	gate       *tools.Run
	started    time.Time
	planner    plan.Planner // the planner asked now: a briefed session of an LLM, or the rules
	brief      plan.Brief   // what only a model reads: the untrusted text, the conversation
	sit        plan.Situation
	answer     plan.Report // the planner's last word
	sum        Summary
	before     signal
	outcomes   []tools.Outcome
	incident   string
	escalate   bool
	handedOver bool // people own the problem itself, not only its cause: the alert outlived ESCALATION_HOURS, or the rules only diagnose it
	inChat     bool // a conversation turn, not an alert
	resuming   bool // speaks for the unfinished run of alert sum.AlertID (resume)
	onFallback bool // the rules planner took over
	stopped    bool // a step decided the run is over (cooldown, failure)

	mu  sync.Mutex
	seq int
}

func (a *Agent) newRun(al alert.Alert, conv plan.Context, prior []plan.Exchange) *run {
	r := &run{a: a, al: al, ref: platform.WorkloadRef{Namespace: al.Namespace, Name: al.Service}, inChat: al.Source == alert.SourceChat}
	r.sum = Summary{Alert: al.Text, Target: al.Target(), Mode: a.cfg.Mode, Platform: a.cfg.Where, Actions: []Action{}, Refusals: []Refusal{}}
	r.sit = plan.Situation{Facts: plan.FactsOf(al, a.cfg.Mode), Context: conv}
	r.brief = plan.Brief{Text: al.Text, InChat: r.inChat, Prior: prior}
	p := a.d.Planner
	if p == nil {
		p = a.d.Fallback
	}
	r.onFallback = p == a.d.Fallback // nothing to fall back to
	r.planner, r.sum.Planner = plan.Begin(p, r.brief), p.Name()
	return r
}

func (r *run) now() time.Time { return r.a.d.Clock.Now() }

func (r *run) emit(e Event) { r.a.d.Sink.Emit(e) }

func (r *run) phase(p Phase) { r.emit(PhaseStarted{At: r.now(), Phase: p}) }

func (r *run) start(ctx context.Context) {
	r.started = r.now()
	var id int64
	if r.a.d.History != nil {
		var err error
		id, err = r.a.d.History.RecordAlert(ctx, r.al, r.a.cfg.Env)
		defer r.historyErr("record the alert", err) // after RunStarted
		if err != nil {
			r.sum.Error = "history: " + err.Error()
		}
	}
	r.sum.AlertID = id
	r.gate = tools.NewRun(id, r.a.cfg.Mode, r.a.d.Approver, r.a.cfg.MaxWrites)
	r.gate.Subject = CorrelationKey(r.al) // createIncident joins the subject's open incident
	r.emit(RunStarted{At: r.started, Alert: r.al, Planner: r.planner.Name(), Mode: r.a.cfg.Mode, Env: r.a.cfg.Env, Where: r.a.cfg.Where})
}

// historyErr reports a failed history write, if err is one: a HistoryFailed
// event, and a line of the summary's AuditErrors, which makes the run failed.
func (r *run) historyErr(what string, err error) {
	if err != nil {
		r.historyFailed(tools.AuditFailure{What: what, Err: err.Error()})
	}
}

func (r *run) historyFailed(f tools.AuditFailure) {
	r.mu.Lock()
	r.sum.AuditErrors = append(r.sum.AuditErrors, f.String())
	r.mu.Unlock()
	r.emit(HistoryFailed{At: r.now(), What: f.What, Err: f.Err})
}

// admit applies the alert cooldown and the escalation timer.
func (r *run) admit(ctx context.Context) bool {
	now := r.now()
	if r.a.d.History != nil && r.a.d.Alerting.Cooldown > 0 {
		last, ok, err := r.a.d.History.LastActed(ctx, r.al.Fingerprint, r.a.cfg.Env)
		if err == nil && ok {
			if d := r.a.d.Alerting.DecideAlert(last, now); !d.Allowed() {
				r.sum.Refusals = append(r.sum.Refusals, Refusal{Tool: "alert", Target: r.al.Target(), Rule: d.Rule, Reason: d.Reason})
				r.sum.Resolution, r.sum.Headline = NoAction, "Skipped: "+d.Reason
				r.stopped = true
				return false
			}
		}
	}
	r.escalate = r.a.d.Alerting.ShouldEscalate(r.al.StartsAt, now)
	if r.al.Classification.Action == alert.ActionDiagnose {
		r.escalate = true // the rules diagnose it; people act
	}
	r.handedOver = r.escalate
	return true
}

// nextID numbers calls made by code, so they can be told from the planner's.
func (r *run) nextID(prefix string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	return prefix + "-" + strconv.Itoa(r.seq)
}

// invoke runs one call through the gate and emits its events.
func (r *run) invoke(ctx context.Context, ph Phase, by string, c tools.Call) tools.Outcome {
	r.called(ph, by, c)
	o := r.a.d.Registry.Invoke(ctx, r.gate, c)
	r.done(ph, c, o)
	return o
}

func (r *run) called(ph Phase, by string, c tools.Call) {
	shown := c.Args
	if !json.Valid(shown) {
		shown, _ = json.Marshal(string(c.Args)) // malformed model output is shown as text
	}
	r.emit(ToolCalled{At: r.now(), Phase: ph, ID: c.ID, Tool: c.Tool, Args: shown, By: by})
}

func (r *run) done(ph Phase, c tools.Call, o tools.Outcome) {
	ev := ToolDone{At: r.now(), Phase: ph, ID: c.ID, Outcome: o}
	if o.Decision != nil {
		ev.Verdict, ev.From, ev.To = string(o.Decision.Verdict), o.Decision.From, o.Decision.To
	}
	r.emit(ev)
	for _, f := range o.AuditErrors {
		r.historyFailed(f)
	}
	r.mu.Lock()
	r.outcomes = append(r.outcomes, o)
	r.mu.Unlock()
}

// codeCall runs a call decided by code (snapshot, verification, escalation).
func (r *run) codeCall(ctx context.Context, ph Phase, tool tools.Name, args any) tools.Outcome {
	raw, _ := json.Marshal(args)
	return r.invoke(ctx, ph, "code", tools.Call{ID: r.nextID("code"), Tool: tool, Args: raw})
}

// parallel runs calls concurrently; events and outcomes keep the calls' order,
// so transcripts are the same from run to run.
func (r *run) parallel(ctx context.Context, ph Phase, by string, calls []tools.Call) []tools.Outcome {
	out := make([]tools.Outcome, len(calls))
	for _, c := range calls {
		r.called(ph, by, c)
	}
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = r.a.d.Registry.Invoke(ctx, r.gate, c)
		}()
	}
	wg.Wait()
	for i, c := range calls {
		r.done(ph, c, out[i])
	}
	return out
}

func (r *run) finish(ctx context.Context) Summary {
	s := &r.sum
	for _, o := range r.outcomes {
		switch {
		case o.Status == tools.StatusRefused:
			s.Refusals = append(s.Refusals, refusalOf(o))
		case o.Risk.ChangesPlatform() && (o.Status == tools.StatusExecuted || o.Status == tools.StatusDryRun):
			s.Actions = append(s.Actions, actionOf(o))
		}
	}
	s.ToolCalls = len(r.outcomes)
	s.Incident, s.Escalated = r.incident, r.escalate && r.incident != ""
	var late ErrRunDeadline
	switch {
	case ctx.Err() != nil && errors.As(context.Cause(ctx), &late):
		s.Resolution = Failed // not the operator's doing: a run that overran is failed, exit 1
		s.Error = firstNonEmpty(s.Error, late.Error())
	case ctx.Err() != nil:
		s.Resolution = Cancelled
		s.Error = firstNonEmpty(s.Error, "cancelled: "+context.Cause(ctx).Error())
	}
	if s.Resolution == "" {
		s.Resolution = r.resolution()
	}
	if s.Headline == "" {
		s.Headline = headline(r)
	}
	s.At = r.now()
	r.auditIncomplete()
	if r.a.d.History != nil && s.AlertID != 0 {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := r.a.d.History.FinishAlert(hctx, s.AlertID, *s)
		cancel()
		if errors.Is(err, ErrAlertTakenOver) {
			// Not a gap in the history: the resuming run records this alert.
			s.Headline += " — another run resumed this alert and records its outcome"
			err = nil
		}
		r.historyErr("record the outcome of the alert", err)
		r.auditIncomplete()
	}
	r.emit(*s)
	return *s
}

// auditIncomplete applies the rule of an incomplete audit trail: a run
// with a failed history write is failed (exit 1) whatever it did, since the
// README promises every call is recorded; a cancelled run stays cancelled.
// What the run did is still in Actions and its headline.
func (r *run) auditIncomplete() {
	s := &r.sum
	if len(s.AuditErrors) == 0 || s.Resolution == Cancelled {
		return
	}
	if s.Resolution != Failed {
		s.Resolution = Failed
		s.Headline += " — but the history is incomplete"
	}
	s.Error = firstNonEmpty(s.Error, fmt.Sprintf("history incomplete: %d record(s) failed: %s", len(s.AuditErrors), s.AuditErrors[0]))
}

func (r *run) resolution() Resolution {
	if r.sum.Error != "" && r.stopped {
		return Failed
	}
	v := r.sum.Verification
	switch {
	case r.inChat && v == nil && !r.sum.Escalated && !r.writeFailed():
		return NoAction
	case r.sum.Escalated:
		// Handed to people, even when the symptom is mitigated (e.g. a memory
		// raise hides a leak): the run needs a human, exit code 3.
		return Escalated
	case v != nil && v.Result == platform.VerifyResolved && len(r.sum.Actions) > 0:
		return Resolved
	case v != nil && v.Result == platform.VerifyResolved:
		return NoAction
	case r.writeFailed():
		return Failed
	}
	return Unresolved
}

func (r *run) writeFailed() bool {
	for _, o := range r.outcomes {
		if o.Risk.ChangesPlatform() && o.Status == tools.StatusFailed {
			return true
		}
	}
	return false
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
