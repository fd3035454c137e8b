package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
)

// scoped is implemented by args that target a namespace.
type scoped interface {
	namespace() string
}

// unscoped is implemented by args that may name no namespace at all (raw
// PromQL); the allowlist then applies only when a namespace is given.
type unscoped interface {
	noNamespace() bool
}

// targeted is implemented by args that name what they act on.
type targeted interface {
	target() string
}

// directTool is a tool that runs at once after decoding: reads, and records
// (notify, createIncident). In observe mode a record tells nobody and opens
// nothing: it is a dry run that says what it would have done.
type directTool[A Validator] struct {
	name Name
	desc string
	risk Risk
	run  func(ctx context.Context, r *Registry, run *Run, a A) (result any, summary string, err error)
	// preview says what a record would do, for its dry run in observe mode.
	preview func(a A) string
}

func (t directTool[A]) Spec() Spec {
	var zero A
	return Spec{Name: t.name, Description: t.desc, Risk: t.risk.String(), Parameters: schemaOf(zero)}
}

func (t directTool[A]) Risk() Risk { return t.risk }

func (t directTool[A]) invoke(ctx context.Context, r *Registry, run *Run, raw json.RawMessage) Outcome {
	args, out, ok := admit[A](string(t.name), r, raw)
	if !ok {
		return out
	}
	if t.risk == RiskRecord && run.Mode == guard.ModeObserve && t.preview != nil {
		out.Status, out.Rule = StatusDryRun, guard.RuleModeObserve
		out.Summary = "would " + t.preview(args) + " (observe mode: nothing sent or opened)"
		return out
	}
	res, summary, err := t.run(ctx, r, run, args)
	var ae *auditError
	if err != nil && !errors.As(err, &ae) {
		return failed(out, err)
	}
	out.Status, out.Result, out.Summary = StatusOK, res, summary
	if ae != nil {
		out.AuditErrors = append(out.AuditErrors, AuditFailure{What: ae.what, Err: ae.err.Error()})
	}
	return out
}

// auditError is returned by a direct tool that did its work but could not
// record all of it in the history: the call succeeded, its trail is incomplete.
type auditError struct {
	what string
	err  error
}

func (e *auditError) Error() string { return e.what + ": " + e.err.Error() }
func (e *auditError) Unwrap() error { return e.err }

// writeTool plans a change (observation + guard decision) and lets the gate
// apply the mode to the plan.
type writeTool[A Validator] struct {
	name Name
	desc string
	risk Risk
	plan func(ctx context.Context, r *Registry, run *Run, a A) (Plan, error)
	// after runs once a change is applied (not dry-run): persist guard state,
	// record scale events, emit the Kubernetes event.
	after func(ctx context.Context, r *Registry, run *Run, a A, p Plan, result any) error
}

func (t writeTool[A]) Spec() Spec {
	var zero A
	return Spec{Name: t.name, Description: t.desc, Risk: t.risk.String(), Parameters: schemaOf(zero)}
}

func (t writeTool[A]) Risk() Risk { return t.risk }

func (t writeTool[A]) invoke(ctx context.Context, r *Registry, run *Run, raw json.RawMessage) Outcome {
	args, out, ok := admit[A](string(t.name), r, raw)
	if !ok {
		return out
	}
	key := string(t.name) + "|" + out.Target
	if d := run.reserve(key); !d.Allowed() {
		return refused(out, d)
	}
	defer run.release(key)
	out.Args = raw // for the intent record
	// On a conflict the object changed under us: re-read and re-decide once,
	// never re-apply a stale delta.
	for attempt := 0; ; attempt++ {
		o, err := t.attempt(ctx, r, run, args, out, key)
		if errors.Is(err, platform.ErrConflict) && attempt == 0 {
			out.intent = o.intent // the retry's outcome completes the same intent row
			continue
		}
		return o
	}
}

func (t writeTool[A]) attempt(ctx context.Context, r *Registry, run *Run, args A, out Outcome, key string) (Outcome, error) {
	p, err := t.plan(ctx, r, run, args)
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
		if dryRun, md = t.decideMode(ctx, run, p); md != nil {
			return refused(out, *md), nil
		}
	}
	if !dryRun && out.intent == 0 {
		// No write runs unrecorded: its intent is committed to the history
		// first, and a write whose intent cannot be recorded is refused.
		id, err := r.recordIntent(ctx, run, string(t.name), out)
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
	if t.after != nil {
		if err := t.after(ctx, r, run, args, p, res); err != nil {
			out.Error = "applied, but recording its state failed: " + err.Error()
			out.AuditErrors = append(out.AuditErrors, AuditFailure{What: "record the state of " + out.Target + " after " + string(t.name), Err: err.Error()})
		}
	}
	return out, nil
}

// decideMode applies observe/approve/auto. It returns dryRun, or a refusal.
func (t writeTool[A]) decideMode(ctx context.Context, run *Run, p Plan) (bool, *guard.Decision) {
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

// admit decodes, validates and scope-checks a call.
func admit[A Validator](name string, r *Registry, raw json.RawMessage) (A, Outcome, bool) {
	out := Outcome{}
	args, err := decodeStrict[A](name, raw)
	if err != nil {
		out.Status, out.Error, out.Summary = StatusInvalid, err.Error(), "invalid arguments for "+name
		return args, out, false
	}
	if tg, ok := any(args).(targeted); ok {
		out.Target = tg.target()
	}
	if u, ok := any(args).(unscoped); ok && u.noNamespace() {
		return args, out, true
	}
	if sc, ok := any(args).(scoped); ok {
		if d := r.deps.Policy.Scope.Check(sc.namespace()); !d.Allowed() {
			return args, refused(out, d), false
		}
	}
	return args, out, true
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

// errNotConfigured says which backend a tool needs.
func errNotConfigured(what, how string) error {
	return fmt.Errorf("%s is not configured: %s", what, how)
}
