package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/llm/openai"
)

// profileCase is a provider, the server profile that speaks like it and a
// model it serves.
type profileCase struct {
	provider string
	profile  llmtest.Profile
	model    string
}

func profileCases() []profileCase {
	return []profileCase{
		{openai.ProviderOpenAI, llmtest.ProfileOpenAIReasoning, "gpt-6-luna"},
		{openai.ProviderZAI, llmtest.ProfileZAI, "glm-5"},
		{openai.ProviderOllama, llmtest.ProfileOllama, "qwen3:8b"},
		{openai.ProviderVLLM, llmtest.ProfileVLLM, "Qwen/Qwen3-8B"},
	}
}

// profileClient is the adapter for pc, pointed at a server of its profile
// answering from script.
func profileClient(t *testing.T, pc profileCase, script llmtest.Script, mutate func(*openai.Config), opts ...llmtest.Option) (*llmtest.Server, *openai.Client) {
	t.Helper()
	srv := llmtest.NewServer(t, script, append([]llmtest.Option{llmtest.WithProfile(pc.profile)}, opts...)...)
	cfg := openai.Config{Provider: pc.provider, Model: pc.model, BaseURL: srv.URL()}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := openai.New(cfg, openai.WithBackoff(noWait))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// afterACall is a conversation in which the model called a tool and got
// its result: the state of every turn after the first.
func afterACall(choice llm.ToolChoice) llm.Request {
	req := userRequest("Alert: backend CPU at 85%")
	req.Messages = append(req.Messages,
		llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "getServiceStatus", Arguments: `{"namespace":"ai-data-labs","name":"backend"}`}}},
		llm.Message{Role: llm.RoleTool, ToolCallID: "c1", Name: "getServiceStatus", Content: `{"ready":3}`})
	req.Tools, req.ToolChoice, req.MaxTokens = []llm.ToolSpec{statusTool, scaleTool}, choice, 512
	return req
}

// Each provider gets the turns in the shape its server accepts: tool_choice
// "auto" where it is taken (Ollama ignores the field, so none is sent), the
// last turn with tool_choice "none", or without tools where "none" is not
// accepted (Z.ai, Ollama) — the earlier call and its result kept — and the
// token limit in the provider's field.
func TestTurnsAreAskedAsEachProviderAccepts(t *testing.T) {
	want := map[string]struct {
		auto, last     string
		lastTools      int
		completionLimt bool
	}{
		openai.ProviderOpenAI: {"auto", "none", 2, true},
		openai.ProviderZAI:    {"auto", "", 0, false},
		openai.ProviderOllama: {"", "", 0, false},
		openai.ProviderVLLM:   {"auto", "none", 2, false},
	}
	for _, pc := range profileCases() {
		t.Run(pc.provider, func(t *testing.T) {
			srv, c := profileClient(t, pc, llmtest.Steps(), nil)
			for _, choice := range []llm.ToolChoice{llm.ToolChoiceAuto, llm.ToolChoiceNone} {
				if _, err := c.Chat(context.Background(), afterACall(choice)); err != nil {
					t.Fatalf("%s turn: %v", choice, err)
				}
			}
			w, reqs := want[pc.provider], srv.Requests()
			auto, last := reqs[0], reqs[1]
			if auto.ToolChoice() != w.auto || len(auto.ToolNames()) != 2 {
				t.Errorf("auto turn: tool_choice %q with %d tools, want %q with 2", auto.ToolChoice(), len(auto.ToolNames()), w.auto)
			}
			if last.ToolChoice() != w.last || len(last.ToolNames()) != w.lastTools || len(last.ToolResults()) != 1 {
				t.Errorf("last turn: tool_choice %q, %d tools, %d tool results; want %q, %d, 1", last.ToolChoice(), len(last.ToolNames()), len(last.ToolResults()), w.last, w.lastTools)
			}
			if got := last.Chat.MaxCompletionTokens > 0; got != w.completionLimt || last.Chat.MaxTokens+last.Chat.MaxCompletionTokens != 512 {
				t.Errorf("limit: max_tokens %d, max_completion_tokens %d", last.Chat.MaxTokens, last.Chat.MaxCompletionTokens)
			}
		})
	}
}

