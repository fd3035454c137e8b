package scripted

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// ChatRequest is a chat-completions request body as the OpenAI API defines
// it. The test server decodes it with its own types, not the client library's,
// so that a wire mistake of the adapter is not hidden by a symmetric decoder.
type ChatRequest struct {
	Model               string          `json:"model"`
	Messages            []ChatMessage   `json:"messages"`
	Tools               []ChatTool      `json:"tools,omitempty"`
	ToolChoice          json.RawMessage `json:"tool_choice,omitempty"`
	MaxTokens           int             `json:"max_tokens,omitempty"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	N                   int             `json:"n,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       json.RawMessage `json:"stream_options,omitempty"`
	Stop                json.RawMessage `json:"stop,omitempty"`
	PresencePenalty     *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty,omitempty"`
	LogitBias           json.RawMessage `json:"logit_bias,omitempty"`
	LogProbs            bool            `json:"logprobs,omitempty"`
	TopLogProbs         int             `json:"top_logprobs,omitempty"`
	User                string          `json:"user,omitempty"`
	Seed                *int            `json:"seed,omitempty"`
	ResponseFormat      json.RawMessage `json:"response_format,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	Store               bool            `json:"store,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	Metadata            json.RawMessage `json:"metadata,omitempty"`
	ServiceTier         string          `json:"service_tier,omitempty"`
	Verbosity           string          `json:"verbosity,omitempty"`
	SafetyIdentifier    string          `json:"safety_identifier,omitempty"`
	Prediction          json.RawMessage `json:"prediction,omitempty"`
}

// ChatMessage is one message of a request, in wire form.
type ChatMessage struct {
	Role             string         `json:"role"`
	Content          Text           `json:"content,omitempty"`
	Name             string         `json:"name,omitempty"`
	ToolCalls        []ChatToolCall `json:"tool_calls,omitempty"`
	ToolCallID       string         `json:"tool_call_id,omitempty"`
	Refusal          string         `json:"refusal,omitempty"`
	ReasoningContent string         `json:"reasoning_content,omitempty"`
}

// ChatToolCall is a tool call in wire form (in an assistant message of a
// request, or in a reply).
type ChatToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function ChatFunction `json:"function"`
}

// ChatFunction names the function of a tool call and carries its raw
// arguments text.
type ChatFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ChatTool is one tool definition of a request.
type ChatTool struct {
	Type     string          `json:"type"`
	Function ChatFunctionDef `json:"function"`
}

// ChatFunctionDef describes a function tool: its name, description and the
// JSON schema of its parameters, kept raw as sent.
type ChatFunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      bool            `json:"strict,omitempty"`
}

// Text is message content. On the wire it is a string, null, or an array of
// content parts; Text keeps the concatenated text of the "text" parts.
type Text string

// UnmarshalJSON accepts a string, null or an array of content parts.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
		return nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("content must be a string, null or an array of parts: %w", err)
	}
	var sb strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			sb.WriteString(p.Text)
		}
	}
	*t = Text(sb.String())
	return nil
}

