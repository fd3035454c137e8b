package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/mcpserver"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// TestMCPListsEveryToolWithItsSchemaAndRisk lists the tools as a client
// receives them: every tool of the registry, its schema as the planners get
// it, its risk as annotations. The size of the list is logged.
func TestMCPListsEveryToolWithItsSchemaAndRisk(t *testing.T) {
	r := startMCP(t, t.TempDir(), mcpClient{}, "--simulate", "mcp")
	res, err := r.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	specs := map[tools.Name]tools.Spec{}
	for _, s := range tools.NewRegistry(tools.Deps{}).Specs() {
		specs[s.Name] = s
	}
	if len(res.Tools) != len(tools.AllNames()) {
		t.Errorf("%d tools listed, want %d", len(res.Tools), len(tools.AllNames()))
	}
	for _, tl := range res.Tools {
		spec, ok := specs[tools.Name(tl.Name)]
		if !ok {
			t.Errorf("%s is not a tool of the registry", tl.Name)
			continue
		}
		var want, got any
		_ = json.Unmarshal(spec.Parameters, &want)
		b, _ := json.Marshal(tl.InputSchema)
		_ = json.Unmarshal(b, &got)
		if string(mustJSON(t, want)) != string(mustJSON(t, got)) {
			t.Errorf("%s: schema %s, want %s", tl.Name, b, spec.Parameters)
		}
		a := tl.Annotations
		readOnly := spec.Risk == tools.RiskRead.String()
		destructive := spec.Risk == tools.RiskWrite.String() || spec.Risk == tools.RiskDestructive.String()
		if a == nil || a.ReadOnlyHint != readOnly || a.DestructiveHint == nil || *a.DestructiveHint != destructive || a.IdempotentHint != readOnly {
			t.Errorf("%s (%s): annotations %+v", tl.Name, spec.Risk, a)
		}
		if tl.Meta[mcpserver.MetaRisk] != spec.Risk {
			t.Errorf("%s: _meta risk %v, want %s", tl.Name, tl.Meta[mcpserver.MetaRisk], spec.Risk)
		}
	}
	t.Logf("tools/list result: %d tools, %d characters of JSON", len(res.Tools), len(mustJSON(t, res)))
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMCPCallsGoThroughTheGate calls tools as an MCP client: each outcome is
// the gate's (decode, scope, guard, mode), a refusal and a dry run are
// normal results naming the rule, and only what failed is an error result.
func TestMCPCallsGoThroughTheGate(t *testing.T) {
	scale := func(ns string, n int) map[string]any {
		m := map[string]any{"name": "backend", "replicas": n}
		if ns != "" {
			m["namespace"] = ns
		}
		return m
	}
	cases := []struct {
		name        string
		args        []string // before "mcp"
		env         map[string]string
		tool        string
		call        any
		status      tools.Status
		rule        string
		verdict     guard.Verdict
		isError     bool
		textHas     string
		replicasNow float64 // of the scale result; 0: not checked
	}{
		{"a read runs in observe mode", nil, nil, "getServiceStatus", map[string]any{"name": "backend"}, tools.StatusOK, "", "", false, "ok: ", 0},
		{"observe is the default even where agent.mode is auto: a write is a dry run", nil, map[string]string{"OPS_SKILL_MODE": "auto"}, "scaleDeployment", scale("", 4),
			tools.StatusDryRun, guard.RuleScaleUpCPU, guard.Allow, false, "dry run: would scale ai-data-labs/backend from 3 to 4", 0},
		{"--mode auto applies a write the guard allows", []string{"--mode", "auto"}, nil, "scaleDeployment", scale("ai-data-labs", 4),
			tools.StatusExecuted, guard.RuleScaleUpCPU, guard.Allow, false, "executed: scale ai-data-labs/backend from 3 to 4", 4},
		{"a request beyond the rules is clamped", []string{"--mode", "auto"}, nil, "scaleDeployment", scale("", 10),
			tools.StatusExecuted, guard.RuleScaleUpCPU, guard.Clamp, false, "guard: clamped by scale_up.cpu", 4},
		{"a namespace off the allowlist is refused", []string{"--mode", "auto"}, nil, "scaleDeployment", scale("kube-system", 4),
			tools.StatusRefused, guard.RuleNamespaceNotAllowed, guard.Refuse, false, "refused by namespace_not_allowed", 0},
		{"the guard refuses a scale the metrics do not support", []string{"--mode", "auto", "--scenario", "healthy"}, nil, "scaleDeployment", scale("", 4),
			tools.StatusRefused, guard.RuleScaleUpCPU, guard.Refuse, false, "refused by scale_up.cpu", 0},
		{"approve mode without elicitation refuses, never assumes", []string{"--mode", "approve"}, nil, "scaleDeployment", scale("", 4),
			tools.StatusRefused, guard.RuleModeApproveNoTerm, guard.Refuse, false, "does not support elicitation", 0},
		{"an unknown argument is an error result the model can correct", nil, nil, "scaleDeployment", map[string]any{"name": "backend", "replicas": 4, "force": true},
			tools.StatusInvalid, "", "", true, "force", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--simulate", "--scenario", "high-cpu"}, c.args...)
			r := startMCP(t, t.TempDir(), mcpClient{env: c.env}, append(args, "mcp")...)
			res, out := r.call(t, c.tool, c.call)
			if out.Status != c.status || out.Rule != c.rule || out.Verdict != c.verdict || res.IsError != c.isError {
				t.Errorf("status %s rule %q verdict %q isError %v, want %s %q %q %v\n%s", out.Status, out.Rule, out.Verdict, res.IsError,
					c.status, c.rule, c.verdict, c.isError, text(res))
			}
			if !strings.Contains(text(res), c.textHas) {
				t.Errorf("text %q does not say %q", text(res), c.textHas)
			}
			result, _ := out.Result.(map[string]any)
			if got, _ := result["replicasNow"].(float64); c.replicasNow != 0 && got != c.replicasNow {
				t.Errorf("replicas now %v, want %v", got, c.replicasNow)
			}
		})
	}
}

