package anthropic_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/anthropic"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
)

func TestRequestPutsSystemToolsAndCacheBreakpointsWhereTheAPIWantsThem(t *testing.T) {
	srv := serve(t, llmtest.Steps(llmtest.Reply{Content: "ok"}), llmtest.MessagesConfig{})
	c := client(t, srv, anthropic.Config{Headers: []string{"anthropic-beta: context-1m", "anthropic-workspace-id: wrkspc_test"}})
	chat(t, c, request(opening("You are careful.")))

	rec := srv.Requests()[0]
	got := body(t, rec)
	if len(got.System) != 1 || *got.System[0].Text != "You are careful." || got.System[0].CacheControl == nil {
		t.Errorf("system = %+v, want one text block with a cache breakpoint", got.System)
	}
	for i, tool := range got.Tools {
		var want, have any
		_ = json.Unmarshal(fixedTools[i].Parameters, &want)
		_ = json.Unmarshal(tool.InputSchema, &have)
		if tool.Name != fixedTools[i].Name || tool.Description != fixedTools[i].Description || !jsonEqual(want, have) {
			t.Errorf("tool %d = %s %q %s, want the spec with its schema as input_schema", i, tool.Name, tool.Description, tool.InputSchema)
		}
		if (tool.CacheControl != nil) != (i == len(got.Tools)-1) {
			t.Errorf("tool %d cache_control = %v, want a breakpoint on the last tool only", i, tool.CacheControl)
		}
	}
	last := got.Messages[len(got.Messages)-1]
	if last.Role != "user" || last.Content[len(last.Content)-1].CacheControl == nil {
		t.Errorf("last message %+v has no breakpoint on its last block", last)
	}
	if got.ToolChoice == nil || got.ToolChoice.Type != "auto" || got.Thinking != nil || got.OutputConfig != nil || *got.MaxTokens != 8192 {
		t.Errorf("tool_choice %+v, thinking %+v, output_config %+v, max_tokens %d; want auto, the model's default thinking, 8192",
			got.ToolChoice, got.Thinking, got.OutputConfig, *got.MaxTokens)
	}
	h := rec.Header
	if h.Get("Anthropic-Version") == "" || h.Get("Anthropic-Beta") != "context-1m" || h.Get("Anthropic-Workspace-Id") != "wrkspc_test" {
		t.Errorf("headers %v: want anthropic-version and the configured headers", h)
	}
	if c.Name() != "llm:claude/claude-sonnet-5-5" {
		t.Errorf("name %q", c.Name())
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// A tool loop with thinking: each assistant turn goes back with its
// thinking blocks first, unmodified (the server refuses them otherwise),
// and the results of parallel calls go back as one user message.
func TestThinkingIsReplayedAcrossTheTurnsOfAToolLoop(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(map[bool]string{false: "summarized", true: "omitted"}[omit], func(t *testing.T) {
			script := llmtest.Steps(
				withThinking(calls("Reading first.", "getLogs", "getLogs"), llmtest.Thought{Text: "CPU is high; read logs."}, llmtest.Thought{Text: "secret", Redacted: true}),
				withThinking(calls("", "scaleDeployment"), llmtest.Thought{Text: "Logs show load; scale."}),
				llmtest.Reply{Content: "Scaled backend from 3 to 4."},
			)
			srv := serve(t, script, llmtest.MessagesConfig{OmitThinking: omit})
			c := client(t, srv, anthropic.Config{})
			msgs := opening("sys")
			var replies []llm.Response
			for range 3 {
				resp := chat(t, c, request(msgs))
				replies = append(replies, resp)
				msgs = answer(msgs, resp)
			}
			first := replies[0].Message
			if len(first.Reasoning) != 2 || first.Reasoning[0].Kind != anthropic.KindThinking || first.Reasoning[0].Signature == "" ||
				first.Reasoning[1].Kind != anthropic.KindRedactedThinking || first.Reasoning[1].Data == "" {
				t.Fatalf("first reply reasoning = %+v, want a signed thinking block and a redacted one", first.Reasoning)
			}
			if wantText := map[bool]string{false: "CPU is high; read logs.", true: ""}[omit]; first.Reasoning[0].Text != wantText {
				t.Errorf("thinking text %q, want %q", first.Reasoning[0].Text, wantText)
			}
			third := body(t, srv.Requests()[2])
			if len(third.Messages) != 5 {
				t.Fatalf("third request has %d messages, want user, assistant, user (2 results), assistant, user", len(third.Messages))
			}
			a1, u1 := third.Messages[1], third.Messages[2]
			if a1.Content[0].Type != "thinking" || *a1.Content[0].Signature != first.Reasoning[0].Signature || a1.Content[1].Type != "redacted_thinking" ||
				a1.Content[2].Type != "text" || a1.Content[3].Type != "tool_use" {
				t.Errorf("first assistant turn replayed as %s, want thinking, redacted_thinking, text, tool_use…", types(a1))
			}
			if len(u1.Content) != 2 || u1.Content[0].Type != "tool_result" || u1.Content[1].ToolUseID != first.ToolCalls[1].ID {
				t.Errorf("results went back as %s, want both tool_result blocks in one user message", types(u1))
			}
			if a2 := third.Messages[3]; a2.Content[0].Type != "thinking" || a2.Content[1].Type != "tool_use" {
				t.Errorf("second assistant turn replayed as %s, want thinking then tool_use (no empty text)", types(a2))
			}
			if replies[2].Message.Content != "Scaled backend from 3 to 4." || replies[2].FinishReason != llm.FinishStop {
				t.Errorf("last reply %+v", replies[2])
			}
		})
	}
}

func withThinking(r llmtest.Reply, ts ...llmtest.Thought) llmtest.Reply {
	r.Thinking = ts
	return r
}

// types lists a message's block types.
func types(m llmtest.WireMessage) string {
	var out []string
	for _, b := range m.Content {
		out = append(out, b.Type)
	}
	return strings.Join(out, ", ")
}

// The server holds the adapter to the API's rule: thinking changed,
// dropped or moved to another conversation is a 400, reported as a provider
// error, not retried.
func TestThinkingChangedOrDroppedIsRefusedByTheAPI(t *testing.T) {
	tests := []struct {
		name   string
		change func([]llm.Message)
		want   string
	}{
		{"text changed", func(m []llm.Message) { m[2].Reasoning[0].Text = "I changed my mind." }, "Invalid `signature`"},
		{"signature changed", func(m []llm.Message) { m[2].Reasoning[0].Signature += "x" }, "Invalid `signature`"},
		{"dropped", func(m []llm.Message) { m[2].Reasoning = nil }, "must start with a thinking block"},
		{"earlier turn changed", func(m []llm.Message) { m[1].Content = "Alert: something else" }, "another conversation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, llmtest.Steps(withThinking(calls("", "getLogs"), llmtest.Thought{Text: "read logs"}), llmtest.Reply{Content: "done"}),
				llmtest.MessagesConfig{}, llmtest.AllowInvalidRequests())
			c := client(t, srv, anthropic.Config{})
			msgs := answer(opening("sys"), chat(t, c, request(opening("sys"))))
			tt.change(msgs)
			_, err := c.Chat(t.Context(), request(msgs))
			e := asError(t, err)
			if e.StatusCode != 400 || e.Code != "invalid_request_error" || !strings.Contains(e.Detail, tt.want) || e.Attempts != 1 {
				t.Errorf("error %+v, want a 400 invalid_request_error saying %q, not retried", e, tt.want)
			}
		})
	}
}

