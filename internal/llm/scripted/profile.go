package scripted

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
)

// Profile makes the server check requests and shape replies as one
// provider's server does, by the rules its documentation gives (each rule
// names its page). The script still decides what the model answers.
type Profile string

// Profiles.
const (
	// ProfileOpenAI is OpenAI's Chat Completions API for a model without
	// reasoning: every request argument checked, unknown ones refused. The
	// default.
	ProfileOpenAI Profile = "openai"
	// ProfileOpenAIReasoning is OpenAI's API for a reasoning model
	// (o-series, GPT-5, GPT-6): max_tokens refused, reasoning_effort
	// checked, tools refused with an effort the model's page forbids.
	ProfileOpenAIReasoning Profile = "openai-reasoning"
	// ProfileZAI is Z.ai's chat completion: its documented fields only,
	// tool_choice "auto" only, arguments of tool calls sent as JSON
	// objects, errors with Z.ai's business codes.
	ProfileZAI Profile = "zai"
	// ProfileOllama is Ollama's OpenAI compatibility: fields it does not
	// know (tool_choice among them) ignored, arguments of earlier tool
	// calls decoded as objects, ids as Ollama makes them.
	ProfileOllama Profile = "ollama"
	// ProfileVLLM is vLLM's OpenAI-compatible server started with
	// --enable-auto-tool-choice --tool-call-parser.
	ProfileVLLM Profile = "vllm"
	// ProfileVLLMNoAutoToolChoice is vLLM started without those flags: a
	// request whose tool_choice is "auto" (the default with tools) is
	// refused with its documented 400.
	ProfileVLLMNoAutoToolChoice Profile = "vllm-no-auto-tool-choice"
)

// WithProfile makes the server answer as the profile's provider does.
func WithProfile(p Profile) Option { return func(s *Server) { s.profile = p } }

// rejection is a request the profile's server refuses.
type rejection struct {
	status int
	code   string // the provider's error code, if it gives one
	param  string // OpenAI's param
	msg    string
}

func reject(status int, code, msg string) *rejection {
	return &rejection{status: status, code: code, msg: msg}
}

// decode reads a request body as the profile's server does. The OpenAI
// field set is decoded strictly; what else a profile accepts is returned as
// extra.
func (p Profile) decode(body []byte) (ChatRequest, map[string]json.RawMessage, *rejection) {
	switch p {
	case ProfileZAI:
		return decodeZAI(body)
	case ProfileOllama, ProfileVLLM, ProfileVLLMNoAutoToolChoice:
		return decodeLenient(body)
	}
	req, err := decodeChatRequest(body)
	if err != nil {
		return ChatRequest{}, nil, reject(http.StatusBadRequest, "", err.Error())
	}
	return req, nil, nil
}

// validate applies the checks the real API applies, then the profile's.
func (p Profile) validate(req ChatRequest, extra map[string]json.RawMessage) *rejection {
	base := req
	if p == ProfileOllama {
		base.ToolChoice = nil // Ollama's request has no tool_choice: whatever is sent is ignored
	}
	if err := base.validate(); err != nil {
		return reject(http.StatusBadRequest, "", err.Error())
	}
	switch p {
	case ProfileOpenAIReasoning:
		return checkReasoning(req)
	case ProfileZAI:
		return checkZAI(req, extra)
	case ProfileOllama:
		return checkOllama(req)
	case ProfileVLLMNoAutoToolChoice:
		return checkVLLMNoAuto(req)
	}
	return nil
}

// decodeLenient decodes like Ollama's Go server and vLLM's pydantic model:
// a field the server does not know is ignored (vLLM logs it), and kept here
// as extra for tests to see.
func decodeLenient(body []byte) (ChatRequest, map[string]json.RawMessage, *rejection) {
	var req ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return ChatRequest{}, nil, reject(http.StatusBadRequest, "", "invalid request body: "+err.Error())
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(body, &fields)
	known := chatRequestFields()
	extra := map[string]json.RawMessage{}
	for k, v := range fields {
		if !known[k] {
			extra[k] = v
		}
	}
	return req, extra, nil
}

// chatRequestFields are the JSON names of ChatRequest's fields.
func chatRequestFields() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeFor[ChatRequest]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}

// splitFields decodes body as an object and splits its fields into those
// of the OpenAI request (re-encoded, to decode strictly) and the others.
func splitFields(body []byte) ([]byte, map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil {
		return nil, nil, fmt.Errorf("invalid request body: %w", err)
	}
	known := chatRequestFields()
	openai, extra := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	for k, v := range fields {
		if known[k] {
			openai[k] = v
		} else {
			extra[k] = v
		}
	}
	b, err := json.Marshal(openai)
	return b, extra, err
}

// writeError answers in the profile's error format.
func (p Profile) writeError(w http.ResponseWriter, r rejection) {
	if r.msg == "" {
		r.msg = http.StatusText(r.status)
	}
	var body any
	switch p {
	case ProfileZAI:
		body = zaiError(r.status, r.code, r.msg)
	case ProfileVLLM, ProfileVLLMNoAutoToolChoice:
		body = vllmError(r.status, r.msg)
	case ProfileOllama:
		body = ollamaError(r.status, r.msg)
	default:
		body = openAIError(r)
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_, _ = w.Write(b)
}

// callID is the id the profile's server gives the i-th tool call of the
// reply to request idx, in that server's shape.
func (p Profile) callID(idx, i int) string {
	switch p {
	case ProfileOllama:
		// Ollama's OpenAI layer: "call_" and 8 lower-case letters or digits.
		return fmt.Sprintf("call_%04x%04x", idx%0x10000, i%0x10000)
	case ProfileVLLM, ProfileVLLMNoAutoToolChoice:
		return fmt.Sprintf("chatcmpl-tool-%016x%016x", idx, i)
	case ProfileZAI:
		return fmt.Sprintf("call_zai_%d_%d", idx, i)
	}
	return fmt.Sprintf("call_%d_%d", idx, i)
}

// arguments is a tool call's arguments as the profile's server sends them:
// a JSON string, or for Z.ai the object itself when they are one (GLM may
// return arguments as an object rather than a JSON-encoded string).
func (p Profile) arguments(args string) json.RawMessage {
	if p == ProfileZAI {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(args), &obj) == nil && obj != nil {
			var compact bytes.Buffer
			if json.Compact(&compact, []byte(args)) == nil {
				return compact.Bytes()
			}
		}
	}
	b, _ := json.Marshal(args)
	return b
}
