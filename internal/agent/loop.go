package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// plan runs the bounded tool-calling loop with the planner, falling back to the
// rules planner when the planner errors or keeps producing invalid calls.
func (r *run) plan(ctx context.Context) {
	r.phase(PhaseAnalys)
	invalid := 0
	for i := 0; i < r.a.cfg.MaxIterations && ctx.Err() == nil; i++ {
		t, err := r.next(ctx, i == r.a.cfg.MaxIterations-1 || r.overBudget())
		if err != nil {
			if ctx.Err() != nil {
				return // cancelled, not a planner failure: no fallback; finish says so
			}
			if r.fallBack(fmt.Sprintf("%s failed: %v", r.planner.Name(), err)) {
				i, invalid = -1, 0
				continue
			}
			r.sum.Error = "planner: " + err.Error()
			return
		}
		r.reported(t)
		if t.Done() {
			r.answer = clipReport(t.Report)
			r.sum.Explanation = r.answer.String()
			return
		}
		if r.execute(ctx, t.Calls) {
			invalid = 0
		} else if invalid++; invalid >= r.a.cfg.MaxInvalidTurns && r.fallBack(fmt.Sprintf("%s made only invalid calls %d turns in a row", r.planner.Name(), invalid)) {
			i, invalid = -1, 0
		}
	}
}

// overBudget reports whether the model spent the run's token budget. The
// fallback spends no tokens, so the budget never stops it from acting.
func (r *run) overBudget() bool {
	return !r.onFallback && r.sum.TokensIn+r.sum.TokensOut >= r.a.cfg.TokenBudget
}

// next asks the planner for its next turn in the run's situation, with a
// timeout, and counts what it cost. The final turn's calls are dropped: it
// must answer.
func (r *run) next(ctx context.Context, final bool) (plan.Turn, error) {
	if t := r.a.cfg.PlannerTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t, ErrPlannerDeadline{After: t})
		defer cancel()
	}
	t, err := r.planner.Next(ctx, r.situation(final))
	var late ErrPlannerDeadline
	if err != nil && errors.As(context.Cause(ctx), &late) && !errors.As(err, &late) {
		err = fmt.Errorf("%w: %w", late, err)
	}
	r.sum.LLMCalls += t.Usage.Calls
	r.sum.TokensIn += t.Usage.PromptTokens
	r.sum.TokensOut += t.Usage.CompletionTokens
	r.sum.Redacted += t.Usage.Redactions
	if err != nil {
		return t, err
	}
	if final {
		t.Calls = nil
	}
	r.sit.Turns++
	r.sit.Asked = append(r.sit.Asked, t.Calls...)
	return t, nil
}

// situation is what the planner may know now: the facts, the conversation's
// context and every outcome so far, whole.
func (r *run) situation(final bool) plan.Situation {
	s := r.sit
	r.mu.Lock()
	s.Outcomes = slices.Clone(r.outcomes)
	r.mu.Unlock()
	s.Asked, s.Final = slices.Clone(s.Asked), final
	return s
}

// reported emits what the planner said at a turn, if anything.
func (r *run) reported(t plan.Turn) {
	if t.Report.Empty() {
		return
	}
	ph := PhaseAnalys
	if t.Done() {
		ph = PhaseNotify
	}
	r.emit(Reported{At: r.now(), Phase: ph, Report: clipReport(t.Report), Final: t.Done()})
}

// clipReport bounds what a planner's report puts in events and history, and
// takes out terminal control sequences (a model's words reach terminals).
func clipReport(rep plan.Report) plan.Report {
	const n = 4000
	clean := func(s string) string { return text.Clip(text.Printable(s), n) }
	rep.Diagnosis = slices.Clone(rep.Diagnosis)
	for i := range rep.Diagnosis {
		rep.Diagnosis[i] = clean(rep.Diagnosis[i])
	}
	rep.Cause, rep.Decision, rep.FollowUp, rep.Text = clean(rep.Cause), clean(rep.Decision), clean(rep.FollowUp), clean(rep.Text)
	return rep
}

// fallBack switches to the rules planner once; false when there is none to switch to.
func (r *run) fallBack(reason string) bool {
	fb := r.a.d.Fallback
	if fb == nil || r.onFallback {
		return false
	}
	r.emit(PlannerSwitched{At: r.now(), From: r.planner.Name(), To: fb.Name(), Reason: text.Clip(reason, 500)})
	r.sum.PlannerNote = "fell back to " + fb.Name() + ": " + text.Clip(reason, 300)
	r.planner, r.onFallback, r.sum.Planner = plan.Begin(fb, r.brief), true, fb.Name()
	return true
}

// maxCallsPerTurn bounds the calls of one turn that run: a reply asking for
// hundreds would otherwise fan out to the platform at once and send back a
// request far past the token budget.
const maxCallsPerTurn = 16

// execute runs a turn's calls: reads in parallel first, then writes one by one
// in the order asked, and appends every result in the order of the calls.
// Calls past maxCallsPerTurn are answered without running.
// It reports whether any call was valid.
func (r *run) execute(ctx context.Context, calls []tools.Call) bool {
	results := make([]tools.Outcome, len(calls))
	var reads, writes, over []int
	for i, c := range calls {
		if i >= maxCallsPerTurn {
			over = append(over, i)
		} else if t, ok := r.a.d.Registry.Lookup(c.Tool); ok && t.Risk() == tools.RiskRead {
			reads = append(reads, i)
		} else {
			writes = append(writes, i)
		}
	}
	readCalls := make([]tools.Call, len(reads))
	for j, i := range reads {
		readCalls[j] = calls[i]
	}
	for j, o := range r.parallel(ctx, PhaseAnalys, r.planner.Name(), readCalls) {
		results[reads[j]] = o
	}
	for _, i := range writes {
		results[i] = r.invoke(ctx, r.phaseOfCall(calls[i].Tool), r.planner.Name(), calls[i])
	}
	for _, i := range over {
		results[i] = r.notRun(calls[i])
	}
	valid := false
	for i := range calls {
		if results[i].Status != tools.StatusInvalid {
			valid = true
		}
		if results[i].Tool == tools.CreateIncident && results[i].Status == tools.StatusOK {
			if ir, ok := results[i].Result.(tools.IncidentResult); ok {
				r.incident = ir.ID
			}
		}
	}
	return valid
}

// notRun answers a call past the per-turn cap without running it.
func (r *run) notRun(call tools.Call) tools.Outcome {
	r.called(PhaseAnalys, r.planner.Name(), call)
	o := tools.Outcome{CallID: call.ID, Tool: call.Tool, Status: tools.StatusInvalid, Summary: "not run",
		Error: fmt.Sprintf("too many calls in one turn: only the first %d run; ask again for what is still needed", maxCallsPerTurn)}
	r.done(PhaseAnalys, call, o)
	return o
}

func (r *run) phaseOfCall(name tools.Name) Phase {
	if t, ok := r.a.d.Registry.Lookup(name); ok && t.Risk() == tools.RiskRecord {
		return PhaseNotify
	}
	return PhaseAction
}
