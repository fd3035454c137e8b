package scripted

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// The Messages API request as the test server reads it, decoded with its
// own types (not the SDK's) so that a wire mistake of the adapter is not
// hidden by a symmetric decoder. Fields and rules follow the API reference
// (platform.claude.com/docs/en/api/messages), tool use
// (platform.claude.com/docs/en/agents-and-tools/tool-use/implement-tool-use),
// thinking (platform.claude.com/docs/en/build-with-claude/extended-thinking,
// …/thinking-tool-workflows) and prompt caching
// (platform.claude.com/docs/en/build-with-claude/prompt-caching).

// MessagesRequest is a Messages API request body.
type MessagesRequest struct {
	Model        string          `json:"model"`
	MaxTokens    *int            `json:"max_tokens"`
	Messages     []WireMessage   `json:"messages"`
	System       WireBlocks      `json:"system,omitempty"`
	Tools        []WireTool      `json:"tools,omitempty"`
	ToolChoice   *WireToolChoice `json:"tool_choice,omitempty"`
	Thinking     *WireThinking   `json:"thinking,omitempty"`
	OutputConfig *struct {
		Effort string          `json:"effort,omitempty"`
		Format json.RawMessage `json:"format,omitempty"`
	} `json:"output_config,omitempty"`
	CacheControl  *WireCacheControl `json:"cache_control,omitempty"`
	Metadata      json.RawMessage   `json:"metadata,omitempty"`
	StopSequences []string          `json:"stop_sequences,omitempty"`
	Stream        bool              `json:"stream,omitempty"`
	Temperature   *float64          `json:"temperature,omitempty"`
	TopP          *float64          `json:"top_p,omitempty"`
	TopK          *int              `json:"top_k,omitempty"`
	ServiceTier   string            `json:"service_tier,omitempty"`
}

// WireMessage is one message; its content is a string or an array of
// blocks (a string is one text block).
type WireMessage struct {
	Role    string     `json:"role"`
	Content WireBlocks `json:"content"`
}

// WireBlocks is content: a string (one text block) or an array of blocks.
type WireBlocks []WireBlock

// UnmarshalJSON accepts a string or an array of blocks.
func (b *WireBlocks) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*b = WireBlocks{{Type: "text", Text: &s}}
		return nil
	}
	var blocks []WireBlock
	if err := strictDecode(data, &blocks); err != nil {
		return err
	}
	*b = blocks
	return nil
}

// WireBlock is one content block of any type the server knows.
type WireBlock struct {
	Type         string            `json:"type"`
	Text         *string           `json:"text,omitempty"`
	ID           string            `json:"id,omitempty"`
	Name         string            `json:"name,omitempty"`
	Input        json.RawMessage   `json:"input,omitempty"`
	ToolUseID    string            `json:"tool_use_id,omitempty"`
	Content      *WireBlocks       `json:"content,omitempty"`
	IsError      *bool             `json:"is_error,omitempty"`
	Thinking     *string           `json:"thinking,omitempty"`
	Signature    *string           `json:"signature,omitempty"`
	Data         string            `json:"data,omitempty"`
	CacheControl *WireCacheControl `json:"cache_control,omitempty"`
	Citations    json.RawMessage   `json:"citations,omitempty"`
}

// WireTool is a client tool definition.
type WireTool struct {
	Name         string            `json:"name"`
	Description  string            `json:"description,omitempty"`
	InputSchema  json.RawMessage   `json:"input_schema"`
	CacheControl *WireCacheControl `json:"cache_control,omitempty"`
	Type         string            `json:"type,omitempty"`
}

// WireToolChoice is tool_choice.
type WireToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse *bool  `json:"disable_parallel_tool_use,omitempty"`
}

// WireThinking is the thinking configuration.
type WireThinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens,omitempty"`
	Display      string `json:"display,omitempty"`
}

// WireCacheControl is a cache breakpoint.
type WireCacheControl struct {
	Type string `json:"type"`
	TTL  string `json:"ttl,omitempty"`
}

// Thought is one block of reasoning a scripted Messages reply starts with
// (Reply.Thinking): a thinking block with Text, signed by the server, or a
// redacted_thinking block whose data the server makes up.
type Thought struct {
	Text     string `json:"text" yaml:"text"`
	Redacted bool   `json:"redacted" yaml:"redacted"`
}

// maxBreakpoints is the most cache_control markers a request may carry.
const maxBreakpoints = 4

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// decodeMessagesRequest decodes body strictly: like the real API, a field
// it does not know is an error ("Extra inputs are not permitted").
func decodeMessagesRequest(body []byte) (MessagesRequest, error) {
	var req MessagesRequest
	if err := strictDecode(body, &req); err != nil {
		return MessagesRequest{}, fmt.Errorf("invalid request body: %w", err)
	}
	return req, nil
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// thinkingOn reports whether the model thinks on this request: an omitted
// thinking field is adaptive thinking, the default of claude-sonnet-5-5
// (platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5).
func (r MessagesRequest) thinkingOn() bool {
	return r.Thinking == nil || r.Thinking.Type != "disabled"
}

// thinkingKey identifies the thinking configuration: changing it drops the
// cached messages (prompt caching, "What invalidates the cache").
func (r MessagesRequest) thinkingKey() string {
	if r.Thinking == nil {
		return "default"
	}
	return fmt.Sprintf("%s/%d", r.Thinking.Type, r.Thinking.BudgetTokens)
}
