package openai

import (
	"encoding/json"
	"errors"
	"fmt"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/duet-company/ops-skill/internal/llm"
)

// emptySchema is sent for a tool that declares no parameters.
const emptySchema = `{"type":"object","properties":{}}`

// noOutput is sent as the content of a tool result that has none: the
// providers reject an empty tool message.
const noOutput = "(no output)"

// chatRequest maps an llm.Request to go-openai's request.
func (c *Client) chatRequest(req llm.Request) (goopenai.ChatCompletionRequest, error) {
	out := goopenai.ChatCompletionRequest{Model: c.model}
	if c.useCompletionTokens {
		out.MaxCompletionTokens = req.MaxTokens
	} else {
		out.MaxTokens = req.MaxTokens
	}
	for i, m := range req.Messages {
		msg, err := chatMessage(m)
		if err != nil {
			return goopenai.ChatCompletionRequest{}, fmt.Errorf("message %d: %w", i, err)
		}
		out.Messages = append(out.Messages, msg)
	}
	for _, t := range req.Tools {
		tool, err := chatTool(t)
		if err != nil {
			return goopenai.ChatCompletionRequest{}, err
		}
		out.Tools = append(out.Tools, tool)
	}
	switch req.ToolChoice {
	case "":
	case llm.ToolChoiceAuto, llm.ToolChoiceNone:
		// The API rejects tool_choice without tools; without tools there is
		// nothing to choose, so "none" holds anyway.
		if len(out.Tools) > 0 {
			out.ToolChoice = string(req.ToolChoice)
		}
	default:
		return goopenai.ChatCompletionRequest{}, fmt.Errorf("unknown tool choice %q", req.ToolChoice)
	}
	if req.MaxTokens < 0 {
		return goopenai.ChatCompletionRequest{}, fmt.Errorf("max tokens %d is negative", req.MaxTokens)
	}
	return out, nil
}

func chatMessage(m llm.Message) (goopenai.ChatCompletionMessage, error) {
	out := goopenai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content}
	switch m.Role {
	case llm.RoleSystem, llm.RoleUser:
	case llm.RoleAssistant:
		for _, tc := range m.ToolCalls {
			args := tc.Arguments
			if args == "" {
				args = "{}"
			}
			out.ToolCalls = append(out.ToolCalls, goopenai.ToolCall{
				ID:       tc.ID,
				Type:     goopenai.ToolTypeFunction,
				Function: goopenai.FunctionCall{Name: tc.Name, Arguments: args},
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
	return llm.Response{
		Message: msg,
		Usage: llm.Usage{
			PromptTokens:     resp.Usage.PromptTokens,
			CompletionTokens: resp.Usage.CompletionTokens,
		},
		FinishReason: llm.FinishReason(choice.FinishReason),
	}, nil
}
