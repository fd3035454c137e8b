package tools_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// TestPreviewWritePlansWithoutActing: a preview is the plan the gate would
// ask about — clamped as the guard decides — and only when the call would
// reach the approval; it changes, reserves and records nothing.
func TestPreviewWritePlansWithoutActing(t *testing.T) {
	cases := []struct {
		name, scenario, tool, args string
		ok                         bool
		summary                    string
	}{
		{"an allowed scale", "high-cpu", "scaleDeployment", scaleBackendTo4, true, "scale ai-data-labs/backend from 3 to 4 replicas"},
		{"a clamped scale is the clamped change", "high-cpu", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":9}`, true, "scale ai-data-labs/backend from 3 to 4 replicas"},
		{"a scale the guard refuses", "healthy", "scaleDeployment", scaleBackendTo4, false, ""},
		{"a namespace off the allowlist", "high-cpu", "scaleDeployment", `{"namespace":"kube-system","name":"backend","replicas":4}`, false, ""},
		{"invalid arguments", "high-cpu", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":4,"force":true}`, false, ""},
		{"a read", "high-cpu", "getServiceStatus", `{"namespace":"ai-data-labs","name":"backend"}`, false, ""},
		{"an unknown tool", "high-cpu", "deleteCluster", `{}`, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.scenario)
			run := tools.NewRun(0, guard.ModeApprove, nil, guard.DefaultMaxWrites)
			p, ok := e.reg.PreviewWrite(context.Background(), run, tools.Call{Tool: tools.Name(c.tool), Args: json.RawMessage(c.args)})
			if ok != c.ok || p.Summary != c.summary {
				t.Errorf("preview %+v ok %v, want ok %v %q", p, ok, c.ok, c.summary)
			}
			if got := e.p.Snapshot().Services["backend"].Replicas; got != 3 {
				t.Errorf("backend at %d replicas after a preview", got)
			}
			if n := len(e.rec.Calls()); n != 0 {
				t.Errorf("a preview recorded %d calls", n)
			}
			if ok {
				mustStatus(t, e.call(autoRun(), c.tool, c.args), tools.StatusExecuted) // nothing was held
			}
		})
	}
}

// TestPreviewWriteKnowsTheRunsBudgetAndDuplicates: what the run would
// refuse is not previewed, so nobody is asked about it.
func TestPreviewWriteKnowsTheRunsBudgetAndDuplicates(t *testing.T) {
	e := newEnv(t, "high-cpu")
	run := autoRun()
	mustStatus(t, e.call(run, "scaleDeployment", scaleBackendTo4), tools.StatusExecuted)
	if p, ok := e.reg.PreviewWrite(context.Background(), run, tools.Call{Tool: tools.ScaleDeployment, Args: json.RawMessage(scaleBackendTo4)}); ok {
		t.Errorf("the same write again was previewed: %+v", p)
	}
	fresh := newEnv(t, "high-cpu")
	call := tools.Call{Tool: tools.ScaleDeployment, Args: json.RawMessage(scaleBackendTo4)}
	if _, ok := fresh.reg.PreviewWrite(context.Background(), tools.NewRun(0, guard.ModeApprove, nil, 1), call); !ok {
		t.Fatal("a write within the budget was not previewed")
	}
	if p, ok := fresh.reg.PreviewWrite(context.Background(), tools.NewRun(0, guard.ModeApprove, nil, 0), call); ok {
		t.Errorf("a write beyond the budget was previewed: %+v", p)
	}
}
