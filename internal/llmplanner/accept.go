package llmplanner

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/duet-company/ops-skill/internal/llm"
)

// ErrNoTurn marks a reply that is not a planner turn: cut at the token
// limit, filtered by the provider, empty, or a last turn that only asked for
// tools. The agent falls back to the rules planner and says why.
var ErrNoTurn = errors.New("the model's reply is not a usable turn")

// accept checks that a reply is a turn, and says why not: the provider's
// reason and the setting to change.
func (s *session) accept(resp llm.Response, msg llm.Message, final, askedTools bool) error {
	switch resp.FinishReason {
	case llm.FinishLength:
		return fmt.Errorf("%w: the reply was cut at %d output tokens (finish_reason length); raise llm.max_tokens (LLM_MAX_TOKENS), thinking models need room before they answer", ErrNoTurn, s.p.cfg.MaxTokens)
	case llm.FinishContentFilter, llm.FinishSensitive:
		return fmt.Errorf("%w: the provider withheld the reply (finish_reason %s)", ErrNoTurn, resp.FinishReason)
	case llm.FinishNetworkError:
		return fmt.Errorf("%w: the provider lost the reply mid-way (finish_reason network_error)", ErrNoTurn)
	case llm.FinishPaused:
		return fmt.Errorf("%w: the provider paused the turn before it ended (stop_reason pause_turn)", ErrNoTurn)
	}
	switch {
	case strings.TrimSpace(msg.Content) == "" && len(msg.ToolCalls) == 0 && final && askedTools:
		return fmt.Errorf("%w: the last turn asked for tools instead of answering", ErrNoTurn)
	case strings.TrimSpace(msg.Content) == "" && len(msg.ToolCalls) == 0:
		return fmt.Errorf("%w: the reply was empty (finish_reason %q)", ErrNoTurn, resp.FinishReason)
	}
	return nil
}

// toolCallBlock is a call a model wrote as text (Hermes/Qwen templates when
// the server did not parse it): <tool_call>{"name": …, "arguments": …}</tool_call>.
var toolCallBlock = regexp.MustCompile(`(?s)<tool_call>\s*(.*?)\s*</tool_call>`)

// invalidTextCall names a call written as text that could not be read: the
// gate answers it as an unknown tool, so the turn counts as invalid.
const invalidTextCall = "unreadable_text_tool_call"

// textCall is the JSON inside a <tool_call> block.
type textCall struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// callsInText turns tool calls written as text into real calls when every
// block is unambiguous (valid JSON naming a tool the model was offered);
// otherwise each block is a call to an unknown tool, so the turn counts as
// invalid and the model is told why. The text around the blocks stays.
func (s *session) callsInText(msg llm.Message) llm.Message {
	blocks := toolCallBlock.FindAllStringSubmatch(msg.Content, -1)
	if len(blocks) == 0 || len(msg.ToolCalls) > 0 {
		return msg
	}
	known := map[string]bool{ReportTool: true}
	for _, t := range s.p.cfg.Tools {
		known[string(t.Name)] = true
	}
	var calls []llm.ToolCall
	for i, b := range blocks {
		id := "text-call-" + strconv.Itoa(s.textCalls+i+1)
		var tc textCall
		if err := json.Unmarshal([]byte(b[1]), &tc); err != nil || !known[tc.Name] {
			calls = append(calls, llm.ToolCall{ID: id, Name: invalidTextCall, Arguments: "{}"})
			continue
		}
		args := string(tc.Arguments)
		if unq, err := strconv.Unquote(args); err == nil && json.Valid([]byte(unq)) {
			args = unq // arguments given as a JSON string, as some templates write them
		}
		if args == "" {
			args = "{}"
		}
		calls = append(calls, llm.ToolCall{ID: id, Name: tc.Name, Arguments: args})
	}
	s.textCalls += len(blocks)
	msg.ToolCalls = calls
	msg.Content = strings.TrimSpace(toolCallBlock.ReplaceAllString(msg.Content, ""))
	return msg
}
