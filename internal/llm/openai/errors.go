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

// maxDetail bounds the provider text kept in an error.
const maxDetail = 300

// redacted replaces a secret in error text.
const redacted = "[REDACTED]"

// Error is a failed call. Its text never contains the API key or URL
// credentials. It matches llm.ErrProvider or llm.ErrInvalidResponse with
// errors.Is, and context.Canceled or context.DeadlineExceeded when the
// caller's context ended the call.
type Error struct {
	// Kind is llm.ErrProvider or llm.ErrInvalidResponse.
	Kind error
	// StatusCode is the HTTP status of the last attempt; 0 if there was none.
	StatusCode int
	// Detail says what went wrong, with secrets removed.
	Detail string
	// Attempts is how many HTTP requests the call made (retries included).
	Attempts int
	// Misconfigured: only a change of configuration helps (a refused key,
	// an unknown model or URL); it then matches llm.ErrMisconfigured too.
	Misconfigured bool

	cause error // a context error; never one that could carry a secret
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Kind.Error() + ": " + e.Detail
	if e.Attempts > 1 {
		msg += " (" + strconv.Itoa(e.Attempts) + " attempts)"
	}
	return msg
}

// Unwrap returns the kind and, if the context ended the call, its error.
func (e *Error) Unwrap() []error {
	errs := []error{e.Kind}
	if e.Misconfigured {
		errs = append(errs, llm.ErrMisconfigured)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// classify turns what go-openai returned into an *Error.
func (c *Client) classify(ctx context.Context, err error) *Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{Kind: llm.ErrProvider, Detail: "call abandoned: " + ctxErr.Error(), cause: ctxErr}
	}
	var apiErr *goopenai.APIError
	var reqErr *goopenai.RequestError
	switch {
	case errors.As(err, &apiErr):
		return c.statusError(apiErr.HTTPStatusCode, apiErr.Message)
	case errors.As(err, &reqErr):
		return c.statusError(reqErr.HTTPStatusCode, string(reqErr.Body))
	case isDecodeError(err):
		return &Error{Kind: llm.ErrInvalidResponse, Detail: "reply is not a chat completion: " + c.clean(err.Error())}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &Error{Kind: llm.ErrProvider, Detail: "timeout: " + c.clean(err.Error())}
	}
	return &Error{Kind: llm.ErrProvider, Detail: c.clean(err.Error())}
}

// statusError describes an HTTP error status. On 401 and 403 the provider's
// text is dropped: it may quote part of the key.
func (c *Client) statusError(status int, msg string) *Error {
	detail := fmt.Sprintf("status %d %s", status, http.StatusText(status))
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		detail += ": authentication failed, check LLM_API_KEY"
	case strings.TrimSpace(msg) != "":
		detail += ": " + c.clean(msg)
	}
	return &Error{Kind: llm.ErrProvider, StatusCode: status, Detail: detail, Misconfigured: misconfigured(status)}
}

// isDecodeError reports whether err comes from decoding the reply body.
func isDecodeError(err error) bool {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	return errors.As(err, &syntaxErr) || errors.As(err, &typeErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// clean removes every secret from text and bounds its length.
func (c *Client) clean(text string) string {
	for _, s := range c.secrets {
		text = strings.ReplaceAll(text, s, redacted)
	}
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > maxDetail {
		text = string(r[:maxDetail]) + "…"
	}
	return text
}

// misconfigured reports whether a status means the configuration is wrong:
// a refused key (401, 403) or an unknown model or URL (404).
func misconfigured(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound
}
