package scripted_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/llm/scripted"
)

// profileServer starts a server with the profile answering from replies.
func profileServer(t *testing.T, p scripted.Profile, replies ...scripted.Reply) *scripted.Server {
	t.Helper()
	srv, err := scripted.Start(scripted.Steps(replies...), scripted.WithProfile(p))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

const (
	tools    = `"tools":[{"type":"function","function":{"name":"scale","parameters":{"type":"object"}}}]`
	userMsgs = `"messages":[{"role":"user","content":"hi"}]`
	history  = `"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"scale","arguments":"ARGS"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]`
)

// Each profile accepts and refuses requests as its provider's pages say.
func TestProfilesCheckRequestsAsTheirProvidersDo(t *testing.T) {
	tests := []struct {
		name    string
		profile scripted.Profile
		body    string
		status  int
		says    string // in the error body
	}{
		{"reasoning: max_tokens", scripted.ProfileOpenAIReasoning, `{"model":"o4-mini","max_tokens":100,` + userMsgs + `}`, 400, "max_completion_tokens"},
		{"reasoning: max_completion_tokens", scripted.ProfileOpenAIReasoning, `{"model":"o4-mini","max_completion_tokens":100,"reasoning_effort":"low",` + userMsgs + `}`, 200, ""},
		{"reasoning: unknown effort", scripted.ProfileOpenAIReasoning, `{"model":"o4-mini","reasoning_effort":"huge",` + userMsgs + `}`, 400, "reasoning_effort"},
		{"reasoning: temperature", scripted.ProfileOpenAIReasoning, `{"model":"o4-mini","temperature":0.2,` + userMsgs + `}`, 400, "temperature"},
		{"luna: tools at the default effort", scripted.ProfileOpenAIReasoning, `{"model":"gpt-6-luna",` + tools + `,` + userMsgs + `}`, 400, "set reasoning_effort to 'none'"},
		{"luna: tools at effort none", scripted.ProfileOpenAIReasoning, `{"model":"gpt-6-luna","reasoning_effort":"none",` + tools + `,` + userMsgs + `}`, 200, ""},
		{"terra: tools", scripted.ProfileOpenAIReasoning, `{"model":"gpt-6.1-terra","reasoning_effort":"none",` + tools + `,` + userMsgs + `}`, 400, "/v1/responses"},
		{"o4-mini: tools with an effort", scripted.ProfileOpenAIReasoning, `{"model":"o4-mini","reasoning_effort":"high",` + tools + `,` + userMsgs + `}`, 200, ""},
		{"zai: tool_choice none", scripted.ProfileZAI, `{"model":"glm-5","tool_choice":"none",` + tools + `,` + userMsgs + `}`, 400, `"code":"1214"`},
		{"zai: tool_choice auto", scripted.ProfileZAI, `{"model":"glm-5","tool_choice":"auto","max_tokens":9,` + tools + `,` + userMsgs + `}`, 200, ""},
		{"zai: max_completion_tokens", scripted.ProfileZAI, `{"model":"glm-5","max_completion_tokens":9,` + userMsgs + `}`, 400, `"code":"1210"`},
		{"zai: thinking", scripted.ProfileZAI, `{"model":"glm-5","thinking":{"type":"disabled"},` + userMsgs + `}`, 200, ""},
		{"zai: bad thinking", scripted.ProfileZAI, `{"model":"glm-5","thinking":{"type":"deep"},` + userMsgs + `}`, 400, "thinking"},
		{"zai: history without tools", scripted.ProfileZAI, `{"model":"glm-5",` + strings.Replace(history, "ARGS", `{}`, 1) + `}`, 200, ""},
		{"ollama: any tool_choice ignored", scripted.ProfileOllama, `{"model":"qwen3","tool_choice":"whatever",` + userMsgs + `}`, 200, ""},
		{"ollama: an effort it does not know", scripted.ProfileOllama, `{"model":"qwen3","reasoning_effort":"minimal",` + userMsgs + `}`, 400, "invalid reasoning value"},
		{"ollama: unknown field ignored", scripted.ProfileOllama, `{"model":"qwen3","thinking":true,` + userMsgs + `}`, 200, ""},
		{"ollama: history arguments not an object", scripted.ProfileOllama, `{"model":"qwen3",` + strings.Replace(history, "ARGS", `{broken`, 1) + `}`, 400, "invalid tool call arguments"},
		{"vllm without auto: tools", scripted.ProfileVLLMNoAutoToolChoice, `{"model":"qwen",` + tools + `,` + userMsgs + `}`, 400, "--enable-auto-tool-choice"},
		{"vllm without auto: tool_choice none", scripted.ProfileVLLMNoAutoToolChoice, `{"model":"qwen","tool_choice":"none",` + tools + `,` + userMsgs + `}`, 200, ""},
		{"vllm: tools auto", scripted.ProfileVLLM, `{"model":"qwen","tool_choice":"auto",` + tools + `,` + userMsgs + `}`, 200, ""},
		{"openai: unknown field", scripted.ProfileOpenAI, `{"model":"gpt","thinking":{"type":"enabled"},` + userMsgs + `}`, 400, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := profileServer(t, tt.profile)
			resp, body := post(t, srv.URL()+"/chat/completions", tt.body, nil)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.says) {
				t.Fatalf("%d %s; want %d saying %q", resp.StatusCode, body, tt.status, tt.says)
			}
		})
	}
}

