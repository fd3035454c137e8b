package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
)

// ErrMisdeclared marks a tool whose request does not match its declared risk:
// a write tool must plan (WriteRequest), a read or record must read (ReadRequest).
var ErrMisdeclared = errors.New("tool request does not match its declared risk")

// Invoke runs one call through the gate and records it. It never panics on bad
// input and never returns an error: everything is in the Outcome.
func (r *Registry) Invoke(ctx context.Context, run *Run, c Call) Outcome {
	start := r.clock.Now()
	out := r.gate(ctx, run, c)
	if ctx.Err() != nil && out.Status == StatusFailed {
		out.Status = StatusCanceled
	}
	out.CallID, out.Tool, out.Args = c.ID, c.Tool, c.Args
	out.Duration = r.clock.Now().Sub(start)
	if err := r.record(ctx, run, out); err != nil {
		out.AuditErrors = append(out.AuditErrors, AuditFailure{What: strings.TrimSpace("record " + string(out.Tool) + " " + out.Target), Err: err.Error()})
	}
	return out
}

// gate takes a call through decode → scope → (read | guard → mode → execute).
func (r *Registry) gate(ctx context.Context, run *Run, c Call) Outcome {
	t, ok := r.by[c.Tool]
	if !ok {
		return Outcome{Status: StatusInvalid, Summary: "unknown tool " + string(c.Tool),
			Error: fmt.Sprintf("%v %q (available: %s)", ErrUnknownTool, c.Tool, strings.Join(r.Names(), ", "))}
	}
	req, out, ok := r.admit(t, c)
	if !ok {
		return out
	}
	if t.Risk().ChangesPlatform() {
		w, ok := req.(WriteRequest)
		if !ok {
			return failed(out, fmt.Errorf("%s: %w", c.Tool, ErrMisdeclared))
		}
		return r.write(ctx, run, c.Tool, w, out, c.Args)
	}
	rd, ok := req.(ReadRequest)
	if !ok {
		return failed(out, fmt.Errorf("%s: %w", c.Tool, ErrMisdeclared))
	}
	return read(ctx, run, t.Risk(), rd, out)
}

// admit decodes, validates and scope-checks a call.
func (r *Registry) admit(t Tool, c Call) (Request, Outcome, bool) {
	out := Outcome{Risk: t.Risk()}
	req, err := t.Decode(c.Args)
	if err != nil {
		out.Status, out.Error, out.Summary = StatusInvalid, err.Error(), "invalid arguments for "+string(c.Tool)
		return nil, out, false
	}
	out.Target = req.Target()
	if ns, ok := req.Namespace(); ok {
		if d := r.policy.Scope.Check(ns); !d.Allowed() {
			return nil, refused(out, d), false
		}
	}
	if cf, ok := req.(Confiner); ok {
		return r.confine(cf, c.Tool, out)
	}
	return req, out, true
}

// confine narrows a request to the scope: a refusal names its rule, an
// invalid argument is the caller's to fix.
func (r *Registry) confine(c Confiner, tool Name, out Outcome) (Request, Outcome, bool) {
	req, err := c.Confine(r.policy.Scope)
	var v *guard.Violation
	switch {
	case errors.As(err, &v):
		return nil, refused(out, guard.Decision{Verdict: guard.Refuse, Rule: v.Rule, Reason: v.Reason}), false
	case err != nil:
		out.Status, out.Error, out.Summary = StatusInvalid, err.Error(), "invalid arguments for "+string(tool)
		return nil, out, false
	}
	return req, out, true
}

// read runs a read or a record at once. In observe mode a record tells nobody
// and opens nothing: it is a dry run that says what it would have done.
func read(ctx context.Context, run *Run, risk Risk, q ReadRequest, out Outcome) Outcome {
	if p, ok := q.(Previewer); ok && risk == RiskRecord && run.Mode == guard.ModeObserve {
		out.Status, out.Rule = StatusDryRun, guard.RuleModeObserve
		out.Summary = "would " + p.Preview() + " (observe mode: nothing sent or opened)"
		return out
	}
	ans, err := q.Read(ctx, run)
	var ae *AuditError
	if err != nil && !errors.As(err, &ae) {
		return failed(out, err)
	}
	out.Status, out.Result, out.Summary = StatusOK, ans.Result, ans.Summary
	if ae != nil {
		out.AuditErrors = append(out.AuditErrors, AuditFailure{What: ae.What, Err: ae.Err.Error()})
	}
	return out
}

// PlanAttempts is how many times one write is planned: on a conflict the
// object changed under us, and the gate re-reads and re-decides once.
const PlanAttempts = 2

