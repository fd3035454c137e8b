package agent_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/anthropic"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
)

// The claude provider end to end: the spec incidents played through the
// real Anthropic adapter (internal/llm/anthropic, the official Go SDK) and
// a loopback server that speaks the Messages API and enforces its rules —
// thinking is on (the default of claude-sonnet-5-5), so every assistant turn
// of a tool loop must come back with its signed thinking blocks first.

// claudeModel starts a Messages API server answering from script and
// returns it with the real adapter pointed at it, wrapped to sum the
// usage it reports. Retries wait zero.
func claudeModel(t testing.TB, script llmtest.Script, cfg anthropic.Config, opts ...llmtest.Option) (*llmtest.MessagesServer, *usageMeter) {
	t.Helper()
	srv := llmtest.NewMessagesServer(t, script, llmtest.MessagesConfig{OmitThinking: true}, append([]llmtest.Option{llmtest.WithAPIKey(testAPIKey)}, opts...)...)
	if cfg.APIKey == "" {
		cfg.APIKey = testAPIKey
	}
	cfg.BaseURL = srv.URL()
	c, err := anthropic.New(cfg, anthropic.WithBackoff(func(int) time.Duration { return 0 }))
	if err != nil {
		t.Fatalf("anthropic adapter: %v", err)
	}
	return srv, &usageMeter{Client: c}
}

// usageMeter sums what the adapter reports, cache reads and writes
// included (the planner's usage keeps only prompt and completion tokens).
type usageMeter struct {
	llm.Client
	mu  sync.Mutex
	sum llm.Usage
}

func (m *usageMeter) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	resp, err := m.Client.Chat(ctx, req)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sum.PromptTokens += resp.Usage.PromptTokens
	m.sum.CompletionTokens += resp.Usage.CompletionTokens
	m.sum.CachedPromptTokens += resp.Usage.CachedPromptTokens
	m.sum.CacheWriteTokens += resp.Usage.CacheWriteTokens
	return resp, err
}

func (m *usageMeter) usage() llm.Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sum
}

// cacheShare is the share of input tokens read from the prompt cache.
func cacheShare(u llm.Usage) float64 {
	if u.PromptTokens == 0 {
		return 0
	}
	return float64(u.CachedPromptTokens) / float64(u.PromptTokens)
}

// checkThinkingReplayed checks that every assistant turn sent back starts
// with its thinking (the server refuses a loop that drops it; this says
// where).
func checkThinkingReplayed(t *testing.T, srv *llmtest.MessagesServer) {
	t.Helper()
	for _, rec := range srv.Requests() {
		body, err := rec.MessagesBody()
		if err != nil {
			t.Fatalf("request %d: %v", rec.Index, err)
		}
		for i, m := range body.Messages {
			if m.Role == "assistant" && m.Content[0].Type != "thinking" {
				t.Errorf("request %d message %d starts with %s, want its thinking block", rec.Index, i, m.Content[0].Type)
			}
		}
	}
}

func TestClaudeProfilePlaysTheSpecIncidentsWithThinking(t *testing.T) {
	tests := []struct {
		scenario, model string
		effort          string
		want            agent.Resolution
	}{
		{"high-cpu", "ideal-high-cpu.yaml", "", agent.Resolved},
		{"clickhouse-oom", "ideal-clickhouse-oom.yaml", "high", agent.Escalated},
		{"disk-space", "ideal-disk-space.yaml", "low", agent.Resolved},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			srv, model := claudeModel(t, modelFile(t, tt.model), anthropic.Config{ReasoningEffort: tt.effort})
			h := newHarness(t, setup{scenario: tt.scenario, planner: model})
			sum := h.run()
			if sum.Resolution != tt.want || sum.Planner != "llm:claude/claude-sonnet-5-5" || sum.Verification == nil || sum.Verification.Result != "resolved" {
				t.Fatalf("resolution %s by %s (%s, note %q), want %s by claude with a verified fix", sum.Resolution, sum.Planner, sum.Headline, sum.PlannerNote, tt.want)
			}
			if sum.LLMCalls != srv.Calls() || len(of[agent.PlannerSwitched](h.events)) != 0 {
				t.Errorf("%d LLM calls counted, %d received, %d fallbacks; want the same count and none", sum.LLMCalls, srv.Calls(), len(of[agent.PlannerSwitched](h.events)))
			}
			checkThinkingReplayed(t, srv)
			if err := h.p.Scenario().Expect.CheckState(h.after()); err != nil {
				t.Errorf("scenario expectations: %v", err)
			}
			u := model.usage()
			t.Logf("%s (effort %q): %d calls, %d input tokens (%d read from the cache, %d written), %d output; summary says %d in, %d out",
				tt.scenario, tt.effort, sum.LLMCalls, u.PromptTokens, u.CachedPromptTokens, u.CacheWriteTokens, u.CompletionTokens, sum.TokensIn, sum.TokensOut)
		})
	}
}

