package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"

	"github.com/duet-company/ops-skill/internal/llm"
)

// Request shaping, per the Messages API reference
// (platform.claude.com/docs/en/api/messages), tool use
// (platform.claude.com/docs/en/agents-and-tools/tool-use/implement-tool-use)
// and prompt caching (platform.claude.com/docs/en/build-with-claude/prompt-caching).
const (
	// emptySchema is sent for a tool that declares no parameters.
	emptySchema = `{"type":"object","properties":{}}`
	// noOutput is sent as the content of a tool result that has none.
	noOutput = "(no output)"
	// noText stands in for an assistant message with neither text nor
	// calls: the API rejects an empty text block and an empty message.
	noText = "(no text)"
)

// Kinds of llm.ReasoningBlock this adapter writes and replays: the Messages
// API's block types.
const (
	KindThinking         = "thinking"
	KindRedactedThinking = "redacted_thinking"
)

// params maps an llm.Request onto the SDK's request. Prompt caching marks
// three of the four breakpoints the API allows: the last tool (the tools
// are the head of the prompt: tools, system, messages), the system prompt,
// and the last block of the last message, so that each turn of a tool loop
// reads the whole conversation before it from the cache (the API looks up
// to 20 blocks back from a breakpoint for an earlier entry).
func (c *Client) params(req llm.Request) (sdk.MessageNewParams, error) {
	if req.MaxTokens < 0 {
		return sdk.MessageNewParams{}, fmt.Errorf("max tokens %d is negative", req.MaxTokens)
	}
	maxTokens := req.MaxTokens
	if maxTokens == 0 {
		maxTokens = defaultMaxTokens
	}
	out := sdk.MessageNewParams{Model: sdk.Model(c.model), MaxTokens: int64(maxTokens)}
	system, msgs, err := messages(req.Messages)
	if err != nil {
		return sdk.MessageNewParams{}, err
	}
	if system != "" {
		out.System = []sdk.TextBlockParam{{Text: system, CacheControl: sdk.NewCacheControlEphemeralParam()}}
	}
	out.Messages = msgs
	if out.Tools, err = tools(req.Tools); err != nil {
		return sdk.MessageNewParams{}, err
	}
	if out.ToolChoice, err = toolChoice(req.ToolChoice, len(out.Tools) > 0); err != nil {
		return sdk.MessageNewParams{}, err
	}
	r := reasoningFor(c.model, c.effort, maxTokens)
	out.Thinking = r.thinking
	if r.effort != "" {
		out.OutputConfig = sdk.OutputConfigParam{Effort: r.effort}
	}
	return out, nil
}

// toolChoice is auto or none. Forced tool use (any, tool) is never sent:
// with thinking the API rejects it (Claude Sonnet 5.5 always does).
func toolChoice(tc llm.ToolChoice, haveTools bool) (sdk.ToolChoiceUnionParam, error) {
	switch tc {
	case "":
		return sdk.ToolChoiceUnionParam{}, nil
	case llm.ToolChoiceAuto, llm.ToolChoiceNone:
	default:
		return sdk.ToolChoiceUnionParam{}, fmt.Errorf("unknown tool choice %q", tc)
	}
	if !haveTools {
		// Without tools there is nothing to choose: "none" holds anyway.
		return sdk.ToolChoiceUnionParam{}, nil
	}
	if tc == llm.ToolChoiceNone {
		return sdk.ToolChoiceUnionParam{OfNone: &sdk.ToolChoiceNoneParam{}}, nil
	}
	return sdk.ToolChoiceUnionParam{OfAuto: &sdk.ToolChoiceAutoParam{}}, nil
}

// tools maps the tool specs, the schema sent as it is; the last one carries
// the first cache breakpoint.
func tools(specs []llm.ToolSpec) ([]sdk.ToolUnionParam, error) {
	var out []sdk.ToolUnionParam
	for _, t := range specs {
		schema := t.Parameters
		if len(schema) == 0 {
			schema = json.RawMessage(emptySchema)
		}
		var obj map[string]any
		if err := json.Unmarshal(schema, &obj); err != nil {
			return nil, fmt.Errorf("tool %q: parameters are not a JSON object", t.Name)
		}
		tool := &sdk.ToolParam{Name: t.Name, InputSchema: param.Override[sdk.ToolInputSchemaParam](schema)}
		if t.Description != "" {
			tool.Description = param.NewOpt(t.Description)
		}
		out = append(out, sdk.ToolUnionParam{OfTool: tool})
	}
	if n := len(out); n > 0 {
		out[n-1].OfTool.CacheControl = sdk.NewCacheControlEphemeralParam()
	}
	return out, nil
}

// side is one author of the alternating messages.
type side int

const (
	userSide side = iota
	assistantSide
)

// turn is one message being built.
type turn struct {
	side   side
	blocks []sdk.ContentBlockParamUnion
}

