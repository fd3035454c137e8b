package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/llm/openai"
)

const testKey = "sk-test-SECRET123"

// noWait makes retries immediate.
func noWait(int) time.Duration { return 0 }

func newClient(t *testing.T, s *llmtest.Server, mutate func(*openai.Config), opts ...openai.Option) *openai.Client {
	t.Helper()
	cfg := openai.Config{Provider: openai.ProviderOpenAI, Model: "gpt-test", APIKey: testKey, BaseURL: s.URL()}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := openai.New(cfg, append([]openai.Option{openai.WithBackoff(noWait)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func userRequest(text string) llm.Request {
	return llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "You are ops-skill."},
		{Role: llm.RoleUser, Content: text},
	}}
}

var statusTool = llm.ToolSpec{
	Name:        "getServiceStatus",
	Description: "Replicas, pods and events of a workload.",
	Parameters:  json.RawMessage(`{"type":"object","properties":{"namespace":{"type":"string"},"name":{"type":"string"}},"required":["namespace","name"],"additionalProperties":false}`),
}

var scaleTool = llm.ToolSpec{
	Name:        "scaleDeployment",
	Description: "Scale a deployment.",
	Parameters:  json.RawMessage(`{"type":"object","properties":{"replicas":{"type":"integer"}}}`),
}

func TestChatReturnsTextReply(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{
		Content: "Backend CPU is fine.", Usage: &llmtest.Usage{PromptTokens: 120, CompletionTokens: 9},
	}), llmtest.WithAPIKey(testKey))
	c := newClient(t, s, nil)
	resp, err := c.Chat(context.Background(), userRequest("Alert: backend CPU at 85%"))
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Response{
		Message:      llm.Message{Role: llm.RoleAssistant, Content: "Backend CPU is fine."},
		Usage:        llm.Usage{PromptTokens: 120, CompletionTokens: 9},
		FinishReason: "stop",
	}
	if !equalResponse(resp, want) {
		t.Fatalf("got %+v, want %+v", resp, want)
	}
	r := s.Requests()[0]
	if r.Chat.Model != "gpt-test" || len(r.Chat.Messages) != 2 || r.Chat.Messages[1].Content != "Alert: backend CPU at 85%" {
		t.Fatalf("request %s", r.Body)
	}
	if r.ToolsJSON() != "" || r.ToolChoice() != "" {
		t.Fatalf("tools sent without any: %s", r.Body)
	}
}

func TestChatReturnsTwoToolCallsVerbatim(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{ToolCalls: []llmtest.ToolCall{
		{Name: "getServiceStatus", Arguments: `{"namespace":"ai-data-labs","name":"backend"}`},
		{Name: "scaleDeployment", Arguments: `{"replicas": 1000`},
	}}))
	c := newClient(t, s, nil)
	req := userRequest("Alert")
	req.Tools = []llm.ToolSpec{statusTool, scaleTool}
	req.ToolChoice = llm.ToolChoiceAuto
	resp, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.ToolCall{
		{ID: "call_0_0", Name: "getServiceStatus", Arguments: `{"namespace":"ai-data-labs","name":"backend"}`},
		{ID: "call_0_1", Name: "scaleDeployment", Arguments: `{"replicas": 1000`},
	}
	if resp.FinishReason != "tool_calls" || resp.Message.Content != "" || !equalCalls(resp.Message.ToolCalls, want) {
		t.Fatalf("got %+v", resp)
	}
}

func TestToolsAreSentAsFunctionDefinitions(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps())
	c := newClient(t, s, nil)
	req := userRequest("Alert")
	req.Tools = []llm.ToolSpec{statusTool, {Name: "notify", Description: "Notify."}}
	req.ToolChoice = llm.ToolChoiceAuto
	req.MaxTokens = 512
	if _, err := c.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	r := s.Requests()[0]
	tools := r.Chat.Tools
	if len(tools) != 2 || tools[0].Type != "function" || tools[0].Function.Name != "getServiceStatus" ||
		tools[0].Function.Description != statusTool.Description || string(tools[0].Function.Parameters) != string(statusTool.Parameters) {
		t.Fatalf("tools %s", r.ToolsJSON())
	}
	if string(tools[1].Function.Parameters) != `{"type":"object","properties":{}}` {
		t.Fatalf("a tool without parameters got %s", tools[1].Function.Parameters)
	}
	if r.ToolChoice() != "auto" || r.Chat.MaxTokens != 512 || r.Chat.MaxCompletionTokens != 0 {
		t.Fatalf("tool_choice %q, max_tokens %d, max_completion_tokens %d", r.ToolChoice(), r.Chat.MaxTokens, r.Chat.MaxCompletionTokens)
	}
}

