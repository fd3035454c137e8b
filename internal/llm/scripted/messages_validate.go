package scripted

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// validate applies the checks the real API documents, but for thinking
// signatures, which need the server's key (see MessagesServer.verify).
func (r MessagesRequest) validate() error {
	checks := []func() error{r.validateBasics, r.validateThinking, r.validateTools, r.validateToolChoice,
		r.validateCacheControl, r.validateMessages}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (r MessagesRequest) validateBasics() error {
	switch {
	case r.Model == "":
		return errors.New("model: Field required")
	case r.MaxTokens == nil:
		return errors.New("max_tokens: Field required")
	case *r.MaxTokens < 0:
		return errors.New("max_tokens: Input should be greater than or equal to 0")
	case len(r.Messages) == 0:
		return errors.New("messages: at least one message is required")
	case r.Stream:
		return errors.New("scripted: streaming is not supported")
	case r.thinkingOn() && (r.Temperature != nil || r.TopP != nil || r.TopK != nil):
		return errors.New("temperature, top_p and top_k may not be set while thinking is on")
	}
	for i, b := range r.System {
		if b.Type != "text" || b.Text == nil || *b.Text == "" {
			return fmt.Errorf("system.%d: system blocks must be non-empty text blocks", i)
		}
	}
	return nil
}

func (r MessagesRequest) validateThinking() error {
	effort := ""
	if r.OutputConfig != nil {
		effort = r.OutputConfig.Effort
		switch effort {
		case "", "low", "medium", "high", "xhigh", "max":
		default:
			return fmt.Errorf("output_config.effort: %q is not one of low, medium, high, xhigh, max", effort)
		}
	}
	if r.Thinking == nil {
		return nil
	}
	switch t := r.Thinking; t.Type {
	case "adaptive", "disabled":
	case "between_tools":
		if effort == "xhigh" || effort == "max" {
			return errors.New("thinking.type between_tools is available at low, medium and high effort only")
		}
	case "enabled":
		if t.BudgetTokens < 1024 {
			return errors.New("thinking.budget_tokens: Input should be greater than or equal to 1024")
		}
		if t.BudgetTokens >= *r.MaxTokens {
			return errors.New("max_tokens must be greater than thinking.budget_tokens")
		}
	default:
		return fmt.Errorf("thinking.type: %q is not one of adaptive, enabled, disabled, between_tools", t.Type)
	}
	switch d := r.Thinking.Display; d {
	case "", "summarized", "omitted":
	default:
		return fmt.Errorf("thinking.display: %q is not one of summarized, omitted", d)
	}
	return nil
}

func (r MessagesRequest) validateTools() error {
	seen := map[string]bool{}
	for i, t := range r.Tools {
		if t.Type != "" && t.Type != "custom" {
			return fmt.Errorf("tools.%d.type: scripted: only client tools are supported, not %q", i, t.Type)
		}
		if !toolName.MatchString(t.Name) {
			return fmt.Errorf("tools.%d.name: %q does not match '^[a-zA-Z0-9_-]{1,64}$'", i, t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("tools: tool names must be unique (%q)", t.Name)
		}
		seen[t.Name] = true
		var schema struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(t.InputSchema, &schema); err != nil || schema.Type != "object" {
			return fmt.Errorf("tools.%d.input_schema: must be a JSON schema object with type 'object'", i)
		}
	}
	return nil
}

// validateToolChoice refuses forced tool use with thinking: manual
// extended thinking rejects it, and so does adaptive thinking on Claude
// Sonnet 5.5 (…/thinking-tool-workflows, "Limit tool choice to auto or
// none").
func (r MessagesRequest) validateToolChoice() error {
	tc := r.ToolChoice
	if tc == nil {
		return nil
	}
	if len(r.Tools) == 0 {
		return errors.New("tool_choice may only be specified while providing tools")
	}
	switch tc.Type {
	case "auto", "none":
		return nil
	case "any", "tool":
		if tc.Type == "tool" && tc.Name == "" {
			return errors.New("tool_choice.name: Field required")
		}
		if r.thinkingOn() {
			return errors.New("Thinking may not be enabled when tool_choice forces tool use.")
		}
		return nil
	}
	return fmt.Errorf("tool_choice.type: %q is not one of auto, any, tool, none", tc.Type)
}

// validateCacheControl counts the breakpoints (at most four) and checks
// each marker; a thinking block cannot carry one.
func (r MessagesRequest) validateCacheControl() error {
	var marks []*WireCacheControl
	if r.CacheControl != nil {
		marks = append(marks, r.CacheControl)
	}
	for _, t := range r.Tools {
		marks = append(marks, t.CacheControl)
	}
	for _, b := range r.System {
		marks = append(marks, b.CacheControl)
	}
	for i, m := range r.Messages {
		for j, b := range m.Content {
			if b.CacheControl != nil && (b.Type == "thinking" || b.Type == "redacted_thinking") {
				return fmt.Errorf("messages.%d.content.%d: cache_control cannot be set on %s blocks", i, j, b.Type)
			}
			marks = append(marks, b.CacheControl)
		}
	}
	n := 0
	for _, m := range marks {
		if m == nil {
			continue
		}
		n++
		if m.Type != "ephemeral" || (m.TTL != "" && m.TTL != "5m" && m.TTL != "1h") {
			return fmt.Errorf("cache_control: type must be 'ephemeral' and ttl '5m' or '1h', got %+v", *m)
		}
	}
	if n > maxBreakpoints {
		return fmt.Errorf("A maximum of %d blocks with cache_control may be provided. Found %d.", maxBreakpoints, n)
	}
	return nil
}

// validateMessages checks the conversation: it starts with the user, the
// roles alternate, blocks are of their side, and every tool_use is answered
// by a tool_result in the next user message, results first.
func (r MessagesRequest) validateMessages() error {
	var pending map[string]bool
	for i, m := range r.Messages {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if m.Role != want {
			return fmt.Errorf("messages.%d.role: roles must alternate between 'user' and 'assistant', starting with 'user' (got %q)", i, m.Role)
		}
		if len(m.Content) == 0 {
			return fmt.Errorf("messages.%d: all messages must have non-empty content", i)
		}
		var err error
		if m.Role == "user" {
			err = validateUserBlocks(i, m.Content, pending)
			pending = nil
		} else {
			pending, err = validateAssistantBlocks(i, m.Content)
		}
		if err != nil {
			return err
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("messages: tool_use ids were found without tool_result blocks immediately after: %s", strings.Join(sortedKeys(pending), ", "))
	}
	return nil
}

func validateUserBlocks(i int, blocks WireBlocks, pending map[string]bool) error {
	answered := map[string]bool{}
	seenOther := false
	for j, b := range blocks {
		switch b.Type {
		case "text":
			if b.Text == nil || *b.Text == "" {
				return fmt.Errorf("messages.%d.content.%d.text: text content blocks must be non-empty", i, j)
			}
			seenOther = true
		case "tool_result":
			switch {
			case seenOther:
				return fmt.Errorf("messages.%d.content.%d: tool_result blocks must come first in the user message, before any other content", i, j)
			case !pending[b.ToolUseID]:
				return fmt.Errorf("messages.%d.content.%d: unexpected tool_use_id found in tool_result blocks: %s. Each tool_result block must have a corresponding tool_use block in the previous message", i, j, b.ToolUseID)
			}
			answered[b.ToolUseID] = true
		default:
			return fmt.Errorf("messages.%d.content.%d: a user message may not hold a %q block (scripted: text and tool_result only)", i, j, b.Type)
		}
	}
	var missing []string
	for id := range pending {
		if !answered[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("messages.%d: tool_use ids were found without tool_result blocks immediately after: %s", i, strings.Join(sortStrings(missing), ", "))
	}
	return nil
}

func validateAssistantBlocks(i int, blocks WireBlocks) (map[string]bool, error) {
	pending := map[string]bool{}
	for j, b := range blocks {
		switch b.Type {
		case "text":
			if b.Text == nil || *b.Text == "" {
				return nil, fmt.Errorf("messages.%d.content.%d.text: text content blocks must be non-empty", i, j)
			}
		case "thinking":
			if b.Thinking == nil || b.Signature == nil || *b.Signature == "" {
				return nil, fmt.Errorf("messages.%d.content.%d: thinking blocks need 'thinking' and 'signature'", i, j)
			}
		case "redacted_thinking":
			if b.Data == "" {
				return nil, fmt.Errorf("messages.%d.content.%d.data: Field required", i, j)
			}
		case "tool_use":
			var input map[string]any
			if b.ID == "" || b.Name == "" || json.Unmarshal(b.Input, &input) != nil {
				return nil, fmt.Errorf("messages.%d.content.%d: tool_use blocks need an id, a name and an input object", i, j)
			}
			pending[b.ID] = true
		default:
			return nil, fmt.Errorf("messages.%d.content.%d: an assistant message may not hold a %q block", i, j, b.Type)
		}
	}
	return pending, nil
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
