package anthropic_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/anthropic"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
)

// testKey is a fake key the scripted server requires; built at run time so
// no literal looks like a credential.
var testKey = "sk-ant-" + strings.Repeat("x", 12) + "-not-real"

// serve starts a Messages API server with the key required.
func serve(t *testing.T, script llmtest.Script, cfg llmtest.MessagesConfig, opts ...llmtest.Option) *llmtest.MessagesServer {
	t.Helper()
	return llmtest.NewMessagesServer(t, script, cfg, append([]llmtest.Option{llmtest.WithAPIKey(testKey)}, opts...)...)
}

// client is the adapter pointed at srv; retries wait zero unless opts say.
func client(t *testing.T, srv *llmtest.MessagesServer, cfg anthropic.Config, opts ...anthropic.Option) *anthropic.Client {
	t.Helper()
	cfg.BaseURL = srv.URL()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	opts = append([]anthropic.Option{anthropic.WithBackoff(func(int) time.Duration { return 0 })}, opts...)
	c, err := anthropic.New(cfg, opts...)
	if err != nil {
		t.Fatalf("anthropic.New: %v", err)
	}
	return c
}

// fixedTools are two tools with schemas.
var fixedTools = []llm.ToolSpec{
	{Name: "getLogs", Description: "Read a workload's logs.", Parameters: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"},"limit":{"type":"integer"}},"required":["name"],"additionalProperties":false}`)},
	{Name: "scaleDeployment", Description: "Scale a deployment.", Parameters: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"},"replicas":{"type":"integer"}},"required":["name","replicas"]}`)},
}

// opening is a system prompt and the first user message.
func opening(system string) []llm.Message {
	return []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: "Alert: backend CPU at 85% for 5 minutes"}}
}

func request(msgs []llm.Message) llm.Request {
	return llm.Request{Messages: msgs, Tools: fixedTools, ToolChoice: llm.ToolChoiceAuto, MaxTokens: 8192}
}

func chat(t *testing.T, c *anthropic.Client, req llm.Request) llm.Response {
	t.Helper()
	resp, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	return resp
}

// answer appends the reply and a result for each of its calls.
func answer(msgs []llm.Message, resp llm.Response) []llm.Message {
	msgs = append(msgs, resp.Message)
	for _, c := range resp.Message.ToolCalls {
		msgs = append(msgs, llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Name: c.Name, Content: `{"status":"ok","summary":"` + c.Name + ` done"}`})
	}
	return msgs
}

// body decodes a recorded request as the server read it.
func body(t *testing.T, r llmtest.RecordedRequest) llmtest.MessagesRequest {
	t.Helper()
	b, err := r.MessagesBody()
	if err != nil {
		t.Fatalf("request %d: %v", r.Index, err)
	}
	return b
}

// raw decodes a recorded request into a generic map.
func raw(t *testing.T, r llmtest.RecordedRequest) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func asError(t *testing.T, err error) *anthropic.Error {
	t.Helper()
	var e *anthropic.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *anthropic.Error", err, err)
	}
	return e
}

func calls(text string, names ...string) llmtest.Reply {
	r := llmtest.Reply{Content: text}
	for _, n := range names {
		args := `{"name":"backend"}`
		if n == "scaleDeployment" {
			args = `{"name":"backend","replicas":4}`
		}
		r.ToolCalls = append(r.ToolCalls, llmtest.ToolCall{Name: n, Arguments: args})
	}
	return r
}
