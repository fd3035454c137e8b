package agent_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/llm/openai"
)

// testAPIKey is a fake key the scripted server requires, so the adapter's
// authentication is exercised too.
const testAPIKey = "sk-test-not-real"

// scriptedModel starts an OpenAI-compatible server answering from script and
// returns it with the real go-openai adapter pointed at it. Retries wait zero.
func scriptedModel(t testing.TB, script llmtest.Script, opts ...llmtest.Option) (*llmtest.Server, llm.Client) {
	t.Helper()
	srv := llmtest.NewServer(t, script, append([]llmtest.Option{llmtest.WithAPIKey(testAPIKey)}, opts...)...)
	c, err := openai.New(openai.Config{Provider: "openai", Model: "scripted", APIKey: testAPIKey, BaseURL: srv.URL()},
		openai.WithBackoff(func(int) time.Duration { return 0 }))
	if err != nil {
		t.Fatalf("openai adapter: %v", err)
	}
	return srv, c
}

// modelFile loads a scripted model from internal/eval/models.
func modelFile(t testing.TB, name string) *llmtest.ScriptFile {
	t.Helper()
	f, err := llmtest.LoadScript(filepath.Join(modelDir, name))
	if err != nil {
		t.Fatalf("load model %s: %v", name, err)
	}
	return f
}

// calls builds one scripted turn of tool calls; args are JSON-encoded unless
// they are a string, which is sent verbatim (possibly broken on purpose).
func calls(content string, cs ...any) llmtest.Reply {
	r := llmtest.Reply{Content: content}
	for i := 0; i+1 < len(cs); i += 2 {
		args, ok := cs[i+1].(string)
		if !ok {
			b, err := json.Marshal(cs[i+1])
			if err != nil {
				panic(err)
			}
			args = string(b)
		}
		r.ToolCalls = append(r.ToolCalls, llmtest.ToolCall{Name: cs[i].(string), Arguments: args})
	}
	return r
}

// final is a scripted turn that answers without tools.
func final(text string) llmtest.Reply { return llmtest.Reply{Content: text} }

// obj is a short name for a JSON object literal.
type obj = map[string]any

// wl is the workload arguments of a tool call, plus extra fields.
func wl(name string, kv ...any) obj {
	o := obj{"namespace": namespace, "name": name}
	for i := 0; i+1 < len(kv); i += 2 {
		o[kv[i].(string)] = kv[i+1]
	}
	return o
}

// toolResult decodes a tool message sent back to the model.
func toolResult(t testing.TB, m llmtest.ChatMessage) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(m.Content), &out); err != nil {
		t.Fatalf("tool message %s is not a JSON object: %v\n%s", m.ToolCallID, err, m.Content)
	}
	return out
}

// firstUser is the text of the first user message of a request.
func firstUser(r llmtest.RecordedRequest) string {
	for _, m := range r.Chat.Messages {
		if m.Role == "user" {
			return string(m.Content)
		}
	}
	return ""
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func containsAll(s string, subs ...string) (string, bool) {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return sub, false
		}
	}
	return "", true
}
