package mcpserver

import (
	"context"
	"encoding/json"
	"strconv"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// MetaRisk is the _meta key of a tool's ops-skill risk level (read, record,
// write, destructive), which the annotations only approximate.
const MetaRisk = "ops-skill/risk"

// addTools offers every tool of the registry, in its order, with its own
// schema (the gate decodes strictly; the SDK does not validate again).
func (s *Server) addTools() {
	for _, spec := range s.d.Registry.Specs() {
		t, ok := s.d.Registry.Lookup(spec.Name)
		if !ok {
			continue
		}
		s.sdk.AddTool(&sdk.Tool{
			Name: string(spec.Name), Description: spec.Description, InputSchema: spec.Parameters,
			Annotations: Annotations(t.Risk()), Meta: sdk.Meta{MetaRisk: t.Risk().String()},
		}, s.handler(t))
	}
}

// Annotations maps a risk declared in code to MCP's hints. Writes are never
// idempotent: the guard judges each call against the state it finds (a
// clamped scale moves on by a step when called again). Records tell people
// (notify, an incident's page), the open world; the rest acts on the
// platform ops-skill was given.
func Annotations(r tools.Risk) *sdk.ToolAnnotations {
	no, yes := false, true
	switch r {
	case tools.RiskRead:
		return &sdk.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, DestructiveHint: &no, OpenWorldHint: &no}
	case tools.RiskRecord:
		return &sdk.ToolAnnotations{DestructiveHint: &no, OpenWorldHint: &yes}
	}
	return &sdk.ToolAnnotations{DestructiveHint: &yes, OpenWorldHint: &no}
}

// handler takes one MCP call of t through the gate. In approve mode a write
// the guard allows is first asked about (the result asks for input); the
// retried call carries the answer, and the gate runs with it.
func (s *Server) handler(t tools.Tool) sdk.ToolHandler {
	return func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		se := s.session(req.Session)
		call := s.call(t, req.Params.Arguments)
		if s.o.Mode == guard.ModeApprove && t.Risk().ChangesPlatform() {
			if summary, accepted, ok := s.answer(req, call); ok {
				defer se.approver.grant(summary, accepted)()
			} else if p, ok := s.d.Registry.PreviewWrite(ctx, se.run, call); ok && se.approver.canAsk {
				return s.askResult(p, call)
			}
		}
		out := s.d.Registry.Invoke(ctx, se.run, call)
		s.logCall(out)
		return render(out, s.o.Mode, se.approver.canAsk), nil
	}
}

// call is the gate's call of raw arguments: a workload named without a
// namespace is in the runtime's, as with `ops-skill tools call`.
func (s *Server) call(t tools.Tool, raw json.RawMessage) tools.Call {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	raw = t.Spec().WithNamespace(raw, s.d.Namespace)
	return tools.Call{ID: "mcp-" + strconv.FormatUint(s.calls.Add(1), 10), Tool: t.Spec().Name, Args: raw}
}

func (s *Server) logCall(o tools.Outcome) {
	s.d.Logger.Info("tool call", "tool", string(o.Tool), "target", o.Target, "status", string(o.Status), "rule", o.Rule,
		"mode", string(s.o.Mode), "auditErrors", len(o.AuditErrors))
}
