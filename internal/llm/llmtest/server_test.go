package llmtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/llm/llmtest"
)

const userOnly = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`

// response is the reply shape a client reads, decoded independently of the
// server's own types.
type response struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role      string           `json:"role"`
			Content   *string          `json:"content"`
			ToolCalls []map[string]any `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	} `json:"error"`
}

func post(t *testing.T, url, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func decode(t *testing.T, b []byte) response {
	t.Helper()
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return r
}

func TestServerAnswersTextInWireFormat(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Content: "hello"}))
	resp, b := post(t, s.URL()+"/chat/completions", userOnly, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := decode(t, b)
	if r.ID == "" || r.Object != "chat.completion" || r.Model != "m" || len(r.Choices) != 1 {
		t.Fatalf("envelope: %s", b)
	}
	c := r.Choices[0]
	if c.Message.Role != "assistant" || c.Message.Content == nil || *c.Message.Content != "hello" || c.FinishReason != "stop" {
		t.Fatalf("choice: %s", b)
	}
	if r.Usage.PromptTokens != (len(userOnly)+3)/4 || r.Usage.TotalTokens != r.Usage.PromptTokens+r.Usage.CompletionTokens {
		t.Fatalf("usage: %+v", r.Usage)
	}
}

func TestServerAnswersToolCallsWithNullContent(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{ToolCalls: []llmtest.ToolCall{
		{Name: "a", Arguments: `{"x":1}`}, {Name: "b", Arguments: `{broken`},
	}}))
	_, b := post(t, s.URL()+"/chat/completions", userOnly, nil)
	r := decode(t, b)
	c := r.Choices[0]
	if c.Message.Content != nil || c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 2 {
		t.Fatalf("choice: %s", b)
	}
	want := []string{
		`{"function":{"arguments":"{\"x\":1}","name":"a"},"id":"call_0_0","type":"function"}`,
		`{"function":{"arguments":"{broken","name":"b"},"id":"call_0_1","type":"function"}`,
	}
	for i, tc := range c.Message.ToolCalls {
		got, _ := json.Marshal(tc)
		if string(got) != want[i] {
			t.Errorf("tool call %d = %s, want %s", i, got, want[i])
		}
	}
}

func TestStepsAnswerInOrderThenDone(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Content: "one"}, llmtest.Reply{Content: "two"}))
	var got []string
	for range 4 {
		_, b := post(t, s.URL()+"/chat/completions", userOnly, nil)
		got = append(got, *decode(t, b).Choices[0].Message.Content)
	}
	if strings.Join(got, ",") != "one,two,done,done" || s.Calls() != 4 {
		t.Fatalf("got %v after %d calls", got, s.Calls())
	}
}

func TestScriptFileThenPolicies(t *testing.T) {
	steps := []llmtest.Reply{{Content: "a"}, {Content: "b"}}
	tests := []struct {
		then string
		want string
	}{
		{then: "", want: "a,b,done,done,done"},
		{then: llmtest.ThenDone, want: "a,b,done,done,done"},
		{then: llmtest.ThenRepeat, want: "a,b,b,b,b"},
		{then: llmtest.ThenCycle, want: "a,b,a,b,a"},
	}
	for _, tt := range tests {
		t.Run("then "+tt.then, func(t *testing.T) {
			f := &llmtest.ScriptFile{Steps: steps, Then: tt.then}
			var got []string
			for i := range 5 {
				got = append(got, f.Reply(llmtest.RecordedRequest{Index: i}).Content)
			}
			if strings.Join(got, ",") != tt.want {
				t.Fatalf("got %v, want %s", got, tt.want)
			}
		})
	}
}

func TestErrorStatusUsesOpenAIErrorFormat(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Status: 429, Content: "slow down", Header: map[string]string{"Retry-After": "3"}}))
	resp, b := post(t, s.URL()+"/chat/completions", userOnly, nil)
	r := decode(t, b)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || r.Error == nil || r.Error.Message != "slow down" || r.Error.Type != "requests" {
		t.Fatalf("status %d, body %s", resp.StatusCode, b)
	}
}

func TestRawBodyIsSentExactly(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{RawBody: `{"choices": [`}))
	resp, b := post(t, s.URL()+"/chat/completions", userOnly, nil)
	if resp.StatusCode != 200 || string(b) != `{"choices": [` {
		t.Fatalf("status %d, body %q", resp.StatusCode, b)
	}
}

func TestDelayWaitsOnTheServerClock(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Content: "late", Delay: time.Minute}), llmtest.WithClock(clk))
	got := make(chan string, 1)
	go func() {
		// t.Fatal is not allowed off the test goroutine; report through the channel.
		resp, err := http.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(userOnly))
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	for !clk.HasWaiters() {
		runtime.Gosched()
		select {
		case b := <-got:
			t.Fatalf("answered before the delay: %s", b)
		default:
		}
	}
	clk.Step(59 * time.Second)
	if !clk.HasWaiters() {
		t.Fatal("delay ended before a minute")
	}
	clk.Step(time.Second)
	if b := <-got; !strings.Contains(b, `"late"`) || !strings.Contains(b, `"created":1700000060`) {
		t.Fatalf("body %s", b)
	}
}

// recorder is a testing.TB that records Errorf instead of failing, to check
// that the server fails the test on a request the real API would reject.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestInvalidRequestFailsTheTestByDefault(t *testing.T) {
	rec := &recorder{TB: t}
	s := llmtest.NewServer(rec, llmtest.Steps())
	resp, _ := post(t, s.URL()+"/chat/completions", `{"model":"m","messages":[],"bogus":1}`, nil)
	if resp.StatusCode != 400 || len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "rejected (400)") {
		t.Fatalf("status %d, errors %q", resp.StatusCode, rec.errors)
	}
}

