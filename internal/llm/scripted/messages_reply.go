package scripted

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// messagesReply is a Messages API message (the 200 response).
type messagesReply struct {
	ID           string        `json:"id"`
	Type         string        `json:"type"`
	Role         string        `json:"role"`
	Model        string        `json:"model"`
	Content      []replyBlock  `json:"content"`
	StopReason   string        `json:"stop_reason"`
	StopSequence *string       `json:"stop_sequence"`
	Usage        MessagesUsage `json:"usage"`
}

type replyBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature string          `json:"signature,omitempty"`
	Data      string          `json:"data,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
}

// stopReasons maps the chat-completions finish reasons scripts use onto
// the Messages API's stop_reason; any other value is sent as it is
// (end_turn, tool_use, max_tokens, refusal, pause_turn…).
var stopReasons = map[string]string{"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens", "content_filter": "refusal"}

// message builds the reply: thinking first (when the request thinks), then
// the text, then the tool calls.
func (m *MessagesServer) message(rec RecordedRequest, req MessagesRequest, reply Reply) messagesReply {
	var blocks []replyBlock
	outChars := 0
	if req.thinkingOn() {
		blocks = m.thoughts(rec, req, reply)
		for _, b := range blocks {
			outChars += len(b.Signature) / 4 // the thinking itself, summarised or not, is billed
		}
	}
	if reply.Content != "" {
		text := reply.Content
		blocks = append(blocks, replyBlock{Type: "text", Text: &text})
		outChars += len(text)
	}
	var ids []string
	for i, tc := range reply.ToolCalls {
		id := fmt.Sprintf("toolu_%d_%d", rec.Index, i)
		ids = append(ids, id)
		blocks = append(blocks, replyBlock{Type: "tool_use", ID: id, Name: tc.Name, Input: toolInput(tc.Arguments)})
		outChars += len(tc.Name) + len(tc.Arguments)
	}
	m.issued(ids, req.thinkingOn() && len(blocks) > 0 && isThought(blocks[0]))
	if len(blocks) == 0 {
		empty := ""
		blocks = append(blocks, replyBlock{Type: "text", Text: &empty})
	}
	usage := m.cache.price(req)
	usage.OutputTokens = tokens(outChars)
	if reply.Usage != nil {
		usage = MessagesUsage{InputTokens: reply.Usage.PromptTokens, OutputTokens: reply.Usage.CompletionTokens}
	}
	return messagesReply{
		ID: fmt.Sprintf("msg_scripted_%d", rec.Index), Type: "message", Role: "assistant", Model: req.Model,
		Content: blocks, StopReason: stopReason(reply), Usage: usage,
	}
}

func stopReason(reply Reply) string {
	if r := reply.FinishReason; r != "" {
		if mapped, ok := stopReasons[r]; ok {
			return mapped
		}
		return r
	}
	if len(reply.ToolCalls) > 0 {
		return "tool_use"
	}
	return "end_turn"
}

// toolInput is a scripted call's arguments as a tool_use input: the API
// always returns an object, so text that is not JSON is sent as a JSON
// string, which a strict decoder still refuses.
func toolInput(args string) json.RawMessage {
	var v any
	if json.Unmarshal([]byte(args), &v) == nil {
		return json.RawMessage(args)
	}
	b, _ := json.Marshal(args)
	return b
}

func isThought(b replyBlock) bool { return b.Type == "thinking" || b.Type == "redacted_thinking" }

// thoughts are the reply's reasoning blocks, each signed over the model,
// the conversation before it and its text. With no Reply.Thinking the
// model thinks one made-up thought; an empty, non-nil list skips thinking
// (adaptive thinking may).
func (m *MessagesServer) thoughts(rec RecordedRequest, req MessagesRequest, reply Reply) []replyBlock {
	list := reply.Thinking
	if list == nil {
		list = []Thought{{Text: fmt.Sprintf("Request %d: weighing the alert and the tool results.", rec.Index)}}
	}
	omit := m.omitted(req)
	var out []replyBlock
	for _, t := range list {
		prefix := digest(req.Messages, replyHead(out))
		if t.Redacted {
			out = append(out, replyBlock{Type: "redacted_thinking", Data: m.seal(req.Model, prefix, "r", t.Text)})
			continue
		}
		shown := t.Text
		flag := "s"
		if omit {
			shown, flag = "", "o"
		}
		out = append(out, replyBlock{Type: "thinking", Thinking: &shown, Signature: m.seal(req.Model, prefix, flag, t.Text)})
	}
	return out
}

// omitted reports whether thinking text is withheld on this request.
func (m *MessagesServer) omitted(req MessagesRequest) bool {
	display := ""
	if req.Thinking != nil {
		display = req.Thinking.Display
	}
	return display == "omitted" || (m.cfg.OmitThinking && display != "summarized")
}

// seal is a signature (or redacted data) that carries its thinking, so the
// server can check a replayed block without remembering it.
func (m *MessagesServer) seal(model, prefix, flag, text string) string {
	payload := hex.EncodeToString([]byte(text))
	return strings.Join([]string{"v1", flag, payload, m.sign(model, prefix, flag+payload)}, ".")
}

// unseal checks a seal and returns its flag and thinking.
func (m *MessagesServer) unseal(model, prefix, seal string) (flag, text string, ok bool) {
	parts := strings.Split(seal, ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return "", "", false
	}
	if !hmac.Equal([]byte(parts[3]), []byte(m.sign(model, prefix, parts[1]+parts[2]))) {
		return "", "", false
	}
	raw, err := hex.DecodeString(parts[2])
	return parts[1], string(raw), err == nil
}

// issued remembers whether the reply that made these tool calls thought.
func (m *MessagesServer) issued(ids []string, thought bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.thought == nil {
		m.thought = map[string]bool{}
	}
	for _, id := range ids {
		m.thought[id] = thought
	}
}

// verify checks the reasoning in the history: every thinking and
// redacted_thinking block comes back exactly as this server sent it, in the
// same conversation and for the same model; and while a tool loop goes on
// with thinking on, the assistant turn that called the tools starts with
// its thinking ("Pass thinking blocks back complete and unmodified",
// …/thinking-tool-workflows).
func (m *MessagesServer) verify(req MessagesRequest) error {
	for i, msg := range req.Messages {
		if msg.Role != "assistant" {
			continue
		}
		for j, b := range msg.Content {
			if err := m.verifyBlock(req, i, j, b); err != nil {
				return err
			}
		}
	}
	return m.verifyLoop(req)
}

func (m *MessagesServer) verifyBlock(req MessagesRequest, i, j int, b WireBlock) error {
	var seal, shown string
	switch b.Type {
	case "thinking":
		seal, shown = *b.Signature, *b.Thinking
	case "redacted_thinking":
		seal = b.Data
	default:
		return nil
	}
	flag, text, ok := m.unseal(req.Model, digest(req.Messages[:i], req.Messages[i].Content[:j]), seal)
	bad := !ok || (b.Type == "redacted_thinking") != (flag == "r")
	if b.Type == "thinking" && ok {
		bad = bad || (flag == "s" && shown != text) || (flag == "o" && shown != "")
	}
	if bad {
		return fmt.Errorf("messages.%d.content.%d: Invalid `signature` in `%s` block: it was changed, or comes from another conversation or model", i, j, b.Type)
	}
	return nil
}

func (m *MessagesServer) verifyLoop(req MessagesRequest) error {
	n := len(req.Messages)
	if !req.thinkingOn() || n < 2 || !hasToolResult(req.Messages[n-1]) {
		return nil
	}
	last := req.Messages[n-2]
	first := last.Content[0]
	if first.Type == "thinking" || first.Type == "redacted_thinking" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range last.Content {
		if b.Type == "tool_use" {
			if thought, known := m.thought[b.ID]; known && !thought {
				return nil
			}
			break
		}
	}
	return fmt.Errorf("messages.%d.content.0.type: Expected `thinking` or `redacted_thinking`, but found `%s`. When `thinking` is enabled, a final `assistant` message must start with a thinking block", n-2, first.Type)
}

func hasToolResult(m WireMessage) bool {
	for _, b := range m.Content {
		if b.Type == "tool_result" {
			return true
		}
	}
	return false
}

// replyHead is the reply's blocks so far, in request form.
func replyHead(blocks []replyBlock) []WireBlock {
	out := make([]WireBlock, 0, len(blocks))
	for _, b := range blocks {
		raw, _ := json.Marshal(b)
		var w WireBlock
		_ = json.Unmarshal(raw, &w)
		out = append(out, w)
	}
	return out
}

// digest identifies a conversation prefix: the messages, then the blocks
// of the assistant turn before the one signed. Cache markers are left out:
// they move from request to request.
func digest(msgs []WireMessage, head []WireBlock) string {
	h := sha256.New()
	for _, m := range msgs {
		fmt.Fprintf(h, "%s\x00", m.Role)
		for _, b := range m.Content {
			fmt.Fprintf(h, "%s\x00", canonBlock(b))
		}
	}
	h.Write([]byte("assistant\x00"))
	for _, b := range head {
		fmt.Fprintf(h, "%s\x00", canonBlock(b))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// canonBlock is a block's canonical JSON: no cache marker, input objects
// with sorted keys.
func canonBlock(b WireBlock) string {
	b.CacheControl = nil
	if len(b.Input) > 0 {
		var v any
		if json.Unmarshal(b.Input, &v) == nil {
			b.Input, _ = json.Marshal(v)
		}
	}
	if b.Content != nil {
		inner := make(WireBlocks, len(*b.Content))
		for i, c := range *b.Content {
			c.CacheControl = nil
			inner[i] = c
		}
		b.Content = &inner
	}
	raw, _ := json.Marshal(b)
	return string(raw)
}