// TestMCPApproveAsksThroughElicitation: in approve mode a write the guard
// allows is asked about through the client's elicitation, naming the change
// and where it goes; accept applies it, decline refuses it with the rule.
// Both ways of asking are covered: the multi round-trip of the current
// protocol, and the server's own request to a client of 2025-11-25.
func TestMCPApproveAsksThroughElicitation(t *testing.T) {
	for _, protocol := range []string{"", "2025-11-25"} {
		for _, c := range []struct {
			action string
			status tools.Status
			rule   string
		}{
			{"accept", tools.StatusExecuted, guard.RuleScaleUpCPU},
			{"decline", tools.StatusRefused, guard.RuleApprovalDeclined},
			{"cancel", tools.StatusRefused, guard.RuleApprovalDeclined},
		} {
			t.Run(c.action+" "+firstNonEmptyString(protocol, "latest"), func(t *testing.T) {
				var asked []string
				opts := &sdk.ClientOptions{ElicitationHandler: func(_ context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
					asked = append(asked, req.Params.Message)
					return &sdk.ElicitResult{Action: c.action}, nil
				}}
				r := startMCP(t, t.TempDir(), mcpClient{opts: opts, protocol: protocol}, "--simulate", "--scenario", "high-cpu", "--mode", "approve", "mcp")
				res, out := r.call(t, "scaleDeployment", map[string]any{"name": "backend", "replicas": 4})
				if out.Status != c.status || out.Rule != c.rule || res.IsError {
					t.Errorf("status %s rule %q isError %v, want %s %q\n%s", out.Status, out.Rule, res.IsError, c.status, c.rule, text(res))
				}
				if len(asked) != 1 || !strings.Contains(asked[0], "scale ai-data-labs/backend from 3 to 4 replicas") || !strings.Contains(asked[0], "SIMULATED") {
					t.Errorf("asked %q: want one question naming the change and the platform", asked)
				}
				if _, out := r.call(t, "getServiceStatus", map[string]any{"name": "backend"}); out.Status != tools.StatusOK {
					t.Errorf("a read in approve mode: %s", out.Status)
				} else if len(asked) != 1 {
					t.Errorf("a read was asked about: %q", asked)
				}
			})
		}
	}
}