func TestServerRejectsWhatTheRealAPIRejects(t *testing.T) {
	const asst = `{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}`
	const tools = `"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`
	tests := []struct {
		name, path, method, body, auth string
		status                         int
		why                            string
	}{
		{name: "unknown argument", body: `{"model":"m","messages":[{"role":"user","content":"x"}],"temprature":1}`, status: 400, why: "unknown field"},
		{name: "no model", body: `{"messages":[{"role":"user","content":"x"}]}`, status: 400, why: "model"},
		{name: "no messages", body: `{"model":"m","messages":[]}`, status: 400, why: "at least one message"},
		{name: "tool choice without tools", body: `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"none"}`, status: 400, why: "only allowed when 'tools'"},
		{name: "unknown tool choice", body: `{"model":"m","messages":[{"role":"user","content":"x"}],` + tools + `,"tool_choice":"maybe"}`, status: 400, why: "tool_choice"},
		{name: "bad tool name", body: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a b"}}]}`, status: 400, why: "does not match"},
		{name: "tool result answering nothing", body: `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"c9","content":"r"}]}`, status: 400, why: "preceding message with 'tool_calls'"},
		{name: "tool result without id", body: `{"model":"m","messages":[{"role":"user","content":"x"},` + asst + `,{"role":"tool","content":"r"}]}`, status: 400, why: "missing 'tool_call_id'"},
		{name: "tool result without content", body: `{"model":"m","messages":[{"role":"user","content":"x"},` + asst + `,{"role":"tool","tool_call_id":"c1"}]}`, status: 400, why: "'content' is required"},
		{name: "tool call left unanswered", body: `{"model":"m","messages":[{"role":"user","content":"x"},` + asst + `,{"role":"user","content":"y"}]}`, status: 400, why: "missing c1"},
		{name: "tool call unanswered at the end", body: `{"model":"m","messages":[{"role":"user","content":"x"},` + asst + `]}`, status: 400, why: "without a tool message"},
		{name: "unknown role", body: `{"model":"m","messages":[{"role":"robot","content":"x"}]}`, status: 400, why: "role"},
		{name: "streaming", body: `{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`, status: 400, why: "streaming"},
		{name: "trailing data", body: userOnly + `{}`, status: 400, why: "trailing"},
		{name: "wrong key", body: userOnly, auth: "Bearer nope", status: 401, why: "incorrect API key"},
		{name: "unknown path", path: "/v1/completions", body: userOnly, status: 404, why: "unknown path"},
		{name: "wrong method", method: http.MethodPut, body: userOnly, status: 405, why: "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.NewServer(t, llmtest.Steps(), llmtest.AllowInvalidRequests(), llmtest.WithAPIKey("k"))
			path, method, auth := "/v1/chat/completions", http.MethodPost, "Bearer k"
			if tt.path != "" {
				path = tt.path
			}
			if tt.method != "" {
				method = tt.method
			}
			if tt.auth != "" {
				auth = tt.auth
			}
			req, _ := http.NewRequestWithContext(context.Background(), method, strings.TrimSuffix(s.URL(), "/v1")+path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", auth)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := decode(t, b)
			if resp.StatusCode != tt.status || r.Error == nil || !strings.Contains(r.Error.Message, tt.why) {
				t.Fatalf("status %d, body %s; want %d containing %q", resp.StatusCode, b, tt.status, tt.why)
			}
			reqs := s.Requests()
			if len(reqs) != 1 || !strings.Contains(reqs[0].Rejection, tt.why) {
				t.Fatalf("recorded %+v", reqs)
			}
		})
	}
}

func TestRequestsAreRecordedWithoutTheKey(t *testing.T) {
	body := `{"model":"m","messages":[` +
		`{"role":"system","content":"be brief"},{"role":"user","content":"alert"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"ok"}]}],` +
		`"tools":[{"type":"function","function":{"name":"f","description":"does f","parameters":{"type":"object"}}}],` +
		`"tool_choice":"none","max_tokens":100}`
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Content: "x"}), llmtest.WithAPIKey("sk-test-SECRET123"))
	resp, _ := post(t, s.URL()+"/chat/completions", body, map[string]string{"Authorization": "Bearer sk-test-SECRET123"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := s.Requests()[0]
	if r.Header.Get("Authorization") != "" || r.Path != "/v1/chat/completions" || string(r.Body) != body {
		t.Fatalf("recorded header %v path %s", r.Header, r.Path)
	}
	tools := `[{"type":"function","function":{"name":"f","description":"does f","parameters":{"type":"object"}}}]`
	if r.SystemPrompt() != "be brief" || r.ToolsJSON() != tools || r.FixedPromptChars() != len("be brief")+len(tools) {
		t.Fatalf("system %q tools %q chars %d", r.SystemPrompt(), r.ToolsJSON(), r.FixedPromptChars())
	}
	res := r.ToolResults()
	if len(res) != 1 || res[0].ToolCallID != "c1" || res[0].Content != "ok" || r.ToolChoice() != "none" ||
		strings.Join(r.ToolNames(), ",") != "f" || r.Chat.MaxTokens != 100 {
		t.Fatalf("tool results %+v, choice %q, names %v", res, r.ToolChoice(), r.ToolNames())
	}
}

func TestServerListensOnLoopbackOnly(t *testing.T) {
	s := llmtest.NewServer(t, llmtest.Steps())
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") && !strings.HasPrefix(s.URL(), "http://[::1]:") {
		t.Fatalf("URL %s", s.URL())
	}
	if !strings.HasSuffix(s.URL(), "/v1") {
		t.Fatalf("URL %s does not end in /v1", s.URL())
	}
}
