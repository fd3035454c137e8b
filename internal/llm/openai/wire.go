package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/duet-company/ops-skill/internal/llm/httpx"
)

// wireDoer adapts one call's request and reply to the provider around the
// retries: the extra headers and body fields go out with the request, and a
// reply whose tool call arguments are JSON objects rather than strings (GLM
// on Z.ai, Ollama with some models, llama.cpp) is rewritten to the string
// form go-openai decodes, instead of failing the whole reply.
type wireDoer struct {
	next    *httpx.Retrier
	headers http.Header
	extra   map[string]json.RawMessage
}

// Do implements go-openai's HTTPDoer.
func (w wireDoer) Do(req *http.Request) (*http.Response, error) {
	req, err := w.prepare(req)
	if err != nil {
		return nil, err
	}
	resp, err := w.next.Do(req)
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	return stringArguments(resp), nil
}

// prepare adds the headers and the body fields; GetBody replays the result,
// so every attempt sends the same.
func (w wireDoer) prepare(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	for name, values := range w.headers {
		r.Header[name] = values
	}
	if len(w.extra) == 0 || req.Body == nil {
		return r, nil
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the request body: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("the request body is not a JSON object: %w", err)
	}
	for k, v := range w.extra {
		fields[k] = v
	}
	if body, err = json.Marshal(fields); err != nil {
		return nil, err
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return r, nil
}

// stringArguments rewrites object-valued tool call arguments of a reply to
// strings (their compact JSON text). A reply that is not JSON, or has none,
// passes as it came; a body that could not be read fails when go-openai
// reads it.
func stringArguments(resp *http.Response) *http.Response {
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return resp
	}
	if fixed, ok := rewriteArguments(body); ok {
		body = fixed
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// rewriteArguments returns the body with every choices[].message.tool_calls[]
// .function.arguments that is not a JSON string made one; ok is false when
// there was nothing to rewrite.
func rewriteArguments(body []byte) ([]byte, bool) {
	var probe struct {
		Choices []struct {
			Message struct {
				ToolCalls []struct {
					Function struct {
						Arguments json.RawMessage `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
	}
	if json.Unmarshal(body, &probe) != nil {
		return nil, false
	}
	found := false
	for _, c := range probe.Choices {
		for _, tc := range c.Message.ToolCalls {
			found = found || notString(tc.Function.Arguments)
		}
	}
	if !found {
		return nil, false
	}
	out, err := editJSON(body, func(top map[string]json.RawMessage) error {
		return editArray(top, "choices", func(choice map[string]json.RawMessage) error {
			return editObject(choice, "message", func(msg map[string]json.RawMessage) error {
				return editArray(msg, "tool_calls", func(tc map[string]json.RawMessage) error {
					return editObject(tc, "function", stringifyArguments)
				})
			})
		})
	})
	return out, err == nil
}

// notString reports whether a JSON value is present and neither a string
// nor null.
func notString(v json.RawMessage) bool {
	t := strings.TrimSpace(string(v))
	return t != "" && t != "null" && t[0] != '"'
}

func stringifyArguments(fn map[string]json.RawMessage) error {
	args, ok := fn["arguments"]
	if !ok || !notString(args) {
		return nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, args); err != nil {
		return err
	}
	s, err := json.Marshal(compact.String())
	fn["arguments"] = s
	return err
}

func editJSON(body []byte, edit func(map[string]json.RawMessage) error) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, err
	}
	if err := edit(obj); err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}

// editObject edits the object under key, if there is one.
func editObject(parent map[string]json.RawMessage, key string, edit func(map[string]json.RawMessage) error) error {
	raw, ok := parent[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	out, err := editJSON(raw, edit)
	if err == nil {
		parent[key] = out
	}
	return err
}

// editArray edits each object of the array under key, if there is one.
func editArray(parent map[string]json.RawMessage, key string, edit func(map[string]json.RawMessage) error) error {
	raw, ok := parent[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return err
	}
	for i := range items {
		out, err := editJSON(items[i], edit)
		if err != nil {
			return err
		}
		items[i] = out
	}
	out, err := json.Marshal(items)
	if err == nil {
		parent[key] = out
	}
	return err
}

// MaxReplyBytes bounds the body of a provider's reply (httpx.MaxReplyBytes).
const MaxReplyBytes = httpx.MaxReplyBytes

// ErrReplyTooLarge is a reply body over MaxReplyBytes.
var ErrReplyTooLarge = httpx.ErrReplyTooLarge
