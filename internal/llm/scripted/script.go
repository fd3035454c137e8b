package scripted

import (
	"fmt"
	"time"
)

// DoneText is the content of the final text reply a script gives once its
// steps are used up (with the default Then policy).
const DoneText = "done"

// What a ScriptFile answers after its last step.
const (
	ThenDone   = "done"   // a final text reply DoneText (the default)
	ThenRepeat = "repeat" // the last step again, forever (a model that loops)
	ThenCycle  = "cycle"  // the steps again from the first
)

// ToolCall is a tool call a scripted model makes. Arguments is sent verbatim,
// so it may be invalid JSON on purpose.
type ToolCall struct {
	Name      string `json:"name" yaml:"name"`
	Arguments string `json:"arguments" yaml:"arguments"`
}

// Usage overrides the token counts the server reports for one reply.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens" yaml:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens" yaml:"completion_tokens"`
}

// Reply is what the server answers to one call.
type Reply struct {
	// Content is the assistant's text; with a non-200 Status it is the error
	// message.
	Content string
	// ToolCalls are the calls the model makes; the server gives them IDs
	// "call_<request index>_<position>".
	ToolCalls []ToolCall
	// Status is the HTTP status; 0 means 200. Any other status sends an error
	// body in the format of the server's profile (OpenAI's by default).
	Status int
	// ErrorCode is the provider's error code sent with a non-200 Status
	// (Z.ai's business codes, e.g. "1113"; OpenAI's, e.g.
	// "insufficient_quota"); empty: the profile's code for the status.
	ErrorCode string
	// Delay holds the answer back (on the server's clock); the wait ends early
	// when the client gives up or the test ends.
	Delay time.Duration
	// RawBody, if set, is sent exactly as the body (with Status, default 200),
	// to test malformed replies.
	RawBody string
	// Header adds response headers, e.g. "Retry-After".
	Header map[string]string
	// FinishReason overrides the finish reason ("tool_calls" when there are
	// tool calls, "stop" otherwise).
	FinishReason string
	// Usage overrides the token counts, which are otherwise estimated as one
	// token per four bytes of request body and of reply.
	Usage *Usage
	// Thinking is the reasoning a Messages API reply (StartMessages) starts
	// with when the request thinks; nil: one made-up thought, empty: none.
	// The chat-completions server ignores it.
	Thinking []Thought
}

// Script decides the reply to each call. The server calls it for every
// request that passed validation, one call at a time.
type Script interface {
	Reply(req RecordedRequest) Reply
}

// Func adapts a function to a Script.
type Func func(req RecordedRequest) Reply

// Reply calls f.
func (f Func) Reply(req RecordedRequest) Reply { return f(req) }

// Steps is a script whose i-th call (RecordedRequest.Index i) gets the i-th
// reply; after the last one every call gets the text reply DoneText. A
// request the server rejected uses up its index too.
func Steps(replies ...Reply) Script {
	return &ScriptFile{Steps: replies, Then: ThenDone}
}

// ScriptFile is a scripted model: a list of steps and what to do after them.
// LoadScript reads one from a YAML or JSON file.
type ScriptFile struct {
	Name        string
	Description string
	Steps       []Reply
	// Then is ThenDone (or empty), ThenRepeat or ThenCycle.
	Then string
}

// Reply answers the call by its index in the steps.
func (f *ScriptFile) Reply(req RecordedRequest) Reply {
	i := req.Index
	if i < len(f.Steps) {
		return f.Steps[i]
	}
	if len(f.Steps) > 0 {
		switch f.Then {
		case ThenRepeat:
			return f.Steps[len(f.Steps)-1]
		case ThenCycle:
			return f.Steps[i%len(f.Steps)]
		}
	}
	return Reply{Content: DoneText}
}

func (f *ScriptFile) validate() error {
	switch f.Then {
	case "", ThenDone, ThenRepeat, ThenCycle:
	default:
		return fmt.Errorf("then: %q is not one of %s, %s, %s", f.Then, ThenDone, ThenRepeat, ThenCycle)
	}
	if len(f.Steps) == 0 {
		return fmt.Errorf("steps: at least one step is required")
	}
	for i, s := range f.Steps {
		if s.Status != 0 && (s.Status < 100 || s.Status > 599) {
			return fmt.Errorf("steps[%d].status: %d is not an HTTP status", i, s.Status)
		}
		if s.Delay < 0 {
			return fmt.Errorf("steps[%d].delay: must not be negative", i)
		}
	}
	return nil
}
