package anthropic

import (
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/duet-company/ops-skill/internal/llm"
)

// finishReasons maps the Messages API's stop_reason
// (platform.claude.com/docs/en/api/messages, "stop_reason") onto the
// provider-neutral finish reasons; one it does not know is kept raw.
var finishReasons = map[sdk.StopReason]llm.FinishReason{
	sdk.StopReasonEndTurn:      llm.FinishStop,
	sdk.StopReasonStopSequence: llm.FinishStop,
	sdk.StopReasonToolUse:      llm.FinishToolCalls,
	sdk.StopReasonMaxTokens:    llm.FinishLength,
	sdk.StopReasonRefusal:      llm.FinishContentFilter,
	sdk.StopReasonPauseTurn:    llm.FinishPaused,
}

// response maps the SDK's message onto an llm.Response: text blocks joined
// into Content, tool_use blocks into ToolCalls (the input JSON passed on
// verbatim: it is untrusted and decoded by the registry), thinking and
// redacted_thinking blocks into Reasoning, to be replayed verbatim.
func (c *Client) response(m *sdk.Message) (llm.Response, error) {
	if m == nil {
		return llm.Response{}, &Error{Kind: llm.ErrInvalidResponse, Detail: "reply is empty"}
	}
	msg := llm.Message{Role: llm.RoleAssistant}
	var text []string
	for i, b := range m.Content {
		switch b.Type {
		case "text":
			if b.Text != "" {
				text = append(text, b.Text)
			}
		case KindThinking:
			msg.Reasoning = append(msg.Reasoning, llm.ReasoningBlock{Kind: KindThinking, Text: b.Thinking, Signature: b.Signature})
		case KindRedactedThinking:
			msg.Reasoning = append(msg.Reasoning, llm.ReasoningBlock{Kind: KindRedactedThinking, Data: b.Data})
		case "tool_use":
			if b.ID == "" || b.Name == "" {
				return llm.Response{}, &Error{Kind: llm.ErrInvalidResponse, Detail: fmt.Sprintf("tool_use block %d has no id or name", i)}
			}
			args := string(b.Input)
			if strings.TrimSpace(args) == "" || args == "null" {
				args = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: args})
		}
	}
	msg.Content = strings.Join(text, "\n\n")
	finish, ok := finishReasons[m.StopReason]
	if !ok {
		finish = llm.FinishReason(c.clean(string(m.StopReason)))
	}
	return llm.Response{Message: msg, Usage: usage(m.Usage), FinishReason: finish}, nil
}

// usage counts every input token: the uncached ones, those read from the
// prompt cache and those written to it (the API reports the three apart;
// platform.claude.com/docs/en/build-with-claude/prompt-caching, "Tracking
// cache performance").
func usage(u sdk.Usage) llm.Usage {
	return llm.Usage{
		PromptTokens:       int(u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens),
		CompletionTokens:   int(u.OutputTokens),
		CachedPromptTokens: int(u.CacheReadInputTokens),
		CacheWriteTokens:   int(u.CacheCreationInputTokens),
	}
}
