package mcpserver

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// TestRenderSaysWhatHappenedAndErrsOnlyOnFailures: every outcome is a
// result with its structured content and a line; isError is for what
// failed (arguments, backend, cancellation, an incomplete history), never
// for the guard's or the mode's answer.
func TestRenderSaysWhatHappenedAndErrsOnlyOnFailures(t *testing.T) {
	clamp := guard.Decision{Verdict: guard.Clamp, Rule: guard.RuleScaleUpCPU, Reason: "requested 10, allowed 4"}
	cases := []struct {
		name    string
		o       tools.Outcome
		isError bool
		line    string
	}{
		{"a read", tools.Outcome{Status: tools.StatusOK, Summary: "backend: 3/3 ready"}, false, "ok: backend: 3/3 ready"},
		{"a clamped write", tools.Outcome{Status: tools.StatusExecuted, Summary: "scale a/b from 3 to 4 replicas", Rule: clamp.Rule, Reason: clamp.Reason, Decision: &clamp},
			false, "executed: scale a/b from 3 to 4 replicas (guard: clamped by scale_up.cpu: requested 10, allowed 4)"},
		{"a dry run", tools.Outcome{Status: tools.StatusDryRun, Summary: "would scale a/b (observe mode: nothing changed)"}, false, "dry run: would scale a/b"},
		{"a refusal", tools.Outcome{Status: tools.StatusRefused, Rule: "namespace_not_allowed", Reason: "not on the allowlist"}, false, "refused by namespace_not_allowed: not on the allowlist"},
		{"invalid arguments", tools.Outcome{Status: tools.StatusInvalid, Error: `unknown field "force"`}, true, `invalid: unknown field "force"`},
		{"a backend failure", tools.Outcome{Status: tools.StatusFailed, Error: "connection refused"}, true, "failed: connection refused"},
		{"a write the history could not record", tools.Outcome{Status: tools.StatusExecuted, Summary: "scale a/b from 3 to 4 replicas",
			AuditErrors: []tools.AuditFailure{{What: "record scaleDeployment a/b", Err: "disk full"}}}, true, "but the history is incomplete: record scaleDeployment a/b: disk full"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := render(c.o, guard.ModeAuto, true)
			text := res.Content[0].(*sdk.TextContent).Text
			first, body, _ := strings.Cut(text, "\n")
			if res.IsError != c.isError || !strings.Contains(first, c.line) {
				t.Errorf("isError %v, line %q; want %v, %q", res.IsError, first, c.isError, c.line)
			}
			var got Result
			if err := json.Unmarshal(res.StructuredContent.(json.RawMessage), &got); err != nil || body != string(res.StructuredContent.(json.RawMessage)) {
				t.Errorf("structured content %s (%v) is not the text's JSON %s", res.StructuredContent, err, body)
			}
			if got.Status != c.o.Status || got.Mode != guard.ModeAuto || len(got.AuditErrors) != len(c.o.AuditErrors) {
				t.Errorf("structured content %+v", got)
			}
		})
	}
}

// TestApprovalStateIsTheServersOwn: the change a client answers about comes
// back signed; one the client altered or made up is no answer.
func TestApprovalStateIsTheServersOwn(t *testing.T) {
	s, err := newStateSigner()
	if err != nil {
		t.Fatal(err)
	}
	st := approvalState{Tool: "scaleDeployment", Args: `{"replicas":4}`, Summary: "scale a/b from 3 to 4 replicas"}
	v, err := s.sign(st)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.verify(v); err != nil || got != st {
		t.Errorf("verify(sign(st)) = %+v, %v", got, err)
	}
	other, _ := newStateSigner()
	forged, _ := other.sign(approvalState{Tool: "scaleDeployment", Args: `{"replicas":10}`, Summary: "scale a/b from 3 to 10 replicas"})
	body, mac, _ := strings.Cut(v, ".")
	altered := strings.ToUpper(body[:1]) + body[1:] + "." + mac
	for _, bad := range []string{"", "x", forged, altered, body + "."} {
		if _, err := s.verify(bad); !errors.Is(err, errState) {
			t.Errorf("verify(%q): %v, want errState", bad, err)
		}
	}
}

// TestAnnotationsFollowTheDeclaredRisk maps each risk level to MCP's hints.
func TestAnnotationsFollowTheDeclaredRisk(t *testing.T) {
	for _, c := range []struct {
		risk                                      tools.Risk
		readOnly, destructive, idempotent, openWo bool
	}{
		{tools.RiskRead, true, false, true, false},
		{tools.RiskRecord, false, false, false, true},
		{tools.RiskWrite, false, true, false, false},
		{tools.RiskDestructive, false, true, false, false},
	} {
		a := Annotations(c.risk)
		if a.ReadOnlyHint != c.readOnly || *a.DestructiveHint != c.destructive || a.IdempotentHint != c.idempotent || *a.OpenWorldHint != c.openWo {
			t.Errorf("%s: %+v", c.risk, a)
		}
	}
}