// sixTurns is a thorough model's high-cpu incident: four reads, the scale,
// then the answer on the forced last turn (llm.max_iterations is 6).
func sixTurns() llmtest.Script {
	return llmtest.Steps(
		calls("Checking the service first.", "getServiceStatus", wl("backend")),
		calls("", "queryMetrics", wl("backend", "metric", "request_rate", "range", "30m")),
		calls("", "getLogs", wl("backend", "tail", 20)),
		calls("", "getServiceStatus", wl("clickhouse")),
		calls("Load is up and the database is healthy: scaling.", "scaleDeployment", wl("backend", "replicas", 4, "reason", "CPU 85% for 15m at 3 replicas")),
		final("Diagnosis: backend CPU at 85% for 15 minutes. Cause: request volume up. Decision: scaled backend from 3 to 4 replicas."),
	)
}

// Over six turns the fixed prompt and each earlier turn are read from the
// prompt cache: the figure is logged, not asserted beyond "most", since it
// depends on the server's token estimate (characters / 4).
func TestClaudeSixTurnIncidentReadsMostInputFromTheCache(t *testing.T) {
	srv, model := claudeModel(t, sixTurns(), anthropic.Config{})
	h := newHarness(t, setup{scenario: "high-cpu", planner: model})
	sum := h.run()
	if sum.Planner != model.Name() || srv.Calls() != 6 || len(sum.Actions) != 1 {
		t.Fatalf("planner %s, %d calls, actions %+v (note %q); want claude in six calls, one scale", sum.Planner, srv.Calls(), sum.Actions, sum.PlannerNote)
	}
	checkThinkingReplayed(t, srv)
	for i := range srv.Calls() {
		u := srv.Usage(i)
		t.Logf("turn %d: input %d = %d read + %d written + %d uncached; output %d", i+1, u.AllInput(), u.CacheReadInputTokens, u.CacheCreationInputTokens, u.InputTokens, u.OutputTokens)
	}
	u := model.usage()
	share := cacheShare(u)
	t.Logf("six turns: %d input tokens, %d read from the cache (%.0f%%), %d written; %d output", u.PromptTokens, u.CachedPromptTokens, 100*share, u.CacheWriteTokens, u.CompletionTokens)
	if share < 0.5 {
		t.Errorf("%.0f%% of the input was read from the cache, want most of it", 100*share)
	}
}

// A Claude reply that is no turn, or a call that fails for good, ends in
// the rules planner, with the reason and the setting to change.
func TestClaudeFailuresFallBackToTheRulesWithTheirReason(t *testing.T) {
	tests := []struct {
		name  string
		reply llmtest.Reply
		key   string
		note  string
	}{
		{"max_tokens stop", llmtest.Reply{Content: "Let me think", FinishReason: "max_tokens"}, "", "raise llm.max_tokens (LLM_MAX_TOKENS)"},
		{"refusal", llmtest.Reply{FinishReason: "refusal"}, "", "withheld the reply"},
		{"key refused", llmtest.Reply{}, "sk-ant-wrong-not-real", "check LLM_API_KEY"},
		{"overloaded after retries", llmtest.Reply{Status: 529, Content: "Overloaded"}, "", "overloaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := llmtest.Func(func(llmtest.RecordedRequest) llmtest.Reply { return tt.reply })
			srv, model := claudeModel(t, script, anthropic.Config{APIKey: tt.key}, llmtest.AllowInvalidRequests())
			h := newHarness(t, setup{scenario: "high-cpu", planner: model})
			sum := h.run()
			sw := of[agent.PlannerSwitched](h.events)
			if len(sw) != 1 || !strings.Contains(sw[0].Reason, tt.note) || !strings.Contains(sum.PlannerNote, tt.note) {
				t.Fatalf("switches %+v, note %q; want one fallback saying %q", sw, sum.PlannerNote, tt.note)
			}
			if sum.Planner != "rules" || len(sum.Actions) != 1 || sum.Actions[0].Tool != "scaleDeployment" {
				t.Errorf("planner %s, actions %+v; want the rules planner's scale", sum.Planner, sum.Actions)
			}
			if strings.Contains(sw[0].Reason, testAPIKey) || (tt.key != "" && strings.Contains(sw[0].Reason, tt.key)) {
				t.Errorf("reason %q carries the key", sw[0].Reason)
			}
			t.Logf("%s: %d requests; fallback: %s", tt.name, srv.Calls(), sw[0].Reason)
		})
	}
}