// chatResponse is a non-streamed chat completion.
type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             wireUsage    `json:"usage"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type chatChoice struct {
	Index        int          `json:"index"`
	Message      replyMessage `json:"message"`
	FinishReason string       `json:"finish_reason"`
}

// replyMessage sends content as null when the model only calls tools, as
// the real API does.
type replyMessage struct {
	Role      string          `json:"role"`
	Content   *string         `json:"content"`
	ToolCalls []replyToolCall `json:"tool_calls,omitempty"`
}

// replyToolCall is a tool call of a reply; its arguments are a JSON string,
// or an object where the profile's provider sends one.
type replyToolCall struct {
	ID       string        `json:"id"`
	Type     string        `json:"type"`
	Function replyFunction `json:"function"`
}

type replyFunction struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type wireUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

var functionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// decodeChatRequest decodes body strictly: like the real API, an argument
// the API does not know is an error.
func decodeChatRequest(body []byte) (ChatRequest, error) {
	var req ChatRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return ChatRequest{}, fmt.Errorf("invalid request body: %w", err)
	}
	if dec.More() {
		return ChatRequest{}, errors.New("invalid request body: trailing data after the JSON object")
	}
	return req, nil
}

// validate applies the checks the real API applies to a chat request.
func (r ChatRequest) validate() error {
	if r.Model == "" {
		return errors.New("you must provide a model parameter")
	}
	if len(r.Messages) == 0 {
		return errors.New("'messages' must contain at least one message")
	}
	if r.Stream {
		return errors.New("scripted: streaming is not supported")
	}
	if r.N > 1 {
		return errors.New("scripted: n > 1 is not supported")
	}
	if len(r.ToolChoice) > 0 && len(r.Tools) == 0 {
		return errors.New("invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified")
	}
	if err := r.validateToolChoice(); err != nil {
		return err
	}
	if err := validateTools(r.Tools); err != nil {
		return err
	}
	return validateMessages(r.Messages)
}

func (r ChatRequest) validateToolChoice() error {
	if len(r.ToolChoice) == 0 {
		return nil
	}
	var s string
	if err := json.Unmarshal(r.ToolChoice, &s); err == nil {
		switch s {
		case "auto", "none", "required":
			return nil
		}
		return fmt.Errorf("invalid value for 'tool_choice': %q", s)
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(r.ToolChoice, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
		return errors.New("invalid value for 'tool_choice': expected a string or a function choice")
	}
	return nil
}

func validateTools(tools []ChatTool) error {
	seen := map[string]bool{}
	for i, t := range tools {
		if t.Type != "function" {
			return fmt.Errorf("tools[%d].type: expected 'function', got %q", i, t.Type)
		}
		name := t.Function.Name
		if !functionName.MatchString(name) {
			return fmt.Errorf("tools[%d].function.name: %q does not match '^[a-zA-Z0-9_-]{1,64}$'", i, name)
		}
		if seen[name] {
			return fmt.Errorf("tools: duplicate function name %q", name)
		}
		seen[name] = true
		if len(t.Function.Parameters) > 0 {
			var schema map[string]any
			if err := json.Unmarshal(t.Function.Parameters, &schema); err != nil {
				return fmt.Errorf("tools[%d].function.parameters: must be a JSON object", i)
			}
		}
	}
	return nil
}

// validateMessages checks roles and the pairing of tool calls with tool
// results: every tool message answers a call of the assistant message
// before it, and every such call is answered before the next message.
func validateMessages(msgs []ChatMessage) error {
	pending := map[string]bool{}
	for i, m := range msgs {
		if m.Role != "tool" && len(pending) > 0 {
			return fmt.Errorf("messages[%d]: an assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id' (missing %s)",
				i, strings.Join(slices.Sorted(maps.Keys(pending)), ", "))
		}
		switch m.Role {
		case "system", "developer", "user":
		case "assistant":
			for j, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" {
					return fmt.Errorf("messages[%d].tool_calls[%d]: id, type 'function' and function.name are required", i, j)
				}
				pending[tc.ID] = true
			}
		case "tool":
			if m.ToolCallID == "" {
				return fmt.Errorf("messages[%d]: missing 'tool_call_id' for a message with role 'tool'", i)
			}
			if !pending[m.ToolCallID] {
				return fmt.Errorf("messages[%d]: messages with role 'tool' must be a response to a preceding message with 'tool_calls' (unknown tool_call_id %q)", i, m.ToolCallID)
			}
			if m.Content == "" {
				return fmt.Errorf("messages[%d]: 'content' is required for a message with role 'tool'", i)
			}
			delete(pending, m.ToolCallID)
		default:
			return fmt.Errorf("messages[%d].role: invalid value %q", i, m.Role)
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("messages: tool calls without a tool message responding to them: %s",
			strings.Join(slices.Sorted(maps.Keys(pending)), ", "))
	}
	return nil
}
