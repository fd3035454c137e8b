package httpx_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/llm/httpx"
)

func TestDefaultBackoffDoublesUpToItsCap(t *testing.T) {
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := httpx.DefaultBackoff(i + 1); got != w {
			t.Errorf("retry %d: %s, want %s", i+1, got, w)
		}
	}
}

func TestBoundedCutsRepliesAtTheLimit(t *testing.T) {
	tests := []struct {
		size   int
		tooBig bool
	}{{10, false}, {16, false}, {17, true}}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, strings.Repeat("a", tt.size))
		}))
		hc := &http.Client{Transport: httpx.Bounded(nil, 16)}
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if errors.Is(err, httpx.ErrReplyTooLarge) != tt.tooBig {
			t.Errorf("%d bytes: error %v, want too large %v", tt.size, err, tt.tooBig)
		}
	}
}

// A 4xx other than 408 and 429 is final; x-should-retry overrides.
func TestRetrierRetriesOnlyWhatMayPass(t *testing.T) {
	tests := []struct {
		status   int
		header   string
		attempts int
	}{{400, "", 1}, {408, "", 3}, {429, "", 3}, {529, "", 3}, {529, "false", 1}, {400, "true", 3}}
	for _, tt := range tests {
		calls := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			calls++
			if tt.header != "" {
				w.Header().Set("X-Should-Retry", tt.header)
			}
			w.WriteHeader(tt.status)
		}))
		d := &httpx.Retrier{Client: srv.Client(), Backoff: func(int) time.Duration { return 0 }, MaxRetries: 2}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
		resp, err := d.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		srv.Close()
		if calls != tt.attempts || d.Attempts() != tt.attempts {
			t.Errorf("status %d x-should-retry %q: %d calls (%d counted), want %d", tt.status, tt.header, calls, d.Attempts(), tt.attempts)
		}
	}
}
