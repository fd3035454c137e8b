package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// Conversation bounds: the last turns are kept whole, older ones are compacted
// into one line each.
const (
	keepTurns       = 4
	maxContextChars = 12000
)

// Conversation is an operator's chat with the agent: free-text requests and
// follow-ups answered with the same tools, guard, modes, events and history
// as alerts. Each turn is a run of its own (its own write budget, verification
// and summary); the conversation carries the context between turns.
type Conversation struct {
	a     *Agent
	turns []turnRecord
}

// turnRecord is what a later turn remembers of an earlier one.
type turnRecord struct {
	request string
	answer  string
	digest  string // what the tools did, one line each
}

// NewConversation starts an empty conversation.
func (a *Agent) NewConversation() *Conversation { return &Conversation{a: a} }

// Ask handles one request, parsed by alert.Parser.ParseRequest.
func (c *Conversation) Ask(ctx context.Context, req alert.Alert) Summary {
	r := c.a.newRun(req)
	r.inChat, r.prior = true, c.context()
	r.start(ctx)
	r.escalate = false
	r.snapshot(ctx)
	r.plan(ctx)
	r.verify(ctx)
	r.escalateIfNeeded(ctx)
	r.notify(ctx)
	s := r.finish(ctx)
	c.turns = append(c.turns, turnRecord{request: text.Clip(req.Text, 2000), answer: text.Clip(s.Explanation, 3000), digest: digest(r.outcomes)})
	return s
}

// Turns reports how many requests the conversation has handled.
func (c *Conversation) Turns() int { return len(c.turns) }

// context renders earlier turns as messages: older ones compacted, the
// newest kept whole, the total bounded.
func (c *Conversation) context() []llm.Message {
	var out []llm.Message
	old := max(0, len(c.turns)-keepTurns)
	if old > 0 {
		var b strings.Builder
		b.WriteString("Earlier in this conversation (compacted):\n")
		for _, t := range c.turns[:old] {
			fmt.Fprintf(&b, "- asked %q; %s\n", text.Clip(t.request, 120), text.Clip(firstLine(t.answer), 160))
		}
		out = append(out, llm.Message{Role: llm.RoleUser, Content: b.String()}, llm.Message{Role: llm.RoleAssistant, Content: "Noted."})
	}
	for _, t := range c.turns[old:] {
		out = append(out, llm.Message{Role: llm.RoleUser, Content: "Earlier request: " + t.request},
			llm.Message{Role: llm.RoleAssistant, Content: strings.TrimSpace(t.answer + "\n" + t.digest)})
	}
	for size(out) > maxContextChars && len(out) > 2 {
		out = out[2:]
	}
	return out
}

func size(ms []llm.Message) int {
	n := 0
	for _, m := range ms {
		n += len(m.Content)
	}
	return n
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
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