// messages splits off the system prompt and maps the rest onto alternating
// user and assistant messages: consecutive messages of one side are merged
// (tool results of one turn become one user message, their tool_result
// blocks first, as the API requires). The last block of the last message
// carries the moving cache breakpoint.
func messages(in []llm.Message) (string, []sdk.MessageParam, error) {
	var system []string
	var turns []turn
	for i, m := range in {
		if m.Role == llm.RoleSystem {
			system = append(system, m.Content)
			continue
		}
		who, blocks, err := blocksOf(m)
		if err != nil {
			return "", nil, fmt.Errorf("message %d: %w", i, err)
		}
		if n := len(turns); n > 0 && turns[n-1].side == who {
			turns[n-1].blocks = merge(turns[n-1].blocks, blocks)
			continue
		}
		turns = append(turns, turn{side: who, blocks: blocks})
	}
	if n := len(turns); n > 0 {
		markLast(turns[n-1].blocks)
	}
	out := make([]sdk.MessageParam, 0, len(turns))
	for _, t := range turns {
		if t.side == userSide {
			out = append(out, sdk.MessageParam{OfUser: &sdk.UserMessageParam{Content: t.blocks}})
		} else {
			out = append(out, sdk.MessageParam{OfAssistant: &sdk.AssistantMessageParam{Content: t.blocks}})
		}
	}
	return strings.Join(system, "\n\n"), out, nil
}

// merge appends blocks to a message's, keeping tool results first.
func merge(have, add []sdk.ContentBlockParamUnion) []sdk.ContentBlockParamUnion {
	var results, rest []sdk.ContentBlockParamUnion
	for _, b := range append(have, add...) {
		if b.OfToolResult != nil {
			results = append(results, b)
		} else {
			rest = append(rest, b)
		}
	}
	return append(results, rest...)
}

func blocksOf(m llm.Message) (side, []sdk.ContentBlockParamUnion, error) {
	switch m.Role {
	case llm.RoleUser:
		return userSide, []sdk.ContentBlockParamUnion{sdk.NewTextBlock(orText(m.Content, noText))}, nil
	case llm.RoleTool:
		if m.ToolCallID == "" {
			return 0, nil, errors.New("tool result without a tool call id")
		}
		result := &sdk.ToolResultBlockParam{ToolUseID: m.ToolCallID,
			Content: []sdk.ToolResultBlockParamContentUnion{{OfText: &sdk.TextBlockParam{Text: orText(m.Content, noOutput)}}}}
		return userSide, []sdk.ContentBlockParamUnion{{OfToolResult: result}}, nil
	case llm.RoleAssistant:
		blocks, err := assistantBlocks(m)
		return assistantSide, blocks, err
	}
	return 0, nil, fmt.Errorf("unknown role %q", m.Role)
}

// assistantBlocks replays an assistant message as the API returned it:
// its thinking blocks first, unmodified and with their signatures (a tool
// loop with thinking is rejected otherwise), then its text, then its calls.
func assistantBlocks(m llm.Message) ([]sdk.ContentBlockParamUnion, error) {
	var out []sdk.ContentBlockParamUnion
	for i, r := range m.Reasoning {
		switch r.Kind {
		case KindThinking:
			out = append(out, sdk.ContentBlockParamUnion{OfThinking: &sdk.ThinkingBlockParam{Thinking: r.Text, Signature: r.Signature}})
		case KindRedactedThinking:
			out = append(out, sdk.ContentBlockParamUnion{OfRedactedThinking: &sdk.RedactedThinkingBlockParam{Data: r.Data}})
		default:
			return nil, fmt.Errorf("reasoning block %d has kind %q, not one of Anthropic's", i, r.Kind)
		}
	}
	if m.Content != "" || len(m.ToolCalls) == 0 {
		out = append(out, sdk.NewTextBlock(orText(m.Content, noText)))
	}
	for i, tc := range m.ToolCalls {
		args := tc.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		var input map[string]any
		if err := json.Unmarshal([]byte(args), &input); err != nil {
			return nil, fmt.Errorf("tool call %d (%s): arguments are not a JSON object", i, tc.Name)
		}
		out = append(out, sdk.ContentBlockParamUnion{OfToolUse: &sdk.ToolUseBlockParam{ID: tc.ID, Name: tc.Name, Input: json.RawMessage(args)}})
	}
	return out, nil
}

// markLast puts the moving cache breakpoint on the last block of a
// message, if that block can carry one (a thinking block cannot).
func markLast(blocks []sdk.ContentBlockParamUnion) {
	if len(blocks) == 0 {
		return
	}
	if cc := blocks[len(blocks)-1].GetCacheControl(); cc != nil {
		*cc = sdk.NewCacheControlEphemeralParam()
	}
}

func orText(s, placeholder string) string {
	if strings.TrimSpace(s) == "" {
		return placeholder
	}
	return s
}
