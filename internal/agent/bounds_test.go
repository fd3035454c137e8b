package agent_test

import (
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/llmplanner"
)

func TestLastIterationForcesAFinalAnswerWithoutTools(t *testing.T) {
	srv, model := scriptedModel(t, modelFile(t, "loop-forever.yaml"))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model, agentCfg: func(c *agent.Config) { c.MaxIterations = 3 }})
	sum := h.run()

	reqs := srv.Requests()
	if len(reqs) != 3 || sum.LLMCalls != 3 {
		t.Fatalf("%d requests, %d LLM calls counted; want 3 (MaxIterations)", len(reqs), sum.LLMCalls)
	}
	for i, want := range []string{"auto", "auto", "none"} {
		if got := reqs[i].ToolChoice(); got != want {
			t.Errorf("request %d tool_choice = %q, want %q", i, got, want)
		}
	}
	byModel := 0
	for _, c := range of[agent.ToolCalled](h.events) {
		if c.By == model.Name() {
			byModel++
		}
	}
	if byModel != 2 {
		t.Errorf("%d calls of the model ran, want 2: the calls of the last turn are ignored", byModel)
	}
}

func TestLoopForeverModelIsBoundedByMaxIterations(t *testing.T) {
	srv, model := scriptedModel(t, modelFile(t, "loop-forever.yaml"))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model})
	sum := h.run()

	maxIter := agent.DefaultConfig().MaxIterations
	if srv.Calls() != maxIter || sum.LLMCalls != maxIter {
		t.Fatalf("%d requests, %d counted; want exactly MaxIterations = %d", srv.Calls(), sum.LLMCalls, maxIter)
	}
	if last := srv.Requests()[maxIter-1]; last.ToolChoice() != "none" {
		t.Errorf("last request tool_choice = %q, want none", last.ToolChoice())
	}
	if sum.Planner != model.Name() || len(of[agent.PlannerSwitched](h.events)) != 0 {
		t.Errorf("planner = %s; a model making valid calls must not be replaced", sum.Planner)
	}
	if len(sum.Actions) != 0 || sum.Resolution != agent.Escalated || sum.Incident == "" {
		t.Errorf("resolution %s, %d actions, incident %q; want escalated with an incident and no action", sum.Resolution, len(sum.Actions), sum.Incident)
	}
	if got := h.after().Services["backend"].Replicas; got != 3 {
		t.Errorf("backend replicas = %d, want 3", got)
	}
}

func TestTokenBudgetMakesTheNextTurnTheFinalOne(t *testing.T) {
	tests := []struct {
		name       string
		usage      llmtest.Usage
		wantChoice string
	}{
		{"budget spent forces tool_choice none", llmtest.Usage{PromptTokens: 900, CompletionTokens: 200}, "none"},
		{"budget left keeps tools", llmtest.Usage{PromptTokens: 300, CompletionTokens: 20}, "auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := calls("", "getLogs", wl("backend", "tail", 5))
			first.Usage = &tt.usage
			srv, model := scriptedModel(t, llmtest.Steps(first, final("Diagnosis: done.")))
			h := newHarness(t, setup{scenario: "high-cpu", planner: model, agentCfg: func(c *agent.Config) { c.TokenBudget = 1000 }})
			sum := h.run()
			reqs := srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			if got := reqs[1].ToolChoice(); got != tt.wantChoice {
				t.Errorf("second request tool_choice = %q, want %q", got, tt.wantChoice)
			}
			if sum.TokensIn < tt.usage.PromptTokens || sum.TokensOut < tt.usage.CompletionTokens {
				t.Errorf("tokens counted %d in / %d out, want at least %+v", sum.TokensIn, sum.TokensOut, tt.usage)
			}
		})
	}
}

func TestToolResultsAreTruncatedToTheBudget(t *testing.T) {
	const budget = 300
	srv, model := scriptedModel(t, llmtest.Steps(calls("", "getServiceStatus", wl("clickhouse"), "getLogs", wl("backend", "tail", 50)), final("Diagnosis: done.")))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model, modelCfg: func(c *llmplanner.Config) { c.ResultChars = budget }})
	h.run()

	reqs := srv.Requests()
	if len(reqs) < 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	results := reqs[1].ToolResults()
	if len(results) != 2 {
		t.Fatalf("%d tool results, want 2", len(results))
	}
	for _, m := range results {
		r := toolResult(t, m)
		if r["truncated"] != true || r["status"] != "ok" || len(str(r["partial"])) > budget || str(r["summary"]) == "" {
			t.Errorf("tool result %s = %.200s; want status ok, truncated, a summary and at most %d partial chars", m.ToolCallID, m.Content, budget)
		}
	}
	for _, line := range strings.Split(firstUser(reqs[0]), "\n") {
		if strings.HasPrefix(line, "Snapshot ") && !strings.Contains(line, `"truncated":true`) {
			t.Errorf("snapshot line not truncated: %.120s", line)
		}
	}
}

func TestFallbackAfterTheTokenBudgetIsSpentStillActs(t *testing.T) {
	first := calls("", "getLogs", wl("backend", "tail", 5))
	first.Usage = &llmtest.Usage{PromptTokens: 5000, CompletionTokens: 100}
	srv, model := scriptedModel(t, llmtest.Func(func(r llmtest.RecordedRequest) llmtest.Reply {
		if r.Index == 0 {
			return first
		}
		return llmtest.Reply{Status: 500, Content: "upstream overloaded"}
	}))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model, agentCfg: func(c *agent.Config) { c.TokenBudget = 1000 }})
	sum := h.run()

	if got := srv.Requests()[1].ToolChoice(); got != "none" {
		t.Errorf("second request tool_choice = %q, want none (budget spent)", got)
	}
	if sum.Planner != "rules" || sum.Resolution != agent.Resolved || h.after().Services["backend"].Replicas != 4 {
		t.Errorf("planner %s, resolution %s, backend %d replicas; want the rules planner to scale to 4 and resolve",
			sum.Planner, sum.Resolution, h.after().Services["backend"].Replicas)
	}
}

func TestATurnOfHundredsOfCallsRunsOnlyTheFirstFew(t *testing.T) {
	var cs []any
	for range 300 {
		cs = append(cs, "getLogs", wl("backend", "tail", 200))
	}
	srv, model := scriptedModel(t, llmtest.Steps(calls("", cs...), final("Diagnosis: done.")))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model})
	h.run()

	results := srv.Requests()[1].ToolResults()
	if len(results) != 300 {
		t.Fatalf("%d tool results, want one per call (300)", len(results))
	}
	ran := 0
	for i, m := range results {
		r := toolResult(t, m)
		switch {
		case r["status"] == "ok":
			ran++
		case r["status"] != "invalid" || !strings.Contains(str(r["error"]), "too many calls"):
			t.Errorf("result %d = %.200s; want ok, or invalid for too many calls", i, m.Content)
		}
	}
	if ran == 0 || ran > 16 {
		t.Errorf("%d calls ran, want between 1 and 16", ran)
	}
	if size := len(srv.Requests()[1].Body); size > 200_000 {
		t.Errorf("second request is %d bytes: the turn was not bounded", size)
	}
}
