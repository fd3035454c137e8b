package scripted_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/llm/scripted"
)

const messagesKey = "test-key-not-real"

func startMessages(t *testing.T) *scripted.MessagesServer {
	t.Helper()
	s, err := scripted.StartMessages(scripted.Steps(), scripted.MessagesConfig{}, scripted.WithAPIKey(messagesKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func postMessages(t *testing.T, s *scripted.MessagesServer, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", messagesKey)
	req.Header.Set("Anthropic-Version", "2026-10-21")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The rules the server enforces, each from the Messages API docs (see
// MessagesRequest.validate).
func TestMessagesServerRejectsWhatTheAPIRejects(t *testing.T) {
	const user = `{"role":"user","content":"hi"}`
	const tools = `"tools":[{"name":"getLogs","input_schema":{"type":"object"}}]`
	call := `{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"getLogs","input":{}}]}`
	cc := `"cache_control":{"type":"ephemeral"}`
	text := func(n int) string {
		var parts []string
		for range n {
			parts = append(parts, `{"type":"text","text":"x",`+cc+`}`)
		}
		return strings.Join(parts, ",")
	}
	tests := []struct {
		name   string
		body   string
		header map[string]string
		status int
		want   string
	}{
		{"no key", `{}`, map[string]string{"X-Api-Key": ""}, 401, "authentication_error"},
		{"no version", `{}`, map[string]string{"Anthropic-Version": ""}, 400, "anthropic-version"},
		{"unknown field", `{"model":"m","max_tokens":10,"messages":[` + user + `],"n":2}`, nil, 400, "unknown field"},
		{"no max_tokens", `{"model":"m","messages":[` + user + `]}`, nil, 400, "max_tokens: Field required"},
		{"assistant first", `{"model":"m","max_tokens":10,"messages":[{"role":"assistant","content":"x"}]}`, nil, 400, "must alternate"},
		{"two users", `{"model":"m","max_tokens":10,"messages":[` + user + `,` + user + `]}`, nil, 400, "must alternate"},
		{"unanswered tool_use", `{"model":"m","max_tokens":10,` + tools + `,"thinking":{"type":"disabled"},"messages":[` + user + `,` + call + `,` + user + `]}`, nil, 400, "without tool_result"},
		{"text before result", `{"model":"m","max_tokens":10,` + tools + `,"thinking":{"type":"disabled"},"messages":[` + user + `,` + call +
			`,{"role":"user","content":[{"type":"text","text":"x"},{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}]}`, nil, 400, "must come first"},
		{"forced tool with thinking", `{"model":"m","max_tokens":10,` + tools + `,"tool_choice":{"type":"any"},"messages":[` + user + `]}`, nil, 400, "forces tool use"},
		{"five breakpoints", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[` + text(5) + `]}]}`, nil, 400, "maximum of 4"},
		{"small budget", `{"model":"m","max_tokens":4000,"thinking":{"type":"enabled","budget_tokens":512},"messages":[` + user + `]}`, nil, 400, "budget_tokens"},
		{"forged thinking", `{"model":"m","max_tokens":10,"thinking":{"type":"disabled"},"messages":[` + user +
			`,{"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"v1.s.00.sig"},{"type":"text","text":"x"}]},` + user + `]}`, nil, 400, "Invalid `signature`"},
		{"valid", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[` + text(4) + `]}]}`, nil, 200, `"type":"message"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startMessages(t)
			status, body := postMessages(t, s, tt.body, tt.header)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("status %d, body %s; want %d with %q", status, body, tt.status, tt.want)
			}
			if status != 200 {
				var e struct {
					Type  string `json:"type"`
					Error struct{ Type, Message string }
				}
				if json.Unmarshal([]byte(body), &e) != nil || e.Type != "error" || e.Error.Type == "" {
					t.Errorf("error body %s is not in the API's error shape", body)
				}
			}
			if h := s.Requests()[0].Header; h.Get("X-Api-Key") != "" {
				t.Errorf("the key was recorded")
			}
		})
	}
}