// llm.reasoning_effort reaches each provider in its own field; a GPT-6
// model that calls tools over Chat Completions only with effort none gets
// none (go-openai would refuse the request otherwise), and a setting the
// model cannot honour is refused at start with the setting to change.
func TestReasoningEffortReachesEachProviderInItsField(t *testing.T) {
	tests := []struct {
		name     string
		pc       profileCase
		effort   string
		sent     string // reasoning_effort
		thinking string // Z.ai's thinking, as sent
	}{
		{"o4-mini low", profileCase{openai.ProviderOpenAI, llmtest.ProfileOpenAIReasoning, "o4-mini"}, "low", "low", ""},
		{"gpt-6-luna by default", profileCase{openai.ProviderOpenAI, llmtest.ProfileOpenAIReasoning, "gpt-6-luna"}, "", "none", ""},
		{"gpt-6-sol none", profileCase{openai.ProviderOpenAI, llmtest.ProfileOpenAIReasoning, "gpt-6-sol"}, "none", "none", ""},
		{"glm none", profileCase{openai.ProviderZAI, llmtest.ProfileZAI, "glm-5"}, "none", "", `{"type":"disabled"}`},
		{"glm high", profileCase{openai.ProviderZAI, llmtest.ProfileZAI, "glm-5"}, "high", "", `{"type":"enabled"}`},
		{"glm by default", profileCase{openai.ProviderZAI, llmtest.ProfileZAI, "glm-5"}, "", "", ""},
		{"ollama medium", profileCase{openai.ProviderOllama, llmtest.ProfileOllama, "gpt-oss:20b"}, "medium", "medium", ""},
		{"ollama minimal, which it does not take", profileCase{openai.ProviderOllama, llmtest.ProfileOllama, "gpt-oss:20b"}, "minimal", "low", ""},
		{"vllm minimal", profileCase{openai.ProviderVLLM, llmtest.ProfileVLLM, "openai/gpt-oss-20b"}, "minimal", "minimal", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := profileClient(t, tt.pc, llmtest.Steps(), func(cfg *openai.Config) { cfg.ReasoningEffort = tt.effort })
			for _, choice := range []llm.ToolChoice{llm.ToolChoiceAuto, llm.ToolChoiceNone} {
				if _, err := c.Chat(context.Background(), afterACall(choice)); err != nil {
					t.Fatal(err)
				}
			}
			for i, r := range srv.Requests() {
				if r.Chat.ReasoningEffort != tt.sent || string(r.Extra["thinking"]) != tt.thinking {
					t.Errorf("request %d: reasoning_effort %q, thinking %s; want %q, %s", i, r.Chat.ReasoningEffort, r.Extra["thinking"], tt.sent, tt.thinking)
				}
			}
		})
	}
}

func TestAReasoningSettingTheModelCannotHonourIsRefused(t *testing.T) {
	tests := []struct {
		model, effort, names string
	}{
		{"gpt-6-luna", "low", "LLM_REASONING_EFFORT"},
		{"gpt-6-sol", "high", "LLM_REASONING_EFFORT"},
		{"gpt-6.1-sol", "", "LLM_MODEL"},
		{"gpt-6-astra", "none", "LLM_MODEL"},
		{"gpt-6.1-terra", "", "LLM_MODEL"},
		{"o4-mini", "max", "LLM_REASONING_EFFORT"},
	}
	for _, tt := range tests {
		_, err := openai.New(openai.Config{Provider: openai.ProviderOpenAI, APIKey: testKey, Model: tt.model, ReasoningEffort: tt.effort})
		if !errors.Is(err, openai.ErrConfig) || !strings.Contains(err.Error(), tt.names) {
			t.Errorf("%s at %q: %v, want ErrConfig naming %s", tt.model, tt.effort, err, tt.names)
		}
	}
}

