// Package llm defines the provider-neutral chat types the agent speaks and the
// Client contract that every planner implements: the OpenAI-compatible adapter
// (package llm/openai) and the deterministic rules planner alike.
package llm

import (
	"context"
	"encoding/json"
	"errors"
)

// Role is the author of a message.
type Role string

// Message roles.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// ToolCall is one call the model asks for. Arguments is the raw JSON text the
// model produced; it is untrusted and decoded strictly by the tool registry.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Message is one chat message.
type Message struct {
	Role       Role       `json:"role"`
	Content    string     `json:"content,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"` // for RoleTool
	Name       string     `json:"name,omitempty"`         // tool name, for RoleTool
	// Reasoning is what the model thought before this assistant message,
	// as its provider returned it (Anthropic's thinking and
	// redacted_thinking blocks, with their signatures). It is replayed
	// verbatim with the message, as multi-turn tool use with thinking
	// requires; it is never shown or parsed.
	Reasoning []ReasoningBlock `json:"reasoning,omitempty"`
}

// ReasoningBlock is one opaque block of a model's reasoning.
type ReasoningBlock struct {
	Kind      string `json:"kind"`                // the provider's block type, e.g. "thinking"
	Text      string `json:"text,omitempty"`      // the (summarised) thinking
	Signature string `json:"signature,omitempty"` // the provider's integrity signature
	Data      string `json:"data,omitempty"`      // an encrypted block's payload
}

// ToolSpec describes one tool to the model.
type ToolSpec struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"` // JSON schema of the arguments
}

// ToolChoice tells the model whether it may call tools.
type ToolChoice string

// Tool choices.
const (
	ToolChoiceAuto ToolChoice = "auto"
	ToolChoiceNone ToolChoice = "none" // the forced final answer
)

// Request is one chat completion request.
type Request struct {
	Messages   []Message
	Tools      []ToolSpec
	ToolChoice ToolChoice
	MaxTokens  int
}

// Usage counts tokens of one call.
type Usage struct {
	// PromptTokens is every input token, cached or not.
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	// CachedPromptTokens is the part of PromptTokens served from the
	// provider's prompt cache; CacheWriteTokens the part written to it.
	CachedPromptTokens int `json:"cached_prompt_tokens,omitempty"`
	CacheWriteTokens   int `json:"cache_write_tokens,omitempty"`
}

// Total is prompt plus completion tokens.
func (u Usage) Total() int { return u.PromptTokens + u.CompletionTokens }

// FinishReason is why the model stopped, in the chat-completions
// vocabulary; adapters of other wire formats map theirs onto it.
type FinishReason string

// Finish reasons. The first two end a usable reply; the others end a reply
// before it is one.
const (
	FinishStop      FinishReason = "stop"       // an answer (Anthropic: end_turn, stop_sequence)
	FinishToolCalls FinishReason = "tool_calls" // calls (Anthropic: tool_use)
	FinishLength    FinishReason = "length"     // cut at the output limit (Anthropic: max_tokens)
	// FinishContentFilter: the provider withheld the reply (Anthropic: refusal).
	FinishContentFilter FinishReason = "content_filter"
	FinishSensitive     FinishReason = "sensitive"     // Z.ai's content filter
	FinishNetworkError  FinishReason = "network_error" // Z.ai lost the reply mid-way
	// FinishPaused: the provider paused a long turn (Anthropic: pause_turn).
	FinishPaused FinishReason = "pause_turn"
)

// Response is the model's reply.
type Response struct {
	Message      Message
	Usage        Usage
	FinishReason FinishReason
}

// Client is a chat model, or anything that answers like one.
type Client interface {
	// Name identifies the planner in transcripts, e.g. "rules" or "llm:gpt-4o".
	Name() string
	Chat(ctx context.Context, req Request) (Response, error)
}

// Errors a Client may return, wrapped with %w.
var (
	// ErrInvalidResponse means the provider answered with something that is not a usable reply.
	ErrInvalidResponse = errors.New("invalid model response")
	// ErrProvider means the provider failed (HTTP error, timeout, rate limit after retries).
	ErrProvider = errors.New("model provider error")
	// ErrMisconfigured means the provider refused the request for a reason
	// only a change of configuration fixes: a refused key, an unknown
	// model, a wrong URL, a server not started for tool calls, an account
	// without balance. Adapters wrap it together with ErrProvider.
	ErrMisconfigured = errors.New("the provider refused the configuration")
)
