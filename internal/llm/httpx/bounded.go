// Package httpx holds the HTTP plumbing the LLM adapters share: a transport
// that bounds every reply body, and a doer that retries transient failures
// with backoff on an injected clock, honouring the provider's Retry-After.
package httpx

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxReplyBytes bounds the body of a provider's reply: a planner turn is a
// few KiB; a misbehaving model's megabytes would otherwise be read, kept and
// sent back in the next request.
const MaxReplyBytes = 1 << 20

// ErrReplyTooLarge is a reply body over the bound.
var ErrReplyTooLarge = errors.New("the provider's reply is larger than ops-skill reads")

// Bounded returns a transport that cuts every reply body at limit bytes:
// reading past it fails with ErrReplyTooLarge.
func Bounded(next http.RoundTripper, limit int64) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return bounded{next: next, limit: limit}
}

type bounded struct {
	next  http.RoundTripper
	limit int64
}

func (b bounded) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &boundedBody{rc: resp.Body, left: b.limit, limit: b.limit}
	return resp, nil
}

type boundedBody struct {
	rc          io.ReadCloser
	left, limit int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w (%d bytes at most)", ErrReplyTooLarge, b.limit)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }
