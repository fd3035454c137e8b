package agent

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// plan runs the bounded tool-calling loop with the planner, falling back to the
// rules planner when the planner errors or keeps producing invalid calls.
func (r *run) plan(ctx context.Context) {
	r.phase(PhaseAnalys)
	invalid := 0
	for i := 0; i < r.a.cfg.MaxIterations && ctx.Err() == nil; i++ {
		final := i == r.a.cfg.MaxIterations-1 || r.overBudget()
		resp, err := r.chat(ctx, final)
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
		msg := resp.Message
		if final {
			msg.ToolCalls = nil // the last turn must answer; calls it still makes are ignored
		}
		r.msgs = append(r.msgs, historyCopy(msg))
		if msg.Content != "" {
			r.emit(ModelText{At: r.now(), Phase: phaseOfText(msg), Text: text.Clip(msg.Content, 4000), Final: len(msg.ToolCalls) == 0})
		}
		if len(msg.ToolCalls) == 0 {
			r.sum.Explanation = msg.Content
			return
		}
		if r.execute(ctx, msg.ToolCalls) {
			invalid = 0
		} else if invalid++; invalid >= r.a.cfg.MaxInvalidTurns && r.fallBack(fmt.Sprintf("%s made only invalid calls %d turns in a row", r.planner.Name(), invalid)) {
			i, invalid = -1, 0
		}
	}
}

// overBudget reports whether the model spent the run's token budget. The
// fallback spends no tokens, so the budget never stops it from acting.
func (r *run) overBudget() bool {
	return r.planner != r.a.d.Fallback && r.sum.TokensIn+r.sum.TokensOut >= r.a.cfg.TokenBudget
}

func phaseOfText(m llm.Message) Phase {
	if len(m.ToolCalls) > 0 {
		return PhaseAnalys
	}
	return PhaseNotify
}

// chat asks the planner for its next turn, with a timeout, and counts usage.
func (r *run) chat(ctx context.Context, final bool) (llm.Response, error) {
	req := llm.Request{Messages: r.msgs, Tools: r.toolSpecs(), ToolChoice: llm.ToolChoiceAuto, MaxTokens: 1024}
	if final {
		req.ToolChoice = llm.ToolChoiceNone
	}
	if t := r.a.cfg.PlannerTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	resp, err := r.planner.Chat(ctx, req)
	if r.planner != r.a.d.Fallback {
		r.sum.LLMCalls++
		r.sum.TokensIn += resp.Usage.PromptTokens
		r.sum.TokensOut += resp.Usage.CompletionTokens
	}
	if err == nil && resp.Message.Role == "" {
		resp.Message.Role = llm.RoleAssistant
	}
	return resp, err
}

func (r *run) toolSpecs() []llm.ToolSpec {
	specs := r.a.d.Registry.Specs()
	out := make([]llm.ToolSpec, len(specs))
	for i, s := range specs {
		out[i] = llm.ToolSpec{Name: string(s.Name), Description: s.Description, Parameters: s.Parameters}
	}
	return out
}

// fallBack switches to the rules planner once; false when there is none to switch to.
func (r *run) fallBack(reason string) bool {
	fb := r.a.d.Fallback
	if fb == nil || r.planner == fb {
		return false
	}
	r.emit(PlannerSwitched{At: r.now(), From: r.planner.Name(), To: fb.Name(), Reason: text.Clip(reason, 500)})
	r.sum.PlannerNote = "fell back to " + fb.Name() + ": " + text.Clip(reason, 300)
	r.planner, r.sum.Planner = fb, fb.Name()
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
func (r *run) execute(ctx context.Context, calls []llm.ToolCall) bool {
	results := make([]tools.Outcome, len(calls))
	var reads, writes, over []int
	for i, c := range calls {
		if i >= maxCallsPerTurn {
			over = append(over, i)
		} else if t, ok := r.a.d.Registry.Lookup(tools.Name(c.Name)); ok && t.Risk() == tools.RiskRead {
			reads = append(reads, i)
		} else {
			writes = append(writes, i)
		}
	}
	readCalls := make([]tools.Call, len(reads))
	for j, i := range reads {
		readCalls[j] = toCall(calls[i])
	}
	for j, o := range r.parallel(ctx, PhaseAnalys, r.planner.Name(), readCalls) {
		results[reads[j]] = o
	}
	for _, i := range writes {
		results[i] = r.invoke(ctx, r.phaseOfCall(calls[i].Name), r.planner.Name(), toCall(calls[i]))
	}
	for _, i := range over {
		results[i] = r.notRun(calls[i])
	}
	valid := false
	for i, c := range calls {
		r.msgs = append(r.msgs, llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Name: c.Name, Content: r.toolContent(results[i])})
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
func (r *run) notRun(c llm.ToolCall) tools.Outcome {
	call := toCall(c)
	r.called(PhaseAnalys, r.planner.Name(), call)
	o := tools.Outcome{CallID: c.ID, Tool: tools.Name(c.Name), Status: tools.StatusInvalid, Summary: "not run",
		Error: fmt.Sprintf("too many calls in one turn: only the first %d run; ask again for what is still needed", maxCallsPerTurn)}
	r.done(PhaseAnalys, call, o)
	return o
}

func (r *run) phaseOfCall(name string) Phase {
	if t, ok := r.a.d.Registry.Lookup(tools.Name(name)); ok && t.Risk() == tools.RiskRecord {
		return PhaseNotify
	}
	return PhaseAction
}

func toCall(c llm.ToolCall) tools.Call {
	return tools.Call{ID: c.ID, Tool: tools.Name(c.Name), Args: []byte(c.Arguments)}
}

// historyCopy keeps malformed tool-call arguments out of the conversation sent
// back to the provider (some reject invalid JSON there); the tool result still
// quotes what was wrong.
func historyCopy(m llm.Message) llm.Message {
	if len(m.ToolCalls) == 0 {
		return m
	}
	calls := make([]llm.ToolCall, len(m.ToolCalls))
	for i, c := range m.ToolCalls {
		if !json.Valid([]byte(c.Arguments)) {
			c.Arguments = "{}"
		}
		calls[i] = c
	}
	m.ToolCalls = calls
	return m
}
