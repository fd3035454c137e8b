package openai

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/duet-company/ops-skill/internal/llm/httpx"
)

// Backoff returns the wait before retry n (1 for the first retry).
type Backoff = httpx.Backoff

// DefaultBackoff doubles from 500ms up to 8s: 0.5s, 1s, 2s, 4s, 8s, 8s...
func DefaultBackoff(retry int) time.Duration { return httpx.DefaultBackoff(retry) }

// finalRateLimit returns the check of a 429's body for an error code no
// retry lifts (final says which), or nil when the profile knows none; the
// body is put back for the caller to read.
func finalRateLimit(final func(code string) bool) func(*http.Response) bool {
	if final == nil {
		return nil
	}
	return func(resp *http.Response) bool {
		if resp.StatusCode != http.StatusTooManyRequests || resp.Body == nil {
			return false
		}
		head, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		return err == nil && final(errorCode(head))
	}
}
