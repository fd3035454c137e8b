package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/provider"
)

// emptySchema is sent for a tool that declares no parameters.
const emptySchema = `{"type":"object","properties":{}}`

// noOutput is sent as the content of a tool result that has none: the
// providers reject an empty tool message.
const noOutput = "(no output)"

// chatRequest maps an llm.Request to go-openai's request, as the profile
// says: the token limit field, the effort, and tools and tool_choice.
func (c *Client) chatRequest(req llm.Request) (goopenai.ChatCompletionRequest, error) {
	if req.MaxTokens < 0 {
		return goopenai.ChatCompletionRequest{}, fmt.Errorf("max tokens %d is negative", req.MaxTokens)
	}
	out := goopenai.ChatCompletionRequest{Model: c.model, ReasoningEffort: c.wire.effort}
	if c.useCompletionTokens {
		out.MaxCompletionTokens = req.MaxTokens
	} else {
		out.MaxTokens = req.MaxTokens
	}
	for i, m := range req.Messages {
		msg, err := c.chatMessage(m)
		if err != nil {
			return goopenai.ChatCompletionRequest{}, fmt.Errorf("message %d: %w", i, err)
		}
		out.Messages = append(out.Messages, msg)
	}
	tools, choice, err := c.toolsFor(req)
	if err != nil {
		return goopenai.ChatCompletionRequest{}, err
	}
	for _, t := range tools {
		tool, err := chatTool(t)
		if err != nil {
			return goopenai.ChatCompletionRequest{}, err
		}
		out.Tools = append(out.Tools, tool)
	}
	if choice != "" {
		out.ToolChoice = choice
	}
	return out, nil
}

// toolsFor is what a request offers: the tools, and the tool_choice to send
// ("" for none). The API rejects tool_choice without tools; without tools
// there is nothing to choose, so "none" holds anyway. The forced last turn
// of a provider that takes only "auto" (Z.ai) or ignores the field (Ollama)
// goes without tools; the messages keep the earlier calls and results,
// which both accept without tools (Z.ai's message schema has assistant
// tool_calls and tool messages of their own; Ollama converts them whatever
// the request offers).
func (c *Client) toolsFor(req llm.Request) ([]llm.ToolSpec, string, error) {
	accepts := func(v string) bool { return slices.Contains(c.profile.ToolChoices, v) }
	switch req.ToolChoice {
	case "":
		return req.Tools, "", nil
	case llm.ToolChoiceAuto:
		if len(req.Tools) == 0 || !accepts("auto") {
			return req.Tools, "", nil
		}
		return req.Tools, string(llm.ToolChoiceAuto), nil
	case llm.ToolChoiceNone:
		if c.profile.LastTurn == provider.LastTurnOmitTools || len(req.Tools) == 0 {
			return nil, "", nil
		}
		return req.Tools, string(llm.ToolChoiceNone), nil
	}
	return nil, "", fmt.Errorf("unknown tool choice %q", req.ToolChoice)
}

func (c *Client) chatMessage(m llm.Message) (goopenai.ChatCompletionMessage, error) {
	out := goopenai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content}
	switch m.Role {
	case llm.RoleSystem, llm.RoleUser:
	case llm.RoleAssistant:
		for _, tc := range m.ToolCalls {
			out.ToolCalls = append(out.ToolCalls, goopenai.ToolCall{
				ID:       tc.ID,
				Type:     goopenai.ToolTypeFunction,
				Function: goopenai.FunctionCall{Name: tc.Name, Arguments: c.historyArguments(tc.Arguments)},
			})
		}
	case llm.RoleTool:
		if m.ToolCallID == "" {
			return goopenai.ChatCompletionMessage{}, errors.New("tool result without a tool call id")
		}
		out.ToolCallID = m.ToolCallID
		if out.Content == "" {
			out.Content = noOutput
		}
	default:
		return goopenai.ChatCompletionMessage{}, fmt.Errorf("unknown role %q", m.Role)
	}
	return out, nil
}

// historyArguments is an earlier call's arguments as sent back: as the
// model wrote them, "{}" when empty, and "{}" when they are not a JSON
// object for a provider that decodes them (Ollama refuses the request with
// "invalid tool call arguments" otherwise; the call's result already told
// the model they were not valid).
func (c *Client) historyArguments(args string) string {
	if strings.TrimSpace(args) == "" {
		return "{}"
	}
	if c.profile.HistoryArgsObjects {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(args), &obj) != nil || obj == nil {
			return "{}"
		}
	}
	return args
}

func chatTool(t llm.ToolSpec) (goopenai.Tool, error) {
	params := t.Parameters
	if len(params) == 0 {
		params = json.RawMessage(emptySchema)
	}
	if !json.Valid(params) {
		return goopenai.Tool{}, fmt.Errorf("tool %q: parameters are not valid JSON", t.Name)
	}
	return goopenai.Tool{
		Type: goopenai.ToolTypeFunction,
		Function: &goopenai.FunctionDefinition{
			Name:        t.Name,
			Description: t.Description,
			Parameters:  params,
		},
	}, nil
}

// response maps go-openai's reply to an llm.Response. Tool call arguments
// are passed on verbatim: they are untrusted and decoded by the registry.
func (c *Client) response(resp goopenai.ChatCompletionResponse) (llm.Response, error) {
	if len(resp.Choices) == 0 {
		return llm.Response{}, &Error{Kind: llm.ErrInvalidResponse, Detail: "reply has no choices"}
	}
	choice := resp.Choices[0]
	msg := llm.Message{Role: llm.RoleAssistant, Content: choice.Message.Content}
	for i, tc := range choice.Message.ToolCalls {
		if tc.Function.Name == "" {
			return llm.Response{}, &Error{Kind: llm.ErrInvalidResponse, Detail: fmt.Sprintf("tool call %d has no function name", i)}
		}
		if tc.Type != "" && tc.Type != goopenai.ToolTypeFunction {
			return llm.Response{}, &Error{Kind: llm.ErrInvalidResponse, Detail: fmt.Sprintf("tool call %d has type %q, not function", i, c.clean(string(tc.Type)))}
		}
		id := tc.ID
		if id == "" {
			id = fmt.Sprintf("call_ops_%d_%d", c.seq.Add(1), i)
		}
		msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: id, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	usage := llm.Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
	if d := resp.Usage.PromptTokensDetails; d != nil {
		usage.CachedPromptTokens = d.CachedTokens
	}
	// The finish reason passes as the provider wrote it: Z.ai's sensitive
	// and network_error reach the planner as llm.FinishSensitive and
	// llm.FinishNetworkError.
	return llm.Response{Message: msg, Usage: usage, FinishReason: llm.FinishReason(choice.FinishReason)}, nil
}
