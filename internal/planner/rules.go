// Package planner holds the deterministic rules planner: playbooks for the
// spec's incidents (sustained high CPU, a database crash-looping from OOM, disk
// usage high, a failing health check) that call the same tools, through the same
// guard, as an LLM would. It implements llm.Client, so the agent cannot tell the
// two apart, and it is the fallback when the LLM fails.
//
// It reads only the facts code parsed and the tools' outcomes, never the alert
// text, so nothing written in an alert can steer it.
package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/duet-company/ops-skill/internal/guard"
	"strconv"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/tools"
)

// Policy is what the playbooks aim for; the guard enforces its own copy.
type Policy struct {
	ScaleUpThreshold   float64
	ScaleDownThreshold float64
	ErrorRateThreshold float64
	UpStep, OutStep    int32
	MinReplicas        int32
	MaxReplicas        int32
	DiskTargetPct      float64
	MemoryFactor       float64
	UpWindow           time.Duration // how long CPU must stay above the threshold
	OutWindow          time.Duration // how long the error rate must stay above its threshold
	RetentionDays      int
}

// Rules is the rules planner.
type Rules struct {
	p Policy
}

// NewRules builds the rules planner.
func NewRules(p Policy) *Rules { return &Rules{p: p} }

// Name identifies the planner in transcripts.
func (*Rules) Name() string { return "rules" }

// turn is the playbook's next move: calls to make, or a final answer when empty.
type turn struct {
	text  string
	calls []call
}

type call struct {
	tool tools.Name
	args any
}

// Chat answers like a model would: tool calls, or a final text.
func (r *Rules) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return llm.Response{}, err
	}
	c := readConversation(req.Messages)
	t := r.next(c)
	if req.ToolChoice == llm.ToolChoiceNone && len(t.calls) > 0 {
		t = turn{text: r.wrapUp(c)}
	}
	msg := llm.Message{Role: llm.RoleAssistant, Content: t.text}
	for i, k := range t.calls {
		args, err := json.Marshal(k.args)
		if err != nil {
			return llm.Response{}, fmt.Errorf("rules planner: encode %s arguments: %w", k.tool, err)
		}
		msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: "rules-" + strconv.Itoa(c.turns) + "-" + strconv.Itoa(i), Name: string(k.tool), Arguments: string(args)})
	}
	reason := "stop"
	if len(msg.ToolCalls) > 0 {
		reason = "tool_calls"
	}
	return llm.Response{Message: msg, FinishReason: reason}, nil
}

// next picks the playbook by the kind of alert.
func (r *Rules) next(c conversation) turn {
	if !c.hasFacts {
		return turn{text: "No parsed alert facts were given; nothing to act on."}
	}
	if c.facts.Intent != "" && c.facts.Intent != "incident" {
		return r.request(c)
	}
	if c.facts.Service == "" || c.facts.Namespace == "" {
		return turn{text: "Diagnosis: the alert names no known service, so no playbook applies.\nAction: none; a person should look at it."}
	}
	if _, ok := c.called(tools.GetServiceStatus, func(o observed) bool { return o.Status == "failed" || o.Status == "refused" }); ok {
		if _, ok := last[json.RawMessage](c, tools.GetServiceStatus, nil); !ok {
			o, _ := c.called(tools.GetServiceStatus, nil)
			return turn{text: "Diagnosis: the service could not be read: " + o.why() + "\nAction: none."}
		}
	}
	switch c.facts.Kind {
	case "cpu", "latency", "error_rate":
		return r.cpu(c)
	case "memory", "connection", "crashloop":
		return r.crashing(c)
	case "disk":
		return r.disk(c)
	case "health":
		return r.health(c)
	}
	return turn{text: fmt.Sprintf("Diagnosis: no playbook for alerts of kind %q on %s.\nAction: none; a person should look at it.", c.facts.Kind, c.facts.Service)}
}

func (r *Rules) wrapUp(c conversation) string {
	var done []string
	for _, o := range c.seen {
		if o.Status == "executed" || o.Status == "dry_run" || o.Status == "refused" {
			done = append(done, fmt.Sprintf("%s %s: %s", o.Tool, o.Status, firstNonEmpty(o.Reason, o.Summary)))
		}
	}
	if len(done) == 0 {
		return "No change was made."
	}
	return "Done: " + strings.Join(done, "; ")
}

func (r *Rules) workload(c conversation) map[string]any {
	return map[string]any{"namespace": c.facts.Namespace, "name": c.facts.Service}
}

func (r *Rules) queryArgs(c conversation, metric, rng string) map[string]any {
	a := r.workload(c)
	a["metric"], a["range"] = metric, rng
	return a
}

// acted reports whether a write to this tool already ran or was refused, so a
// playbook never repeats itself (also after taking over from an LLM).
func (c conversation) acted(tool tools.Name) (observed, bool) {
	return c.called(tool, func(o observed) bool {
		return o.Status == "executed" || o.Status == "dry_run" || o.Status == "refused" || o.Status == "failed"
	})
}

// PolicyFrom derives the rules planner's policy from the guardrail policy, so
// the playbooks ask for what the gate will allow.
func PolicyFrom(p guard.Policy) Policy {
	s := p.Scaling
	return Policy{ScaleUpThreshold: s.Up.Threshold, ScaleDownThreshold: s.Down.Threshold, ErrorRateThreshold: s.Out.Threshold,
		UpStep: int32(s.Up.Step), OutStep: int32(s.Out.Step), MinReplicas: int32(s.Min), MaxReplicas: int32(s.Max),
		DiskTargetPct: p.Targets.DiskPct, MemoryFactor: p.Healing.MemoryMaxFactor,
		UpWindow: s.Up.Sustain, OutWindow: s.Out.Sustain, RetentionDays: p.RetentionDays()}
}
