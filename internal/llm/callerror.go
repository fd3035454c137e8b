package llm

import (
	"strconv"
	"strings"
)

// maxDetail bounds the provider text kept in a CallError.
const maxDetail = 300

// Redacted replaces a secret in error text.
const Redacted = "[REDACTED]"

// CallError is a failed call to a provider, as every adapter reports it.
// Its text never contains the API key, a header value or URL credentials.
// It matches Kind with errors.Is; ErrMisconfigured when only a change of
// configuration helps; Meaning, the adapter's own word for what the reply
// means; and context.Canceled or context.DeadlineExceeded when the caller's
// context ended the call.
type CallError struct {
	// Kind is ErrProvider or ErrInvalidResponse.
	Kind error
	// StatusCode is the HTTP status of the last attempt; 0 if there was none.
	StatusCode int
	// Code is the provider's error code or type from the reply body, if it
	// gave one (OpenAI's and Z.ai's codes, Anthropic's error types).
	Code string
	// Detail says what went wrong and what to change, with secrets removed.
	Detail string
	// Attempts is how many HTTP requests the call made (retries included).
	Attempts int
	// Misconfigured: only a change of configuration helps (a refused key,
	// an unknown model or URL, no balance).
	Misconfigured bool
	// Meaning is the adapter's sentinel for what the reply means (a rate
	// limit no retry lifts, a setting to fix), or nil.
	Meaning error
	// Cause is the context's error when it ended the call; never an error
	// that could carry a secret.
	Cause error
}

// Error implements error.
func (e *CallError) Error() string {
	msg := e.Kind.Error() + ": " + e.Detail
	if e.Attempts > 1 {
		msg += " (" + strconv.Itoa(e.Attempts) + " attempts)"
	}
	return msg
}

// Unwrap returns the kind, ErrMisconfigured when only configuration helps,
// the meaning and the context's error, those that are set.
func (e *CallError) Unwrap() []error {
	out := []error{e.Kind}
	if e.Misconfigured {
		out = append(out, ErrMisconfigured)
	}
	for _, err := range []error{e.Meaning, e.Cause} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// Abandoned is the error of a call the caller's context ended.
func Abandoned(ctxErr error) *CallError {
	return &CallError{Kind: ErrProvider, Detail: "call abandoned: " + ctxErr.Error(), Cause: ctxErr}
}

// Clean removes every secret from a provider's text, folds its white space
// and bounds its length, so that it can go in an error.
func Clean(text string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, Redacted)
		}
	}
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > maxDetail {
		text = string(r[:maxDetail]) + "…"
	}
	return text
}