// The error bodies are the providers' shapes: Z.ai's code and message,
// vLLM's type and numeric code, OpenAI's type and code.
func TestProfilesAnswerErrorsInTheirShape(t *testing.T) {
	tests := []struct {
		profile scripted.Profile
		reply   scripted.Reply
		want    string
	}{
		{scripted.ProfileZAI, scripted.Reply{Status: 429, ErrorCode: "1113", Content: "Your account is in arrears, please recharge and try again"},
			`{"error":{"code":"1113","message":"Your account is in arrears, please recharge and try again"}}`},
		{scripted.ProfileZAI, scripted.Reply{Status: 429, Content: "High concurrency usage of this API"},
			`{"error":{"code":"1302","message":"High concurrency usage of this API"}}`},
		{scripted.ProfileVLLM, scripted.Reply{Status: 400, Content: "bad"},
			`{"error":{"message":"bad","type":"BadRequestError","param":null,"code":400}}`},
		{scripted.ProfileOpenAI, scripted.Reply{Status: 429, ErrorCode: "insufficient_quota", Content: "quota"},
			`{"error":{"message":"quota","type":"requests","param":null,"code":"insufficient_quota"}}`},
	}
	for _, tt := range tests {
		srv := profileServer(t, tt.profile, tt.reply)
		resp, body := post(t, srv.URL()+"/chat/completions", `{"model":"m",`+userMsgs+`}`, nil)
		if resp.StatusCode != tt.reply.Status || string(body) != tt.want {
			t.Errorf("%s: %d %s, want %s", tt.profile, resp.StatusCode, body, tt.want)
		}
	}
}

// Replies carry tool calls as each server shapes them: Z.ai's arguments as
// an object, Ollama's ids "call_" and 8 characters, vLLM's
// "chatcmpl-tool-…".
func TestProfilesShapeToolCallsAsTheirServersDo(t *testing.T) {
	call := scripted.Reply{ToolCalls: []scripted.ToolCall{{Name: "scale", Arguments: `{"replicas": 4}`}, {Name: "scale", Arguments: `not json`}}}
	tests := []struct {
		profile  scripted.Profile
		idPrefix string
		idLen    int
		args     string // the first call's arguments as sent
	}{
		{scripted.ProfileOpenAI, "call_", 0, `"{\"replicas\": 4}"`},
		{scripted.ProfileZAI, "call_", 0, `{"replicas":4}`},
		{scripted.ProfileOllama, "call_", len("call_") + 8, `"{\"replicas\": 4}"`},
		{scripted.ProfileVLLM, "chatcmpl-tool-", 0, `"{\"replicas\": 4}"`},
	}
	for _, tt := range tests {
		srv := profileServer(t, tt.profile, call)
		_, body := post(t, srv.URL()+"/chat/completions", `{"model":"m","tool_choice":"auto",`+tools+`,`+userMsgs+`}`, nil)
		var r struct {
			Choices []struct {
				Message struct {
					ToolCalls []struct {
						ID       string `json:"id"`
						Function struct {
							Arguments json.RawMessage `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(body, &r); err != nil || len(r.Choices) != 1 || len(r.Choices[0].Message.ToolCalls) != 2 {
			t.Fatalf("%s: %s (%v)", tt.profile, body, err)
		}
		c := r.Choices[0]
		first, second := c.Message.ToolCalls[0], c.Message.ToolCalls[1]
		if !strings.HasPrefix(first.ID, tt.idPrefix) || (tt.idLen > 0 && len(first.ID) != tt.idLen) || first.ID == second.ID {
			t.Errorf("%s: ids %q, %q", tt.profile, first.ID, second.ID)
		}
		if string(first.Function.Arguments) != tt.args || string(second.Function.Arguments) != `"not json"` || c.FinishReason != "tool_calls" {
			t.Errorf("%s: arguments %s, %s, finish %s", tt.profile, first.Function.Arguments, second.Function.Arguments, c.FinishReason)
		}
	}
}

// A field outside OpenAI's request is recorded as sent.
func TestExtraFieldsAreRecorded(t *testing.T) {
	srv := profileServer(t, scripted.ProfileZAI)
	post(t, srv.URL()+"/chat/completions", `{"model":"glm-5","thinking":{"type":"enabled"},`+userMsgs+`}`, nil)
	if got := string(srv.Requests()[0].Extra["thinking"]); got != `{"type":"enabled"}` {
		t.Errorf("thinking recorded as %q", got)
	}
}