// TestMCPRecordsEveryCallAndServesTheHistory: calls over MCP are in the
// history like every other call; an incident opened over MCP is a resource,
// and the prompt carries the playbook with the guardrails in force.
func TestMCPRecordsEveryCallAndServesTheHistory(t *testing.T) {
	state := t.TempDir()
	r := startMCP(t, state, mcpClient{}, "--simulate", "--scenario", "high-cpu", "--mode", "auto", "mcp")
	r.call(t, "scaleDeployment", map[string]any{"name": "backend", "replicas": 4})
	_, inc := r.call(t, "createIncident", map[string]any{"title": "backend CPU", "service": "backend", "severity": "high"})
	if inc.Status != tools.StatusOK {
		t.Fatalf("createIncident: %+v", inc)
	}
	var actions []store.ToolCallRecord
	if err := json.Unmarshal([]byte(r.read(t, mcpserver.HistoryActions)), &actions); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(actions, func(c store.ToolCallRecord) bool {
		return c.Tool == "scaleDeployment" && c.Verdict == store.VerdictExecuted && c.Rule == guard.RuleScaleUpCPU && c.Env == store.EnvSimulated
	}) {
		t.Errorf("history://actions has no executed scale: %+v", actions)
	}
	id := incidentID(t, inc)
	var view mcpserver.IncidentView
	if err := json.Unmarshal([]byte(r.read(t, "incident://"+id)), &view); err != nil || view.Incident.ID != id {
		t.Errorf("incident://%s: %+v (%v)", id, view, err)
	}
	if !strings.Contains(r.read(t, mcpserver.HistoryIncidents), id) {
		t.Errorf("history://incidents does not list %s", id)
	}
	if _, err := r.cs.ReadResource(context.Background(), &sdk.ReadResourceParams{URI: "incident://INC-1999-01-01-001"}); err == nil {
		t.Error("an unknown incident was read")
	}
	p, err := r.cs.GetPrompt(context.Background(), &sdk.GetPromptParams{Name: mcpserver.PromptIncident,
		Arguments: map[string]string{"alert": "Alert: Backend service CPU at 85% for 5 minutes", "incident": id}})
	if err != nil {
		t.Fatal(err)
	}
	body := p.Messages[0].Content.(*sdk.TextContent).Text
	for _, want := range []string{"kind cpu", "subject ai-data-labs/backend", "scaleDeployment", "scale up on CPU>80% for 5m", "Mode: auto", "incident://" + id} {
		if !strings.Contains(body, want) {
			t.Errorf("the playbook does not say %q:\n%s", want, body)
		}
	}
	if code := r.stop(t); code != cli.ExitOK {
		t.Errorf("exit %d", code)
	}
	st, err := store.Open(context.Background(), state+"/history.db", clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	calls, err := st.ListRecentToolCalls(context.Background(), store.CallFilter{})
	if err != nil || len(calls) != 2 {
		t.Errorf("history after exit: %d calls (%v), want 2", len(calls), err)
	}
}

func incidentID(t *testing.T, r mcpserver.Result) string {
	t.Helper()
	b, _ := json.Marshal(r.Result)
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &v) != nil || !strings.HasPrefix(v.ID, "INC-") {
		t.Fatalf("createIncident result %s has no incident ID", b)
	}
	return v.ID
}

// TestAWriteThroughMCPIsTheWriteOfToolsCall: the same write through MCP
// and through `ops-skill tools call` changes the platform the same way and
// leaves the same record.
func TestAWriteThroughMCPIsTheWriteOfToolsCall(t *testing.T) {
	args := `{"name":"backend","replicas":10}`
	h := newHarness(t)
	if code := h.run("--simulate", "--scenario", "high-cpu", "--mode", "auto", "tools", "call", "scaleDeployment", "--args", args); code != cli.ExitOK {
		t.Fatalf("tools call: exit %d: %s", code, h.errOut.String())
	}
	var viaCLI tools.Outcome
	if err := json.Unmarshal(h.out.Bytes(), &viaCLI); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	r := startMCP(t, state, mcpClient{}, "--simulate", "--scenario", "high-cpu", "--mode", "auto", "mcp")
	_, viaMCP := r.call(t, "scaleDeployment", json.RawMessage(args))
	if viaMCP.Status != viaCLI.Status || viaMCP.Summary != viaCLI.Summary || viaMCP.Rule != viaCLI.Rule || viaMCP.Reason != viaCLI.Reason ||
		string(mustJSON(t, viaMCP.Result)) != string(mustJSON(t, viaCLI.Result)) {
		t.Errorf("through MCP:\n%+v\nthrough tools call:\n%+v", viaMCP, viaCLI)
	}
	r.stop(t)
	rows := func(dir string) []store.ToolCallRecord {
		st, err := store.Open(context.Background(), dir+"/history.db", clock.RealClock{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		calls, err := st.ListRecentToolCalls(context.Background(), store.CallFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return calls
	}
	cliRows, mcpRows := rows(h.env["OPS_SKILL_STATE_DIR"]), rows(state)
	if len(cliRows) != 1 || len(mcpRows) != 1 {
		t.Fatalf("history: %d rows through tools call, %d through MCP", len(cliRows), len(mcpRows))
	}
	a, b := cliRows[0], mcpRows[0]
	if a.Tool != b.Tool || a.Target != b.Target || a.Verdict != b.Verdict || a.Rule != b.Rule || a.Write != b.Write || a.Env != b.Env || a.Args != b.Args {
		t.Errorf("history through MCP %+v\nthrough tools call %+v", b, a)
	}
}
