package httpx

import (
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
	// MaxRetryAfter is the longest Retry-After a Retrier waits for; a
	// provider asking for more is not retried.
	MaxRetryAfter = 30 * time.Second
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

// Retrier sends one request, retrying 408, 429, 5xx (Anthropic's 529
// overload included) and transport failures with backoff on the injected
// clock. A Retry-After (or retry-after-ms) header replaces the backoff when
// it is at most MaxRetryAfter; an x-should-retry header, where a provider
// sends one, decides. A Retrier serves one call: Attempts counts its
// requests. It is not safe for concurrent use.
type Retrier struct {
	Client     *http.Client
	Clock      clock.Clock
	Backoff    Backoff
	MaxRetries int
	// Final, when set, may say that a reply no retry can help (a 429
	// whose error code means the account has no balance) is returned at
	// once. It may read the body if it puts it back.
	Final func(*http.Response) bool

	attempts int
}

// Attempts is the number of requests sent so far.
func (d *Retrier) Attempts() int { return d.attempts }

// Do sends req, retrying as the type says.
func (d *Retrier) Do(req *http.Request) (*http.Response, error) {
	for retry := 0; ; retry++ {
		attempt, err := rewind(req, retry)
		if err != nil {
			return nil, err
		}
		d.attempts++
		resp, err := d.Client.Do(attempt)
		if retry >= d.MaxRetries || !retryable(req.Context(), resp, err) || (err == nil && d.Final != nil && d.Final(resp)) {
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
	if retry == 0 || req.Body == nil || req.Body == http.NoBody {
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
	switch resp.Header.Get("X-Should-Retry") {
	case "true":
		return true
	case "false":
		return false
	}
	switch s := resp.StatusCode; {
	case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests:
		return true
	default:
		return s >= 500
	}
}

// delay is the wait before the given retry; ok is false when the server
// asks for a wait longer than MaxRetryAfter.
func (d *Retrier) delay(resp *http.Response, retry int) (time.Duration, bool) {
	if resp != nil {
		if wait, found := d.retryAfter(resp.Header); found {
			return wait, wait <= MaxRetryAfter
		}
	}
	backoff := d.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	return backoff(retry), true
}

func (d *Retrier) retryAfter(h http.Header) (time.Duration, bool) {
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
		return max(0, at.Sub(d.clock().Now())), true
	}
	return 0, false
}

func (d *Retrier) clock() clock.Clock {
	if d.Clock == nil {
		return clock.RealClock{}
	}
	return d.Clock
}

// sleep waits on the injected clock, or until ctx ends.
func (d *Retrier) sleep(ctx context.Context, wait time.Duration) error {
	if wait <= 0 {
		return ctx.Err()
	}
	t := d.clock().NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
