// Package llmplanner is the LLM planner: an adapter that puts a chat model
// (llm.Client) behind the typed planner contract (plan.Planner). It owns
// everything that is the model's business — the chat messages, the untrusted
// text fenced as data, each tool result cut to the model's budget, the earlier
// turns of a conversation compacted, and the final answer as structured output
// (the report tool) — so the agent and the renderers deal in typed values only.
package llmplanner

import (
	"context"
	"slices"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/plan"
	txt "github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// Config shapes what the model is sent.
type Config struct {
	System string       // the rendered system prompt
	Tools  []tools.Spec // the tools the model may call
	// ResultChars cuts each tool result sent to the model to this many bytes
	// (0: whole). Only the model's copy is cut: the agent and the rules
	// planner keep every outcome whole.
	ResultChars int
	MaxTokens   int // output tokens per reply
}

// DefaultConfig is the budget used when none is configured.
func DefaultConfig() Config { return Config{ResultChars: 4000, MaxTokens: 1024} }

// Planner is the LLM planner.
type Planner struct {
	client llm.Client
	cfg    Config
}

// New puts a model behind the planner contract.
func New(client llm.Client, cfg Config) *Planner {
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultConfig().MaxTokens
	}
	return &Planner{client: client, cfg: cfg}
}

// Name identifies the planner, e.g. "llm:gpt-4o".
func (p *Planner) Name() string { return p.client.Name() }

// Next answers without a brief: the model gets the facts and outcomes, not
// the text they came from. The agent always briefs it (plan.Begin).
func (p *Planner) Next(ctx context.Context, s plan.Situation) (plan.Turn, error) {
	return p.Brief(plan.Brief{}).Next(ctx, s)
}

// Brief starts the model's conversation for one run.
func (p *Planner) Brief(b plan.Brief) plan.Planner {
	return &session{p: p, brief: b}
}

// session is one run's conversation with the model.
type session struct {
	p       *Planner
	brief   plan.Brief
	msgs    []llm.Message
	sent    int      // outcomes of the situation already in msgs
	calls   []string // IDs of the calls of the model's last turn, in its order
	reports []string // IDs of report calls still to be answered
	// textCalls numbers the calls read from text; redacted counts the
	// credentials taken out of what was sent since the last turn.
	textCalls, redacted int
}

func (s *session) Name() string { return s.p.Name() }

// Next sends what happened since the last turn and asks the model for the next.
func (s *session) Next(ctx context.Context, sit plan.Situation) (plan.Turn, error) {
	if s.msgs == nil {
		s.open(sit)
	} else {
		s.answer(sit)
	}
	req := llm.Request{Messages: s.msgs, Tools: s.specs(), ToolChoice: llm.ToolChoiceAuto, MaxTokens: s.p.cfg.MaxTokens}
	if sit.Final {
		req.ToolChoice = llm.ToolChoiceNone
	}
	resp, err := s.p.client.Chat(ctx, req)
	usage := plan.Usage{Calls: 1, PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens, Redactions: s.redacted}
	s.redacted = 0
	if err != nil {
		return plan.Turn{Usage: usage}, err
	}
	msg := s.callsInText(resp.Message)
	if msg.Role == "" {
		msg.Role = llm.RoleAssistant
	}
	asked := len(msg.ToolCalls) > 0
	if sit.Final {
		msg.ToolCalls = nil // the last turn must answer; calls it still makes are ignored
	}
	if err := s.accept(resp, msg, sit.Final, asked); err != nil {
		return plan.Turn{Usage: usage}, err
	}
	s.msgs = append(s.msgs, historyCopy(msg))
	t := s.turnOf(msg)
	t.Usage = usage
	return t, nil
}

// answer appends the outcomes of the model's last calls, in the order of the
// calls, and acknowledges its interim reports.
func (s *session) answer(sit plan.Situation) {
	for _, o := range inCallOrder(sit.Outcomes[s.sent:], s.calls) {
		s.msgs = append(s.msgs, llm.Message{Role: llm.RoleTool, ToolCallID: o.CallID, Name: string(o.Tool), Content: s.redact(content(o, s.p.cfg.ResultChars))})
	}
	s.sent = len(sit.Outcomes)
	for _, id := range s.reports {
		s.msgs = append(s.msgs, llm.Message{Role: llm.RoleTool, ToolCallID: id, Name: ReportTool,
			Content: `{"status":"ok","summary":"report noted; the other calls of that turn ran, their results are above"}`})
	}
	s.reports = nil
}

func (s *session) specs() []llm.ToolSpec {
	out := make([]llm.ToolSpec, 0, len(s.p.cfg.Tools)+1)
	for _, t := range s.p.cfg.Tools {
		out = append(out, llm.ToolSpec{Name: string(t.Name), Description: t.Description, Parameters: t.Parameters})
	}
	return append(out, reportSpec())
}

// turnOf reads the model's reply: its calls, and its report — the report
// tool's arguments, or else its words.
func (s *session) turnOf(msg llm.Message) plan.Turn {
	var t plan.Turn
	reported := false
	s.calls = nil
	for _, c := range msg.ToolCalls {
		if c.Name == ReportTool {
			t.Report, reported = readReport(c.Arguments, msg.Content), true
			s.reports = append(s.reports, c.ID)
			continue
		}
		t.Calls = append(t.Calls, tools.Call{ID: c.ID, Tool: tools.Name(c.Name), Args: []byte(c.Arguments)})
		s.calls = append(s.calls, c.ID)
	}
	if !reported {
		t.Report = plan.Report{Text: msg.Content}
	}
	if len(t.Calls) == 0 {
		s.reports = nil // the planning ends here: nothing is sent after it
	}
	return t
}

// redact takes credentials out of what is sent to the model (a password in
// a DSN in a log line must not leave the machine) and counts them.
func (s *session) redact(text string) string {
	out, n := txt.CountRedactions(text)
	s.redacted += n
	return out
}

// inCallOrder puts outcomes in the order the model asked for the calls (the
// agent runs reads before writes); outcomes of no listed call keep their place
// at the end.
func inCallOrder(outs []tools.Outcome, ids []string) []tools.Outcome {
	rank := make(map[string]int, len(ids))
	for i, id := range ids {
		rank[id] = i
	}
	sorted := slices.Clone(outs)
	slices.SortStableFunc(sorted, func(a, b tools.Outcome) int {
		ra, oka := rank[a.CallID]
		rb, okb := rank[b.CallID]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
	return sorted
}
