package openai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"k8s.io/utils/clock"
)

// Backoff bounds.
const (
	baseBackoff = 500 * time.Millisecond
	maxBackoff  = 8 * time.Second
	// maxRetryAfter is the longest Retry-After the client waits for; a
	// provider asking for more is not retried.
	maxRetryAfter = 30 * time.Second
)

// Backoff returns the wait before retry n (1 for the first retry).
type Backoff func(retry int) time.Duration

// DefaultBackoff doubles from 500ms up to 8s: 0.5s, 1s, 2s, 4s, 8s, 8s...
func DefaultBackoff(retry int) time.Duration {
	d := baseBackoff
	for i := 1; i < retry && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// retryDoer sends one request, retrying 408, 429, 5xx and transport
// failures with backoff on the injected clock. A Retry-After (or OpenAI's
// retry-after-ms) header replaces the backoff when it is short enough; a
// 429 whose error code final says no retry lifts is not retried. It serves
// one Chat call, so attempts counts that call's attempts.
type retryDoer struct {
	hc         *http.Client
	clock      clock.Clock
	backoff    Backoff
	maxRetries int
	final      func(code string) bool
	attempts   int
}

// Do implements go-openai's HTTPDoer.
func (d *retryDoer) Do(req *http.Request) (*http.Response, error) {
	for retry := 0; ; retry++ {
		attempt, err := rewind(req, retry)
		if err != nil {
			return nil, err
		}
		d.attempts++
		resp, err := d.hc.Do(attempt)
		if retry >= d.maxRetries || !retryable(req.Context(), resp, err) || d.finalRateLimit(resp) {
			return resp, err
		}
		wait, ok := d.delay(resp, retry+1)
		if !ok {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		if err := d.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// rewind returns the request for an attempt, with a fresh body after the
// first.
func rewind(req *http.Request, retry int) (*http.Request, error) {
	if retry == 0 || req.Body == nil {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("request body cannot be replayed")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

func retryable(ctx context.Context, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		return true
	}
	switch s := resp.StatusCode; {
	case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests:
		return true
	default:
		return s >= 500
	}
}

// finalRateLimit peeks at a 429's body for an error code no retry lifts;
// the body is kept for the caller to read.
func (d *retryDoer) finalRateLimit(resp *http.Response) bool {
	if d.final == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Body == nil {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return err == nil && d.final(errorCode(head))
}

// delay is the wait before the given retry; ok is false when the server
// asks for a wait longer than maxRetryAfter.
func (d *retryDoer) delay(resp *http.Response, retry int) (time.Duration, bool) {
	if resp != nil {
		if wait, found := d.retryAfter(resp.Header); found {
			return wait, wait <= maxRetryAfter
		}
	}
	return d.backoff(retry), true
}

func (d *retryDoer) retryAfter(h http.Header) (time.Duration, bool) {
	if ms, err := strconv.ParseInt(h.Get("Retry-After-Ms"), 10, 64); err == nil && ms >= 0 {
		return time.Duration(ms) * time.Millisecond, true
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(0, at.Sub(d.clock.Now())), true
	}
	return 0, false
}

// sleep waits on the injected clock, or until ctx ends.
func (d *retryDoer) sleep(ctx context.Context, wait time.Duration) error {
	if wait <= 0 {
		return ctx.Err()
	}
	t := d.clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