// write plans a change (observation + guard decision) and applies the mode to
// the plan. On a conflict the object changed under us: it re-reads and
// re-decides (PlanAttempts in all), never re-applying a stale delta.
func (r *Registry) write(ctx context.Context, run *Run, name Name, q WriteRequest, out Outcome, raw json.RawMessage) Outcome {
	key := string(name) + "|" + out.Target
	if d := run.reserve(key); !d.Allowed() {
		return refused(out, d)
	}
	defer run.release(key)
	out.Args = raw // for the intent record
	for attempt := 0; ; attempt++ {
		o, err := r.attempt(ctx, run, name, q, out, key)
		if errors.Is(err, platform.ErrConflict) && attempt+1 < PlanAttempts {
			out.intent = o.intent // the retry's outcome completes the same intent row
			continue
		}
		return o
	}
}

func (r *Registry) attempt(ctx context.Context, run *Run, name Name, q WriteRequest, out Outcome, key string) (Outcome, error) {
	p, err := q.Plan(ctx, run)
	if err != nil {
		return failed(out, err), err
	}
	out.Params, out.Summary = p.Params, p.Summary
	d := p.Decision
	out.Decision = &d
	if !d.Allowed() {
		return refused(out, d), nil
	}
	// The rule that allowed the write is recorded with it; the reason is
	// shown when the change differs from the request.
	out.Rule = d.Rule
	if d.Verdict == guard.Clamp {
		out.Reason = d.Reason
	}
	dryRun := true
	if !p.DryRunOnly {
		var md *guard.Decision
		if dryRun, md = decideMode(ctx, run, p); md != nil {
			return refused(out, *md), nil
		}
	}
	if !dryRun && out.intent == 0 {
		// No write runs unrecorded: its intent is committed to the history
		// first, and a write whose intent cannot be recorded is refused.
		id, err := r.recordIntent(ctx, run, string(name), out)
		if err != nil {
			return refused(out, guard.Decision{Verdict: guard.Refuse, Rule: guard.RuleAuditUnrecorded,
				Reason: "not " + p.Summary + ": the history could not record the write before it ran (" + err.Error() + ")"}), nil
		}
		out.intent = id
	}
	res, err := p.Apply(ctx, dryRun)
	if err != nil {
		return failed(out, err), err
	}
	out.Result = res
	// A dry run the caller asked for is a preview: the write itself may follow.
	run.commit(key, !dryRun, !p.DryRunOnly)
	if dryRun {
		why := "observe mode"
		if p.DryRunOnly {
			why = "dry run requested"
		}
		out.Status, out.Summary = StatusDryRun, "would "+p.Summary+" ("+why+": nothing changed)"
		return out, nil
	}
	out.Status = StatusExecuted
	return applied(ctx, name, p, res, out), nil
}

// applied keeps the trail of an applied change; a failure is an audit
// failure of the call, not a failed call.
func applied(ctx context.Context, name Name, p Plan, res any, out Outcome) Outcome {
	if p.Applied == nil {
		return out
	}
	if err := p.Applied(ctx, res); err != nil {
		out.Error = "applied, but recording its state failed: " + err.Error()
		out.AuditErrors = append(out.AuditErrors, AuditFailure{What: "record the state of " + out.Target + " after " + string(name), Err: err.Error()})
	}
	return out
}

// decideMode applies observe/approve/auto. It returns dryRun, or a refusal.
func decideMode(ctx context.Context, run *Run, p Plan) (bool, *guard.Decision) {
	interactive := run.Approver != nil && run.Approver.Interactive()
	d := guard.DecideMode(run.Mode, interactive)
	if run.Mode == guard.ModeObserve {
		return true, nil
	}
	if !d.Allowed() {
		return false, &d
	}
	if run.Mode != guard.ModeApprove {
		return false, nil
	}
	ok, err := run.Approver.Approve(ctx, p)
	if err != nil || !ok {
		reason := "the operator declined " + p.Summary
		if err != nil {
			reason = "approval failed: " + err.Error()
		}
		return false, &guard.Decision{Verdict: guard.Refuse, Rule: guard.RuleApprovalDeclined, Reason: reason}
	}
	return false, nil
}

func refused(out Outcome, d guard.Decision) Outcome {
	out.Status, out.Rule, out.Reason = StatusRefused, d.Rule, d.Reason
	out.Decision = &d
	if out.Summary == "" {
		out.Summary = "refused"
	}
	return out
}

func failed(out Outcome, err error) Outcome {
	out.Status, out.Error = StatusFailed, err.Error()
	var v *guard.Violation
	if errors.As(err, &v) {
		out.Status, out.Rule, out.Reason, out.Error = StatusRefused, v.Rule, v.Reason, ""
	}
	if out.Summary == "" {
		out.Summary = "failed"
	}
	return out
}