func TestStopReasonsBecomeFinishReasons(t *testing.T) {
	tests := []struct {
		stop string
		want llm.FinishReason
	}{
		{"end_turn", llm.FinishStop},
		{"stop_sequence", llm.FinishStop},
		{"tool_use", llm.FinishToolCalls},
		{"max_tokens", llm.FinishLength},
		{"refusal", llm.FinishContentFilter},
		{"pause_turn", llm.FinishPaused},
		{"model_context_window_exceeded", llm.FinishReason("model_context_window_exceeded")},
	}
	for _, tt := range tests {
		t.Run(tt.stop, func(t *testing.T) {
			srv := serve(t, llmtest.Steps(llmtest.Reply{Content: "partial", FinishReason: tt.stop}), llmtest.MessagesConfig{})
			resp := chat(t, client(t, srv, anthropic.Config{}), request(opening("sys")))
			if resp.FinishReason != tt.want {
				t.Errorf("finish %q, want %q", resp.FinishReason, tt.want)
			}
		})
	}
}

// Usage adds cache reads and writes to the input tokens; a second turn
// reads the fixed prompt and the first turn from the cache.
func TestUsageCountsCacheReadsAndWrites(t *testing.T) {
	srv := serve(t, llmtest.Steps(calls("", "getLogs"), llmtest.Reply{Content: "done"}), llmtest.MessagesConfig{})
	c := client(t, srv, anthropic.Config{})
	system := strings.Repeat("Follow the runbook before acting. ", 200) // ~6800 chars, over the 1024-token minimum
	msgs := opening(system)
	first := chat(t, c, request(msgs))
	second := chat(t, c, request(answer(msgs, first)))
	for i, r := range []llm.Response{first, second} {
		u := srv.Usage(i)
		if r.Usage.PromptTokens != u.AllInput() || r.Usage.CachedPromptTokens != u.CacheReadInputTokens ||
			r.Usage.CacheWriteTokens != u.CacheCreationInputTokens || r.Usage.CompletionTokens != u.OutputTokens {
			t.Errorf("turn %d usage %+v, server reported %+v", i, r.Usage, u)
		}
	}
	if first.Usage.CachedPromptTokens != 0 || first.Usage.CacheWriteTokens == 0 {
		t.Errorf("first turn %+v: want a cache write and no read", first.Usage)
	}
	if second.Usage.CachedPromptTokens < first.Usage.CacheWriteTokens {
		t.Errorf("second turn read %d from the cache, want at least the %d the first wrote", second.Usage.CachedPromptTokens, first.Usage.CacheWriteTokens)
	}
	t.Logf("turn 1 %+v; turn 2 %+v", first.Usage, second.Usage)
}