// GLM may return a tool call's arguments as a JSON object: the reply is
// read, the arguments as their JSON text; a string stays as it came.
func TestObjectValuedArgumentsAreReadAsText(t *testing.T) {
	pc := profileCases()[1]
	_, c := profileClient(t, pc, llmtest.Steps(llmtest.Reply{ToolCalls: []llmtest.ToolCall{
		{Name: "scaleDeployment", Arguments: `{"replicas": 4, "reason": "CPU \"85%\""}`},
		{Name: "getServiceStatus", Arguments: `not an object`},
	}}), nil)
	resp, err := c.Chat(context.Background(), afterACall(llm.ToolChoiceAuto))
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Message.ToolCalls
	if len(calls) != 2 || calls[0].Arguments != `{"replicas":4,"reason":"CPU \"85%\""}` || calls[1].Arguments != "not an object" {
		t.Fatalf("calls %+v", calls)
	}
	var args map[string]any
	if json.Unmarshal([]byte(calls[0].Arguments), &args) != nil || args["replicas"] != float64(4) {
		t.Errorf("arguments %s do not decode", calls[0].Arguments)
	}
}

// Z.ai's finish reasons pass through as the typed reasons the planner
// turns into a fallback.
func TestZAIFinishReasonsPassThrough(t *testing.T) {
	for _, want := range []llm.FinishReason{llm.FinishSensitive, llm.FinishNetworkError, llm.FinishLength} {
		_, c := profileClient(t, profileCases()[1], llmtest.Steps(llmtest.Reply{FinishReason: string(want)}), nil)
		resp, err := c.Chat(context.Background(), afterACall(llm.ToolChoiceAuto))
		if err != nil || resp.FinishReason != want {
			t.Errorf("finish %q, err %v; want %q", resp.FinishReason, err, want)
		}
	}
}

// A 429 whose Z.ai code says the account cannot pay (1113) is final: one
// attempt, an error with the fix. A concurrency limit (1302) is retried.
func TestZAIRateLimitsAreRetriedUnlessFinal(t *testing.T) {
	t.Run("1113", func(t *testing.T) {
		srv, c := profileClient(t, profileCases()[1], always(llmtest.Reply{Status: 429, ErrorCode: "1113", Content: "Your account is in arrears, please recharge and try again"}), nil)
		_, err := c.Chat(context.Background(), afterACall(llm.ToolChoiceAuto))
		e := asError(t, err)
		if !errors.Is(err, openai.ErrFinalRateLimit) || !errors.Is(err, llm.ErrProvider) || srv.Calls() != 1 || e.Code != "1113" ||
			!strings.Contains(err.Error(), "top it up") || !strings.Contains(err.Error(), "LLM_ENDPOINT=coding") {
			t.Fatalf("err %v (code %q) after %d calls", err, e.Code, srv.Calls())
		}
	})
	t.Run("1302", func(t *testing.T) {
		srv, c := profileClient(t, profileCases()[1], llmtest.Steps(
			llmtest.Reply{Status: 429, ErrorCode: "1302", Content: "High concurrency usage of this API"},
			llmtest.Reply{Content: "ok"}), nil)
		resp, err := c.Chat(context.Background(), afterACall(llm.ToolChoiceAuto))
		if err != nil || resp.Message.Content != "ok" || srv.Calls() != 2 {
			t.Fatalf("resp %+v, err %v after %d calls", resp, err, srv.Calls())
		}
	})
}