func TestMultiTurnSendsToolResultsBack(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{
			{Name: "getServiceStatus", Arguments: `{"namespace":"ai-data-labs","name":"backend"}`},
			{Name: "scaleDeployment", Arguments: ``},
		}},
		llmtest.Reply{Content: "Scaled backend to 4."},
	))
	c := newClient(t, s, nil)
	req := userRequest("Alert: backend CPU at 85%")
	req.Tools = []llm.ToolSpec{statusTool, scaleTool}
	first, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Messages = append(req.Messages, first.Message)
	for i, tc := range first.Message.ToolCalls {
		content := `{"ok":true}`
		if i == 1 {
			content = "" // an empty result still needs content on the wire
		}
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleTool, ToolCallID: tc.ID, Name: tc.Name, Content: content})
	}
	second, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if second.Message.Content != "Scaled backend to 4." || s.Calls() != 2 {
		t.Fatalf("second reply %+v after %d calls", second, s.Calls())
	}
	wire := s.Requests()[1]
	body := string(wire.Body)
	for _, frag := range []string{
		`{"role":"tool","content":"{\"ok\":true}","tool_call_id":"call_0_0"}`,
		`{"role":"tool","content":"(no output)","tool_call_id":"call_0_1"}`,
		`"tool_calls":[{"id":"call_0_0","type":"function","function":{"name":"getServiceStatus","arguments":"{\"namespace\":\"ai-data-labs\",\"name\":\"backend\"}"}}`,
		`{"id":"call_0_1","type":"function","function":{"name":"scaleDeployment","arguments":"{}"}}`,
	} {
		if !strings.Contains(body, frag) {
			t.Errorf("wire body lacks %s\nbody: %s", frag, body)
		}
	}
	if got := wire.ToolResults(); len(got) != 2 || got[0].ToolCallID != "call_0_0" || got[1].ToolCallID != "call_0_1" {
		t.Fatalf("tool results %+v", got)
	}
}

func TestForcedFinalCallSendsToolChoiceNone(t *testing.T) {
	tests := []struct {
		name       string
		tools      []llm.ToolSpec
		wantChoice string
	}{
		{name: "with tools", tools: []llm.ToolSpec{statusTool}, wantChoice: "none"},
		{name: "without tools the field is left out", tools: nil, wantChoice: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Content: "final"}))
			c := newClient(t, s, nil)
			req := userRequest("Alert")
			req.Tools = tt.tools
			req.ToolChoice = llm.ToolChoiceNone
			if _, err := c.Chat(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if got := s.Requests()[0].ToolChoice(); got != tt.wantChoice {
				t.Fatalf("tool_choice %q, want %q", got, tt.wantChoice)
			}
		})
	}
}

func TestChatRejectsABadRequestBeforeSending(t *testing.T) {
	tests := []struct {
		name string
		req  llm.Request
	}{
		{name: "unknown tool choice", req: llm.Request{Messages: userRequest("x").Messages, Tools: []llm.ToolSpec{statusTool}, ToolChoice: "required"}},
		{name: "unknown role", req: llm.Request{Messages: []llm.Message{{Role: "robot", Content: "x"}}}},
		{name: "tool result without id", req: llm.Request{Messages: []llm.Message{{Role: llm.RoleTool, Content: "x"}}}},
		{name: "schema not JSON", req: llm.Request{Messages: userRequest("x").Messages, Tools: []llm.ToolSpec{{Name: "f", Parameters: json.RawMessage(`{`)}}}},
		{name: "negative max tokens", req: llm.Request{Messages: userRequest("x").Messages, MaxTokens: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.NewServer(t, llmtest.Steps())
			c := newClient(t, s, nil)
			if _, err := c.Chat(context.Background(), tt.req); err == nil {
				t.Fatal("no error")
			}
			if s.Calls() != 0 {
				t.Fatalf("%d calls sent", s.Calls())
			}
		})
	}
}

