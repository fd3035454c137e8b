package scripted

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// RecordedRequest is one request the server received.
type RecordedRequest struct {
	// Index is the 0-based position of the request among all the server
	// received (rejected ones included); Steps answers by it.
	Index  int
	Method string
	Path   string
	// Header is the request header without Authorization.
	Header http.Header
	// Body is the raw request body.
	Body []byte
	// Chat is the decoded body (zero if it could not be decoded).
	Chat ChatRequest
	// Extra are the top-level fields outside OpenAI's request that the
	// server's profile accepted (Z.ai's thinking), or ignored (Ollama,
	// vLLM), as sent.
	Extra map[string]json.RawMessage
	// Rejection says why the server rejected the request; empty when the
	// script answered it.
	Rejection string

	rejectCode, rejectParam string
	rawTools                json.RawMessage
}

func (r RecordedRequest) reject(why string) RecordedRequest {
	r.Rejection = why
	return r
}

// SystemPrompt is the text of the system (and developer) messages, joined
// by newlines.
func (r RecordedRequest) SystemPrompt() string {
	var parts []string
	for _, m := range r.Chat.Messages {
		if m.Role == "system" || m.Role == "developer" {
			parts = append(parts, string(m.Content))
		}
	}
	return strings.Join(parts, "\n")
}

// ToolsJSON is the "tools" array exactly as it was sent ("" if none).
func (r RecordedRequest) ToolsJSON() string { return string(r.rawTools) }

// FixedPromptChars is the characters (runes) of the fixed prompt on this
// request: the system prompt plus the tools array as sent.
func (r RecordedRequest) FixedPromptChars() int {
	return utf8.RuneCountInString(r.SystemPrompt()) + utf8.RuneCountInString(r.ToolsJSON())
}

// ToolNames are the names of the tools offered, in order.
func (r RecordedRequest) ToolNames() []string {
	names := make([]string, 0, len(r.Chat.Tools))
	for _, t := range r.Chat.Tools {
		names = append(names, t.Function.Name)
	}
	return names
}

// ToolChoice is the tool_choice sent: "auto", "none", "required", the
// function name of a named choice, or "" if none was sent.
func (r RecordedRequest) ToolChoice() string {
	if len(r.Chat.ToolChoice) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(r.Chat.ToolChoice, &s) == nil {
		return s
	}
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	_ = json.Unmarshal(r.Chat.ToolChoice, &named)
	return named.Function.Name
}

// ToolResults are the messages with role "tool", in order.
func (r RecordedRequest) ToolResults() []ChatMessage {
	var out []ChatMessage
	for _, m := range r.Chat.Messages {
		if m.Role == "tool" {
			out = append(out, m)
		}
	}
	return out
}

// completion builds the chat completion for a reply.
func (s *Server) completion(rec RecordedRequest, reply Reply) chatResponse {
	msg := replyMessage{Role: "assistant"}
	outChars := len(reply.Content)
	for i, tc := range reply.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, replyToolCall{
			ID:       s.profile.callID(rec.Index, i),
			Type:     "function",
			Function: replyFunction{Name: tc.Name, Arguments: s.profile.arguments(tc.Arguments)},
		})
		outChars += len(tc.Name) + len(tc.Arguments)
	}
	if reply.Content != "" || len(reply.ToolCalls) == 0 {
		content := reply.Content
		msg.Content = &content
	}
	finish := reply.FinishReason
	if finish == "" {
		finish = "stop"
		if len(reply.ToolCalls) > 0 {
			finish = "tool_calls"
		}
	}
	usage := Usage{PromptTokens: tokens(len(rec.Body)), CompletionTokens: tokens(outChars)}
	if reply.Usage != nil {
		usage = *reply.Usage
	}
	return chatResponse{
		ID:      fmt.Sprintf("chatcmpl-llmtest-%d", rec.Index),
		Object:  "chat.completion",
		Created: s.clock.Now().Unix(),
		Model:   rec.Chat.Model,
		Choices: []chatChoice{{Index: 0, Message: msg, FinishReason: finish}},
		Usage: wireUsage{
			PromptTokens:     usage.PromptTokens,
			CompletionTokens: usage.CompletionTokens,
			TotalTokens:      usage.PromptTokens + usage.CompletionTokens,
		},
		SystemFingerprint: "fp_llmtest",
	}
}

// tokens estimates tokens as one per four bytes, at least one.
func tokens(n int) int { return max(1, (n+3)/4) }
