package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/httpx"
)

// Error is a failed call (llm.CallError). Its Code is the API's error type
// (authentication_error, overloaded_error…). It matches ErrConfig too when
// only the operator can fix it (a refused key, an unknown model, billing).
type Error = llm.CallError

// classify turns what the SDK returned into an *Error.
func (c *Client) classify(ctx context.Context, err error) *Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return llm.Abandoned(ctxErr)
	}
	var apiErr *sdk.Error
	var netErr net.Error
	switch {
	case errors.As(err, &apiErr):
		return c.apiError(apiErr)
	case errors.Is(err, httpx.ErrReplyTooLarge):
		return &Error{Kind: llm.ErrInvalidResponse, Detail: fmt.Sprintf("%s (%d bytes at most)", httpx.ErrReplyTooLarge, httpx.MaxReplyBytes)}
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: llm.ErrProvider, Detail: fmt.Sprintf("an attempt got no reply within %s: raise llm.attempt_timeout (LLM_ATTEMPT_TIMEOUT)", c.timeout)}
	case strings.Contains(err.Error(), "streaming is required"):
		return &Error{Kind: llm.ErrProvider, Misconfigured: true, Meaning: ErrConfig, Detail: "max_tokens is too large for a non-streamed reply: lower llm.max_tokens (LLM_MAX_TOKENS)"}
	case isDecodeError(err):
		return &Error{Kind: llm.ErrInvalidResponse, Detail: "reply is not a Messages API message: " + c.clean(err.Error())}
	}
	return &Error{Kind: llm.ErrProvider, Detail: c.clean(err.Error())}
}

// apiError describes an error reply by its status and type
// (platform.claude.com/docs/en/api/errors). On 401 and 403 the provider's
// text is dropped: it may quote part of the key.
func (c *Client) apiError(e *sdk.Error) *Error {
	typ := string(e.Type())
	out := &Error{Kind: llm.ErrProvider, StatusCode: e.StatusCode, Code: typ}
	head := fmt.Sprintf("status %d", e.StatusCode)
	if typ != "" {
		head += " " + typ
	}
	msg := c.clean(e.Message)
	switch {
	case e.StatusCode == http.StatusUnauthorized || typ == "authentication_error":
		out.Misconfigured, out.Meaning, out.Detail = true, ErrConfig, head+": the key was refused: check LLM_API_KEY"
	case e.StatusCode == http.StatusForbidden || typ == "permission_error":
		out.Misconfigured, out.Meaning, out.Detail = true, ErrConfig, head+": the key may not use this model or workspace: check LLM_API_KEY, LLM_MODEL and any anthropic-workspace-id in LLM_HEADERS"
	case e.StatusCode == http.StatusNotFound || typ == "not_found_error":
		out.Misconfigured, out.Meaning, out.Detail = true, ErrConfig, fmt.Sprintf("%s: model %s was not found: check LLM_MODEL%s", head, c.model, c.urlHint())
	case e.StatusCode == http.StatusPaymentRequired || typ == "billing_error":
		out.Misconfigured, out.Meaning, out.Detail = true, ErrConfig, head+": the Anthropic account cannot be billed: check its plan and credit"+suffix(msg)
	case e.StatusCode == http.StatusRequestEntityTooLarge || typ == "request_too_large":
		out.Detail = head + ": the request is larger than the Messages API accepts" + suffix(msg)
	case e.StatusCode == http.StatusTooManyRequests || typ == "rate_limit_error":
		out.Detail = head + ": rate limited, still after the retries" + suffix(msg)
	case e.StatusCode == 529 || typ == "overloaded_error":
		out.Detail = head + ": Anthropic's API is overloaded, still after the retries" + suffix(msg)
	default:
		out.Detail = head + suffix(msg)
	}
	return out
}

func (c *Client) urlHint() string {
	if c.customURL {
		return " (or LLM_BASE_URL)"
	}
	return ""
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// isDecodeError reports whether err comes from decoding the reply body.
func isDecodeError(err error) bool {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	// The SDK's decoder wraps what it could not read in its own text.
	msg := err.Error()
	return strings.Contains(msg, "parsing response json") || strings.Contains(msg, "unmarshal")
}

// clean removes every secret from text and bounds its length.
func (c *Client) clean(text string) string { return llm.Clean(text, c.secrets) }