// llm.reasoning_effort reaches each model family in the form its docs
// give (see reasoningFor).
func TestReasoningEffortMapsOntoThinkingAndEffort(t *testing.T) {
	tests := []struct {
		model, effort    string
		thinking, budget string
		outputEffort     string
	}{
		{"claude-sonnet-5-5", "", "", "", ""},
		{"claude-sonnet-5-5", "none", "between_tools", "", ""},
		{"claude-sonnet-5-5", "minimal", "adaptive", "", "low"},
		{"claude-sonnet-5-5", "medium", "adaptive", "", "medium"},
		{"claude-opus-5", "none", "disabled", "", ""},
		{"claude-opus-5", "high", "adaptive", "", "high"},
		{"claude-fable-5-1", "none", "adaptive", "", "low"},
		{"claude-haiku-4-5", "none", "disabled", "", ""},
		{"claude-haiku-4-5", "low", "enabled", "1024", ""},
		{"claude-haiku-4-5", "high", "enabled", "4096", ""}, // 16384 cut to half of max_tokens 8192
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.effort, func(t *testing.T) {
			srv := serve(t, llmtest.Steps(llmtest.Reply{Content: "ok"}), llmtest.MessagesConfig{})
			chat(t, client(t, srv, anthropic.Config{Model: tt.model, ReasoningEffort: tt.effort}), request(opening("sys")))
			m := raw(t, srv.Requests()[0])
			th, _ := m["thinking"].(map[string]any)
			oc, _ := m["output_config"].(map[string]any)
			gotType, _ := th["type"].(string)
			gotBudget := ""
			if b, ok := th["budget_tokens"].(float64); ok {
				gotBudget = strconv.Itoa(int(b))
			}
			gotEffort, _ := oc["effort"].(string)
			if gotType != tt.thinking || gotBudget != tt.budget || gotEffort != tt.outputEffort {
				t.Errorf("thinking %q budget %q effort %q, want %q %q %q", gotType, gotBudget, gotEffort, tt.thinking, tt.budget, tt.outputEffort)
			}
		})
	}
}

// The forced last turn sends tool_choice none with the tools; no request
// ever forces a tool (with thinking the API rejects any and tool).
func TestLastTurnSendsToolChoiceNoneAndNeverForcesATool(t *testing.T) {
	srv := serve(t, llmtest.Steps(llmtest.Reply{Content: "ok"}, llmtest.Reply{Content: "ok"}), llmtest.MessagesConfig{})
	c := client(t, srv, anthropic.Config{})
	req := request(opening("sys"))
	req.ToolChoice = llm.ToolChoiceNone
	chat(t, c, req)
	req.Tools = nil
	chat(t, c, req)
	if tc := body(t, srv.Requests()[0]).ToolChoice; tc == nil || tc.Type != "none" {
		t.Errorf("tool_choice %+v, want none", tc)
	}
	if m := raw(t, srv.Requests()[1]); m["tool_choice"] != nil || m["tools"] != nil {
		t.Errorf("without tools the request carries tool_choice %v, tools %v; want neither", m["tool_choice"], m["tools"])
	}
}
