package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/duet-company/ops-skill/internal/llm"
)

// ErrFinalRateLimit is a rate limit no retry lifts: the provider's error
// code says the account or plan cannot serve more (Z.ai's 1113, no
// balance). The error says the fix.
var ErrFinalRateLimit = errors.New("a rate limit no retry lifts")

// Error is a failed call (llm.CallError). Its Code is the provider's error
// code (Z.ai's business codes, OpenAI's codes); its Meaning ErrFinalRateLimit
// or ErrConfig when the provider's reply says retrying is pointless.
type Error = llm.CallError

// classify turns what go-openai returned into an *Error.
func (c *Client) classify(ctx context.Context, err error) *Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return llm.Abandoned(ctxErr)
	}
	var apiErr *goopenai.APIError
	var reqErr *goopenai.RequestError
	switch {
	case errors.As(err, &apiErr):
		return c.statusError(apiErr.HTTPStatusCode, apiErr.Message, codeText(apiErr.Code))
	case errors.As(err, &reqErr):
		return c.statusError(reqErr.HTTPStatusCode, string(reqErr.Body), errorCode(reqErr.Body))
	case isDecodeError(err):
		return &Error{Kind: llm.ErrInvalidResponse, Detail: "reply is not a chat completion: " + c.clean(err.Error())}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &Error{Kind: llm.ErrProvider, Detail: fmt.Sprintf("an attempt timed out after %s: raise llm.attempt_timeout (LLM_ATTEMPT_TIMEOUT) for a slow model: %s",
			c.timeout, c.clean(err.Error()))}
	}
	return &Error{Kind: llm.ErrProvider, Detail: c.clean(err.Error())}
}

// statusError describes an HTTP error status. On 401 and 403 the provider's
// text is dropped: it may quote part of the key. A code the profile knows
// as final, or a reply that says the server is not set up for tool
// calling, says its fix.
func (c *Client) statusError(status int, msg, code string) *Error {
	e := &Error{Kind: llm.ErrProvider, StatusCode: status, Code: c.clean(code)}
	e.Detail = fmt.Sprintf("status %d %s", status, http.StatusText(status))
	if e.Code != "" && e.Code != strconv.Itoa(status) {
		e.Detail += " (code " + e.Code + ")"
	}
	e.Misconfigured = misconfigured(status)
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		e.Detail += ": authentication failed, check LLM_API_KEY"
		return e
	}
	if f, ok := c.profile.FinalRateLimit(code); ok && status == http.StatusTooManyRequests {
		e.Meaning, e.Detail = ErrFinalRateLimit, e.Detail+": "+f.Fix
	}
	for _, s := range c.profile.SetupErrors {
		if status == s.Status && strings.Contains(msg, s.Match) {
			e.Meaning, e.Detail = ErrConfig, e.Detail+": "+s.Fix
		}
	}
	if strings.TrimSpace(msg) != "" {
		e.Detail += ": " + c.clean(msg)
	}
	e.Misconfigured = e.Misconfigured || e.Meaning != nil // no balance, or a server not set up: only configuration helps
	return e
}

// codeText is an error code as go-openai decoded it: a string, or a number
// (Z.ai's codes are strings, vLLM's the status as a number).
func codeText(code any) string {
	switch v := code.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// errorCode reads the code of an error body, {"error": {"code": …}} or
// {"code": …}; "" when there is none.
func errorCode(body []byte) string {
	var e struct {
		Error *struct {
			Code any `json:"code"`
		} `json:"error"`
		Code any `json:"code"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Error != nil {
		return codeText(e.Error.Code)
	}
	return codeText(e.Code)
}

// isDecodeError reports whether err comes from decoding the reply body.
func isDecodeError(err error) bool {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	return errors.As(err, &syntaxErr) || errors.As(err, &typeErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// clean removes every secret from text and bounds its length.
func (c *Client) clean(text string) string { return llm.Clean(text, c.secrets) }

// misconfigured reports whether a status means the configuration is wrong:
// a refused key (401, 403) or an unknown model or URL (404).
func misconfigured(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound
}
