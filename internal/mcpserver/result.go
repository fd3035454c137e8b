package mcpserver

import (
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// Result is the structured content of every tool result: the gate's outcome
// as the agent's planner sees it, with the guard's verdict, the mode and
// any history write that failed.
type Result struct {
	Tool    tools.Name     `json:"tool"`
	Target  string         `json:"target,omitempty"`
	Status  tools.Status   `json:"status"`
	Summary string         `json:"summary"`
	Verdict guard.Verdict  `json:"verdict,omitempty"` // the guard's allow, clamp or refuse, when it decided
	Rule    string         `json:"rule,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
	Result  any            `json:"result,omitempty"`
	Error   string         `json:"error,omitempty"`
	Mode    guard.Mode     `json:"mode"`
	// AuditErrors lists the history writes of the call that failed: the
	// audit trail is incomplete, and the result is an error.
	AuditErrors []tools.AuditFailure `json:"auditErrors,omitempty"`
	// Note explains a refusal that is about MCP itself (a client that
	// cannot be asked in approve mode).
	Note string `json:"note,omitempty"`
}

// render makes a tool result of an outcome. A refusal and a dry run are
// normal results that say what happened; arguments the gate rejected (for
// the model to correct), the backend's failure, a cancelled call and a
// history that could not record the call are errors (isError), with the
// message.
func render(o tools.Outcome, mode guard.Mode, canAsk bool) *sdk.CallToolResult {
	r := Result{Tool: o.Tool, Target: o.Target, Status: o.Status, Summary: o.Summary, Rule: o.Rule, Reason: o.Reason,
		Params: o.Params, Result: o.Result, Error: o.Error, Mode: mode, AuditErrors: o.AuditErrors}
	if o.Decision != nil {
		r.Verdict = o.Decision.Verdict
	}
	if o.Rule == guard.RuleModeApproveNoTerm && !canAsk {
		r.Note = "this MCP client does not support elicitation, so approve mode cannot ask: the write is refused, never assumed approved"
	}
	body, err := json.Marshal(r)
	if err != nil { // a tool result that does not marshal is a bug of the tool; say so rather than fail the call
		r.Result = "unrenderable result: " + err.Error()
		body, _ = json.Marshal(r)
	}
	res := &sdk.CallToolResult{StructuredContent: json.RawMessage(body),
		Content: []sdk.Content{&sdk.TextContent{Text: Line(r) + "\n" + string(body)}}}
	switch {
	case o.Status == tools.StatusFailed, o.Status == tools.StatusCanceled, o.Status == tools.StatusInvalid, len(o.AuditErrors) > 0:
		res.IsError = true
	}
	return res
}

// Line is the result in one line, as the transcript says it.
func Line(r Result) string {
	var s string
	switch r.Status {
	case tools.StatusRefused:
		s = fmt.Sprintf("refused by %s: %s", r.Rule, firstNonEmpty(r.Reason, r.Summary))
	case tools.StatusDryRun:
		s = "dry run: " + r.Summary
	case tools.StatusExecuted:
		s = "executed: " + r.Summary + guardNote(r)
	case tools.StatusInvalid, tools.StatusFailed, tools.StatusCanceled:
		s = string(r.Status) + ": " + firstNonEmpty(r.Error, r.Summary)
	default:
		s = "ok: " + r.Summary
	}
	if len(r.AuditErrors) > 0 {
		s += " — but the history is incomplete: " + r.AuditErrors[0].String()
	}
	if r.Note != "" {
		s += " (" + r.Note + ")"
	}
	return strings.ReplaceAll(s, "\n", " ")
}

func guardNote(r Result) string {
	switch {
	case r.Verdict == guard.Clamp:
		return fmt.Sprintf(" (guard: clamped by %s: %s)", r.Rule, r.Reason)
	case r.Rule != "":
		return " (guard: allowed by " + r.Rule + ")"
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
