package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// Conversation is an operator's chat with the agent: free-text requests and
// follow-ups answered with the same tools, guard, modes, events and history
// as alerts. Each turn is a run of its own (its own write budget, verification
// and summary); the conversation carries the context between turns: typed for
// the planners (plan.Context), in words for a model (plan.Exchange).
type Conversation struct {
	a     *Agent
	turns []turnRecord
}

// turnRecord is what a later turn remembers of an earlier one.
type turnRecord struct {
	exchange plan.Exchange
	facts    plan.Facts
	subject  platform.WorkloadRef
	actions  []tools.Outcome
	report   plan.Report
}

// NewConversation starts an empty conversation.
func (a *Agent) NewConversation() *Conversation { return &Conversation{a: a} }

// Ask handles one request, parsed by alert.Parser.ParseRequest. What a
// follow-up leaves unsaid comes from the conversation (FollowUp).
func (c *Conversation) Ask(ctx context.Context, req alert.Alert) Summary {
	ctx, cancel := c.a.deadline(ctx)
	defer cancel()
	req = FollowUp(req, c.Context())
	r := c.a.newRun(req, c.Context(), c.exchanges())
	r.start(ctx)
	if release, ok := r.takeTurn(ctx); ok {
		defer release()
	} else {
		s := r.finish(ctx)
		c.turns = append(c.turns, c.remember(r, s))
		return s
	}
	r.escalate, r.handedOver = false, false
	r.snapshot(ctx)
	r.plan(ctx)
	r.verify(ctx)
	r.escalateIfNeeded(ctx)
	r.notify(ctx)
	s := r.finish(ctx)
	c.turns = append(c.turns, c.remember(r, s))
	return s
}

// Turns reports how many requests the conversation has handled.
func (c *Conversation) Turns() int { return len(c.turns) }

// Context is what the conversation has established: the subject of the last
// request that had one, and what the last request did and found.
func (c *Conversation) Context() plan.Context {
	if len(c.turns) == 0 {
		return plan.Context{}
	}
	last := c.turns[len(c.turns)-1]
	return plan.Context{Subject: last.subject, LastIntent: last.facts.Intent, LastKind: last.facts.Kind,
		LastActions: last.actions, LastReport: last.report, Turns: len(c.turns)}
}

func (c *Conversation) exchanges() []plan.Exchange {
	out := make([]plan.Exchange, len(c.turns))
	for i, t := range c.turns {
		out[i] = t.exchange
	}
	return out
}

// remember keeps what later turns need of a finished one. A request that
// names no workload keeps the subject of the one before.
func (c *Conversation) remember(r *run, s Summary) turnRecord {
	t := turnRecord{facts: r.sit.Facts, subject: r.sit.Facts.Workload(), report: r.answer,
		exchange: plan.Exchange{Request: text.Clip(r.al.Text, 2000), Answer: text.Clip(s.Explanation, 3000), Digest: digest(r.outcomes)}}
	if t.subject.Name == "" {
		t.subject = c.Context().Subject
	}
	for _, o := range r.outcomes {
		if o.Risk.ChangesPlatform() && o.Status != tools.StatusInvalid {
			t.actions = append(t.actions, o)
		}
	}
	return t
}

// FollowUp fills in what a request leaves to the conversation: the subject of
// "it" and "why?", and for "and for frontend?" the question asked last. The
// request's own words win: a service it names is its subject.
func FollowUp(req alert.Alert, ctx plan.Context) alert.Alert {
	if req.Intent == alert.IntentFollowUp && ctx.LastIntent != "" && ctx.LastIntent != alert.IntentHelp {
		req.Intent = ctx.LastIntent
		if req.Kind == "" || req.Kind == alert.KindUnknown {
			req.Kind = ctx.LastKind
		}
	}
	if req.Service == "" && ctx.Subject.Name != "" && takesSubject(req.Intent) {
		req.Service, req.Namespace = ctx.Subject.Name, ctx.Subject.Namespace
	}
	return req
}

// takesSubject reports the intents about one workload, whose subject a
// conversation can supply.
func takesSubject(i alert.Intent) bool {
	switch i {
	case alert.IntentHistory, alert.IntentStatus, alert.IntentScale, alert.IntentRestart, alert.IntentWhatIf, alert.IntentIncident:
		return true
	}
	return false
}

// digest lists what the tools did in a turn, for the next turns' context.
func digest(outs []tools.Outcome) string {
	var lines []string
	for _, o := range outs {
		if o.Risk == tools.RiskRead && o.Status == tools.StatusOK {
			continue
		}
		line := fmt.Sprintf("[%s %s: %s", o.Tool, o.Status, text.Clip(o.Summary, 160))
		if o.Rule != "" {
			line += " (" + o.Rule + ")"
		}
		lines = append(lines, line+"]")
	}
	return strings.Join(lines, "\n")
}
