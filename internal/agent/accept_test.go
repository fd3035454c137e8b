package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/sim"
)

// A provider's reply that is not a planner turn — cut at the token limit
// (the shape thinking models return with a small max_tokens), withheld by a
// filter, empty — is a planner failure: the rules planner takes over and the
// summary says why, with the setting to change. The replies are the OpenAI
// chat completions shape (finish_reason "length" | "content_filter", per the
// API reference's ChatCompletion choice object) and Z.ai's documented
// additions ("sensitive", "network_error").
func TestARejectedTurnFallsBackWithItsReason(t *testing.T) {
	tests := []struct {
		name  string
		reply llmtest.Reply
		note  string
	}{
		{"cut at the token limit", llmtest.Reply{FinishReason: "length"}, "raise llm.max_tokens (LLM_MAX_TOKENS)"},
		{"withheld by a content filter", llmtest.Reply{Content: "", FinishReason: "content_filter"}, "withheld the reply (finish_reason content_filter)"},
		{"Z.ai sensitive", llmtest.Reply{FinishReason: "sensitive"}, "finish_reason sensitive"},
		{"Z.ai network error", llmtest.Reply{FinishReason: "network_error"}, "lost the reply mid-way"},
		{"empty", llmtest.Reply{Content: "   "}, "the reply was empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, model := scriptedModel(t, llmtest.Steps(tt.reply))
			h := newHarness(t, setup{scenario: "high-cpu", planner: model})
			sum := h.run()
			sw := of[agent.PlannerSwitched](h.events)
			if len(sw) != 1 || !strings.Contains(sw[0].Reason, tt.note) || !strings.Contains(sum.PlannerNote, tt.note) {
				t.Fatalf("switches %+v, note %q; want one fallback saying %q", sw, sum.PlannerNote, tt.note)
			}
			if sum.Planner != "rules" || len(sum.Actions) != 1 {
				t.Errorf("planner %s, actions %+v; want the rules planner's scale", sum.Planner, sum.Actions)
			}
		})
	}
}

// Calls a Qwen/Hermes model leaves in its text when the server does not parse
// them (<tool_call>{"name":…,"arguments":…}</tool_call>, the Hermes template
// Ollama and vLLM use) are run as calls; an unreadable one counts as an
// invalid turn, never as the planner's notification.
func TestToolCallsWrittenAsTextAreRunOrRefused(t *testing.T) {
	scale := `I will scale.
<tool_call>
{"name": "scaleDeployment", "arguments": {"namespace": "ai-data-labs", "name": "backend", "replicas": 4, "reason": "CPU 85% for 15m"}}
</tool_call>`
	srv, model := scriptedModel(t, llmtest.Steps(final(scale), final("Scaled backend from 3 to 4.")))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model})
	sum := h.run()
	if len(sum.Actions) != 1 || sum.Actions[0].Tool != "scaleDeployment" || sum.Planner == "rules" {
		t.Fatalf("actions %+v by %s; want the model's scale, run from its text", sum.Actions, sum.Planner)
	}
	if reqs := srv.Requests(); len(reqs) != 2 || len(reqs[1].ToolResults()) != 1 {
		t.Errorf("%d requests; want the second to answer the call read from text", len(reqs))
	}

	_, broken := scriptedModel(t, llmtest.Steps(final("<tool_call>{not json</tool_call>"), final("<tool_call>{not json</tool_call>")))
	h = newHarness(t, setup{scenario: "high-cpu", planner: broken})
	sum = h.run()
	if !strings.Contains(sum.PlannerNote, "only invalid calls") || strings.Contains(sum.Explanation, "tool_call") {
		t.Errorf("note %q, explanation %q; want a fallback after invalid turns and no call text as the answer", sum.PlannerNote, sum.Explanation)
	}
}

// Credentials in tool output (a DSN's password in a log line) never reach the
// model; the summary counts what was taken out.
func TestCredentialsInToolOutputAreRedactedBeforeTheModel(t *testing.T) {
	sc := loadScenario(t, "high-cpu")
	for i := range sc.Services {
		if sc.Services[i].Name == "backend" {
			sc.Services[i].Logs.Lines = []string{"connecting to postgres://app:hunter2-s3cret@postgresql:5432/app", "Authorization: Bearer abcdefghijklmnop"}
		}
	}
	srv, model := scriptedModel(t, llmtest.Steps(calls("", "getLogs", wl("backend", "tail", 5)), final("Nothing to change.")))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model, platform: sim.New(sc, fixedStart)})
	sum := h.run()
	for i, r := range srv.Requests() {
		if body := string(r.Body); strings.Contains(body, "hunter2-s3cret") || strings.Contains(body, "abcdefghijklmnop") {
			t.Errorf("request %d carries a credential", i)
		}
	}
	if sum.Redacted < 2 {
		t.Errorf("redactedToModel = %d, want at least 2", sum.Redacted)
	}
}

// A slow model cannot hold a run: the run's own deadline ends it, failed,
// with the setting named — not a planner fallback, not "cancelled".
func TestARunEndsAtItsDeadline(t *testing.T) {
	_, model := scriptedModel(t, llmtest.Steps(llmtest.Reply{Content: "late", Delay: time.Hour}))
	h := newHarness(t, setup{scenario: "high-cpu", planner: model, agentCfg: func(c *agent.Config) { c.RunTimeout = 200 * time.Millisecond }})
	sum := h.run()
	if sum.Resolution != agent.Failed || !strings.Contains(sum.Error, "agent.run_timeout") || len(of[agent.PlannerSwitched](h.events)) != 0 {
		t.Errorf("resolution %s, error %q, %d fallbacks; want failed at the run deadline, naming agent.run_timeout, no fallback",
			sum.Resolution, sum.Error, len(of[agent.PlannerSwitched](h.events)))
	}
}
