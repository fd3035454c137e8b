package agent_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// barrierCluster holds each Logs call until n are in flight at once, so a

// turn whose reads ran one after the other fails instead of passing.

type barrierCluster struct {
	platform.Cluster
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (b *barrierCluster) Logs(ctx context.Context, ref platform.WorkloadRef, q platform.LogQuery) ([]platform.LogLine, error) {
	b.mu.Lock()
	if b.arrived++; b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
		return b.Cluster.Logs(ctx, ref, q)
	case <-time.After(10 * time.Second): // a guard against a hang, not a wait: the barrier opens at once when parallel
		return nil, errors.New("barrier: the reads of one turn did not run in parallel")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestReadOnlyCallsOfOneTurnRunInParallelAndAnswerInOrder(t *testing.T) {
	turn := calls("", "getLogs", wl("backend", "tail", 5), "getServiceStatus", wl("backend"), "getLogs", wl("frontend", "tail", 3),
		"queryMetrics", wl("backend", "metric", "request_rate", "range", "30m"), "getLogs", wl("clickhouse", "tail", 4))
	srv, model := scriptedModel(t, llmtest.Steps(turn, final("Diagnosis: done.")))
	barrier := &barrierCluster{n: 3, all: make(chan struct{})}
	h := newHarness(t, setup{scenario: "high-cpu", planner: model, wrap: func(d *tools.Deps) {
		barrier.Cluster = d.Cluster
		d.Cluster = barrier
	}})
	h.run()

	results := srv.Requests()[1].ToolResults()
	wantTools := []string{"getLogs", "getServiceStatus", "getLogs", "queryMetrics", "getLogs"}
	if len(results) != len(wantTools) {
		t.Fatalf("%d tool results, want %d", len(results), len(wantTools))
	}
	for i, m := range results {
		r := toolResult(t, m)
		if want := fmt.Sprintf("call_0_%d", i); m.ToolCallID != want || r["tool"] != wantTools[i] || r["status"] != "ok" {
			t.Errorf("result %d = %s %v %v (%v), want %s %s ok", i, m.ToolCallID, r["tool"], r["status"], r["error"], want, wantTools[i])
		}
	}
	// The transcript shows the calls of a turn first, then their results in the calls' order.
	var order []string
	for _, e := range h.events.all() {
		switch e := e.(type) {
		case agent.ToolCalled:
			if strings.HasPrefix(e.ID, "call_0_") {
				order = append(order, "call "+e.ID)
			}
		case agent.ToolDone:
			if strings.HasPrefix(e.ID, "call_0_") {
				order = append(order, "done "+e.ID)
			}
		}
	}
	want := "call call_0_0,call call_0_1,call call_0_2,call call_0_3,call call_0_4,done call_0_0,done call_0_1,done call_0_2,done call_0_3,done call_0_4"
	if got := strings.Join(order, ","); got != want {
		t.Errorf("event order = %s\nwant %s", got, want)
	}
}

func TestRefusedFailedAndInvalidCallsGoBackAsStructuredResults(t *testing.T) {
	turn := calls("", "scaleDeployment", wl("backend", "replicas", 0), "getServiceStatus", wl("ghost"),
		"deleteNamespace", obj{"namespace": namespace}, "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas": 1000`)
	srv, model := scriptedModel(t, llmtest.Steps(turn, final("Diagnosis: refused.")))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model})
	sum := h.run()

	req := srv.Requests()[1]
	results := req.ToolResults()
	if len(results) != 4 {
		t.Fatalf("%d tool results, want 4", len(results))
	}
	checks := []struct {
		status, field, contains string
	}{
		{"refused", "rule", "replicas_zero"},
		{"failed", "error", "backend"}, // a wrong name lists the real ones
		{"invalid", "error", "unknown tool"},
		{"invalid", "error", "scaleDeployment"},
	}
	for i, c := range checks {
		r := toolResult(t, results[i])
		if r["status"] != c.status || !strings.Contains(str(r[c.field]), c.contains) {
			t.Errorf("result %d = %s; want status %s with %s containing %q", i, results[i].Content, c.status, c.field, c.contains)
		}
	}
	if r := toolResult(t, results[0]); str(r["reason"]) == "" {
		t.Errorf("refusal without a reason: %s", results[0].Content)
	}
	// The malformed arguments are not echoed back as the call's arguments.
	for _, m := range req.Chat.Messages {
		for _, tc := range m.ToolCalls {
			if tc.ID == "call_0_3" && tc.Function.Arguments != "{}" {
				t.Errorf("malformed arguments sent back as %q, want {}", tc.Function.Arguments)
			}
		}
	}
	if len(sum.Refusals) != 1 || sum.Refusals[0].Rule != "replicas_zero" {
		t.Errorf("refusals = %+v, want the replicas_zero one", sum.Refusals)
	}
	if got := h.after().Services["backend"].Replicas; got != 3 {
		t.Errorf("backend replicas = %d, want 3", got)
	}
}

func TestProviderFailureFallsBackToTheRulesPlanner(t *testing.T) {
	tests := []struct {
		name     string
		script   llmtest.Reply
		agentCfg func(*agent.Config)
		opts     []llmtest.Option
		reason   string
		requests int
	}{
		{name: "HTTP 500 after retries", script: llmtest.Reply{Status: 500, Content: "upstream overloaded"}, reason: "500", requests: 3},
		{name: "timeout", script: llmtest.Reply{Delay: time.Hour, Content: "too late"}, reason: "longer than 200ms (llm.timeout, LLM_TIMEOUT)",
			agentCfg: func(c *agent.Config) { c.PlannerTimeout = 200 * time.Millisecond },
			opts:     []llmtest.Option{llmtest.WithClock(testingclock.NewFakeClock(fixedStart))}, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := llmtest.Func(func(llmtest.RecordedRequest) llmtest.Reply { return tt.script })
			srv, model := scriptedModel(t, script, tt.opts...)
			h := newHarness(t, setup{scenario: "high-cpu", planner: model, agentCfg: tt.agentCfg})
			sum := h.run()

			sw := of[agent.PlannerSwitched](h.events)
			if len(sw) != 1 || sw[0].From != model.Name() || sw[0].To != "rules" || !strings.Contains(sw[0].Reason, tt.reason) {
				t.Fatalf("planner switches = %+v, want one from %s to rules mentioning %q", sw, model.Name(), tt.reason)
			}
			if sum.Planner != "rules" || !strings.HasPrefix(sum.PlannerNote, "fell back to rules") {
				t.Errorf("planner %s, note %q; want rules with a fallback note", sum.Planner, sum.PlannerNote)
			}
			if srv.Calls() != tt.requests || sum.LLMCalls != 1 {
				t.Errorf("%d requests, %d LLM calls counted; want %d and 1", srv.Calls(), sum.LLMCalls, tt.requests)
			}
			if sum.Resolution != agent.Resolved || h.after().Services["backend"].Replicas != 4 {
				t.Errorf("resolution %s with backend at %d replicas; want resolved at 4", sum.Resolution, h.after().Services["backend"].Replicas)
			}
		})
	}
}

func TestInvalidCallsFallBackAfterMaxInvalidTurns(t *testing.T) {
	unknown := calls("", "kubectl", obj{"args": "scale deploy/backend --replicas=50"})
	broken := calls("", "scaleDeployment", `{"namespace": "ai-data-labs", "name": "backend", "replicas": `)
	valid := calls("", "getServiceStatus", wl("backend"))
	tests := []struct {
		name     string
		steps    []llmtest.Reply
		fallback bool
	}{
		{"two invalid turns in a row", []llmtest.Reply{unknown, broken}, true},
		{"a valid turn resets the count", []llmtest.Reply{unknown, valid, broken, final("Diagnosis: unsure.")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, model := scriptedModel(t, llmtest.Steps(tt.steps...))
			h := newHarness(t, setup{scenario: "high-cpu", planner: model})
			sum := h.run()
			sw := of[agent.PlannerSwitched](h.events)
			if !tt.fallback {
				if len(sw) != 0 || srv.Calls() != len(tt.steps) || len(sum.Actions) != 0 {
					t.Errorf("switches %+v, %d requests, actions %+v; want none, %d, none", sw, srv.Calls(), sum.Actions, len(tt.steps))
				}
				return
			}
			if len(sw) != 1 || !strings.Contains(sw[0].Reason, "invalid calls 2 turns in a row") {
				t.Fatalf("planner switches = %+v, want one for 2 invalid turns", sw)
			}
			if srv.Calls() != 2 || sum.Planner != "rules" || sum.Resolution != agent.Resolved {
				t.Errorf("%d requests, planner %s, resolution %s; want 2, rules, resolved", srv.Calls(), sum.Planner, sum.Resolution)
			}
			if got := h.after().Services["backend"].Replicas; got != 4 {
				t.Errorf("backend replicas = %d, want 4 (scaled by the rules planner)", got)
			}
		})
	}
}

func TestLazyModelThatAnswersWithoutToolsIsEscalated(t *testing.T) {
	srv, model := scriptedModel(t, modelFile(t, "lazy.yaml"))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model})
	sum := h.run()

	if srv.Calls() != 1 || sum.Planner != model.Name() {
		t.Errorf("%d requests by %s, want 1 by the model", srv.Calls(), sum.Planner)
	}
	if len(sum.Actions) != 0 || h.after().Services["backend"].Replicas != 3 {
		t.Errorf("actions %+v; a lazy model must change nothing", sum.Actions)
	}
	if v := sum.Verification; v == nil || v.Result != "unresolved" {
		t.Fatalf("verification = %+v, want unresolved (CPU still 85%%)", v)
	}
	if sum.Resolution != agent.Escalated || !sum.Escalated || !incidentID.MatchString(sum.Incident) {
		t.Errorf("resolution %s, escalated %v, incident %q; want escalated with an incident", sum.Resolution, sum.Escalated, sum.Incident)
	}
	if !strings.Contains(sum.Explanation, "Diagnosis:") {
		t.Errorf("explanation = %q, want the model's answer", sum.Explanation)
	}
}

func TestFirstRequestCarriesTheAlertFactsAndTheSnapshot(t *testing.T) {
	srv, model := scriptedModel(t, modelFile(t, "lazy.yaml"))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model})
	h.run()

	req := srv.Requests()[0]
	if req.SystemPrompt() != h.system {
		t.Errorf("system prompt sent differs from the rendered one")
	}
	user := firstUser(req)
	if miss, ok := containsAll(user, "Facts parsed by code:", `"service":"backend"`, `"kind":"cpu"`, `"value":85`,
		"Snapshot getServiceStatus", "Snapshot queryMetrics", "Backend service CPU at 85% for 5 minutes", "untrusted"); !ok {
		t.Errorf("first user message lacks %q:\n%s", miss, user)
	}
	if got := len(req.ToolNames()); got != len(h.reg.Specs())+1 || req.ToolChoice() != "auto" {
		t.Errorf("first request offers %d tools with tool_choice %q, want %d (the platform's and report) and auto", got, req.ToolChoice(), len(h.reg.Specs())+1)
	}
}

// The token budget bounds the model; the rules planner spends no tokens, so

// once it takes over it must still be able to act.

// One reply cannot fan out without bound: past the per-turn cap the calls are

// answered without running, so the platform sees a bounded burst and the next

// request stays near the budget.