func TestSynthesizesMissingToolCallIDs(t *testing.T) {
	raw := `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[` +
		`{"type":"function","function":{"name":"a","arguments":"{}"}},{"type":"function","function":{"name":"b","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{RawBody: raw}))
	c := newClient(t, s, nil)
	resp, err := c.Chat(context.Background(), userRequest("x"))
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Message.ToolCalls
	if len(calls) != 2 || calls[0].ID == "" || calls[1].ID == "" || calls[0].ID == calls[1].ID {
		t.Fatalf("ids %+v", calls)
	}
}

func TestConcurrentChatsAreIndependent(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Func(func(r llmtest.RecordedRequest) llmtest.Reply {
		return llmtest.Reply{Content: "echo " + string(r.Chat.Messages[1].Content)}
	}))
	c := newClient(t, s, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			text := strings.Repeat("x", i+1)
			resp, err := c.Chat(context.Background(), userRequest(text))
			if err == nil && resp.Message.Content != "echo "+text {
				err = errors.New("crossed replies: " + resp.Message.Content)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if s.Calls() != 8 {
		t.Fatalf("%d calls", s.Calls())
	}
}

func equalResponse(a, b llm.Response) bool {
	return a.Message.Role == b.Message.Role && a.Message.Content == b.Message.Content &&
		equalCalls(a.Message.ToolCalls, b.Message.ToolCalls) && a.Usage == b.Usage && a.FinishReason == b.FinishReason
}

func equalCalls(a, b []llm.ToolCall) bool { return slices.Equal(a, b) }

func TestEachProviderSpeaksTheSameWireFormat(t *testing.T) {
	tests := []struct {
		provider, wantModel, wantName string
	}{
		{provider: openai.ProviderOpenAI, wantModel: "gpt-6-luna", wantName: "llm:openai/gpt-6-luna"},
		{provider: openai.ProviderClaude, wantModel: "claude-sonnet-5-5", wantName: "llm:claude/claude-sonnet-5-5"},
		{provider: openai.ProviderZAI, wantModel: "glm-5", wantName: "llm:zai/glm-5"},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			s := llmtest.NewServer(t, llmtest.Steps(), llmtest.WithAPIKey(testKey))
			c := newClient(t, s, func(cfg *openai.Config) { cfg.Provider, cfg.Model = tt.provider, "" })
			req := userRequest("x")
			req.MaxTokens = 300
			resp, err := c.Chat(context.Background(), req)
			if err != nil || resp.Message.Content != llmtest.DoneText {
				t.Fatalf("resp %+v, err %v", resp, err)
			}
			r := s.Requests()[0]
			// Behind a base URL a provider sends max_tokens, except for a
			// reasoning model (the OpenAI default, gpt-6-luna, reasons by
			// default), which takes max_completion_tokens.
			limit := r.Chat.MaxTokens
			if tt.provider == openai.ProviderOpenAI {
				limit = r.Chat.MaxCompletionTokens
			}
			if c.Name() != tt.wantName || r.Chat.Model != tt.wantModel || r.Path != "/v1/chat/completions" || limit != 300 {
				t.Fatalf("name %s, request %s to %s", c.Name(), r.Body, r.Path)
			}
		})
	}
}

// A reply larger than ops-skill reads (a misbehaving model's megabytes) is a
// provider failure, read no further than the bound.
func TestAnOversizedReplyIsRefused(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Content: strings.Repeat("x", 2*openai.MaxReplyBytes)}), llmtest.WithAPIKey(testKey))
	c := newClient(t, s, nil)
	_, err := c.Chat(context.Background(), userRequest("Alert: backend CPU at 85%"))
	if !errors.Is(err, llm.ErrProvider) && !errors.Is(err, llm.ErrInvalidResponse) {
		t.Fatalf("err = %v, want a provider failure", err)
	}
	if !strings.Contains(err.Error(), "larger than ops-skill reads") {
		t.Errorf("err = %v, want it to say the reply was too large", err)
	}
}