// A vLLM started without auto tool choice refuses every turn with tools: a
// configuration error naming the flags, at once.
func TestVLLMWithoutAutoToolChoiceIsAConfigError(t *testing.T) {
	pc := profileCase{openai.ProviderVLLM, llmtest.ProfileVLLMNoAutoToolChoice, "Qwen/Qwen3-8B"}
	srv, c := profileClient(t, pc, llmtest.Steps(), nil, llmtest.AllowInvalidRequests())
	_, err := c.Chat(context.Background(), afterACall(llm.ToolChoiceAuto))
	if !errors.Is(err, openai.ErrConfig) || srv.Calls() != 1 || !strings.Contains(err.Error(), "--enable-auto-tool-choice --tool-call-parser") {
		t.Fatalf("err %v after %d calls", err, srv.Calls())
	}
	// Older vLLM wrote the same fields at the top level.
	old := `{"object":"error","message":"\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set","type":"BadRequestError","param":null,"code":400}`
	srv, c = profileClient(t, profileCases()[3], always(llmtest.Reply{Status: 400, RawBody: old}), nil)
	if _, err := c.Chat(context.Background(), afterACall(llm.ToolChoiceAuto)); !errors.Is(err, openai.ErrConfig) || srv.Calls() != 1 {
		t.Fatalf("older shape: err %v after %d calls", err, srv.Calls())
	}
}

// Ollama decodes the arguments of earlier calls: arguments that are not a
// JSON object go back as {} instead of failing the request.
func TestOllamaGetsEarlierArgumentsAsObjects(t *testing.T) {
	srv, c := profileClient(t, profileCases()[2], llmtest.Steps(), nil)
	req := afterACall(llm.ToolChoiceAuto)
	req.Messages[2].ToolCalls[0].Arguments = `{"namespace": "ai-data`
	if _, err := c.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests()[0].Chat.Messages[2].ToolCalls[0].Function.Arguments; got != "{}" {
		t.Errorf("arguments sent as %q, want {}", got)
	}
}

// Extra headers go with every attempt; they cannot replace the key, and
// their values never appear in errors.
func TestExtraHeadersAreSentAndKeptSecret(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Status: 500, Content: "echo tenant-SECRET123"}, llmtest.Reply{Content: "ok"}), llmtest.WithAPIKey(testKey))
	c := newClient(t, s, func(cfg *openai.Config) { cfg.Headers = []string{"X-Team: sre", "OpenAI-Project: tenant-SECRET123"} })
	if _, err := c.Chat(context.Background(), userRequest("x")); err != nil {
		t.Fatal(err)
	}
	for i, r := range s.Requests() {
		if r.Header.Get("X-Team") != "sre" || r.Header.Get("Openai-Project") != "tenant-SECRET123" {
			t.Errorf("attempt %d headers %v", i, r.Header)
		}
	}
	s = llmtest.NewServer(t, always(llmtest.Reply{Status: 400, Content: "echo tenant-SECRET123"}))
	c = newClient(t, s, func(cfg *openai.Config) { cfg.Headers = []string{"OpenAI-Project: tenant-SECRET123"} })
	if _, err := c.Chat(context.Background(), userRequest("x")); err == nil || strings.Contains(err.Error(), "SECRET123") {
		t.Errorf("err %v", err)
	}
	for _, h := range []string{"Authorization: Bearer sk-other", "authorization: x", "Content-Type: text/plain", "X-Team", "X-Team: "} {
		_, err := openai.New(openai.Config{Provider: openai.ProviderOpenAI, APIKey: testKey, Headers: []string{h}})
		if !errors.Is(err, openai.ErrConfig) || !strings.Contains(err.Error(), "LLM_HEADERS") || strings.Contains(err.Error(), "sk-other") {
			t.Errorf("header %q: %v", h, err)
		}
	}
}

// Cached prompt tokens are counted where the provider reports them.
func TestCachedPromptTokensAreCounted(t *testing.T) {
	body := `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":900,"completion_tokens":10,"total_tokens":910,"prompt_tokens_details":{"cached_tokens":640}}}`
	s := llmtest.NewServer(t, always(llmtest.Reply{RawBody: body}))
	resp, err := newClient(t, s, nil).Chat(context.Background(), userRequest("x"))
	if err != nil || resp.Usage != (llm.Usage{PromptTokens: 900, CompletionTokens: 10, CachedPromptTokens: 640}) {
		t.Fatalf("usage %+v, err %v", resp.Usage, err)
	}
}
