package anthropic_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/anthropic"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
)

func always(r llmtest.Reply) llmtest.Script {
	return llmtest.Func(func(llmtest.RecordedRequest) llmtest.Reply { return r })
}

// Each error status ends in an *Error that says what to change; those only
// the operator can fix match ErrConfig, and are not retried.
func TestErrorStatusesNameWhatToFix(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		config   bool
		attempts int
		want     string
	}{
		{"key refused", http.StatusUnauthorized, true, 1, "the key was refused: check LLM_API_KEY"},
		{"no permission", http.StatusForbidden, true, 1, "check LLM_API_KEY, LLM_MODEL"},
		{"unknown model", http.StatusNotFound, true, 1, "model claude-sonnet-5-5 was not found: check LLM_MODEL"},
		{"billing", http.StatusPaymentRequired, true, 1, "cannot be billed"},
		{"too large", http.StatusRequestEntityTooLarge, false, 1, "request_too_large: the request is larger than the Messages API accepts"},
		{"bad request", http.StatusBadRequest, false, 1, "invalid_request_error: bad thing"},
		{"rate limited", http.StatusTooManyRequests, false, 3, "rate_limit_error: rate limited, still after the retries"},
		{"overloaded", 529, false, 3, "overloaded_error: Anthropic's API is overloaded"},
		{"server error", http.StatusInternalServerError, false, 3, "api_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, always(llmtest.Reply{Status: tt.status, Content: "bad thing"}), llmtest.MessagesConfig{})
			_, err := client(t, srv, anthropic.Config{}).Chat(context.Background(), request(opening("sys")))
			e := asError(t, err)
			if !errors.Is(err, llm.ErrProvider) || errors.Is(err, anthropic.ErrConfig) != tt.config {
				t.Errorf("error %v: want llm.ErrProvider, ErrConfig %v", err, tt.config)
			}
			if !strings.Contains(e.Detail, tt.want) || e.Attempts != tt.attempts || e.StatusCode != tt.status || srv.Calls() != tt.attempts {
				t.Errorf("error %+v after %d calls, want %q in %d attempts", e, srv.Calls(), tt.want, tt.attempts)
			}
		})
	}
}

func chatAsync(c *anthropic.Client) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Chat(context.Background(), request(opening("sys")))
		done <- err
	}()
	return done
}

// awaitWaiter blocks until the retry loop waits on the fake clock.
func awaitWaiter(t *testing.T, clk *clocktesting.FakeClock, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !clk.HasWaiters() {
		select {
		case err := <-done:
			t.Fatalf("call ended before waiting: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the retry never waited on the clock")
		}
		time.Sleep(time.Millisecond)
	}
}

// A 529 overload is retried after the backoff, waited on the injected
// clock; a retry-after header replaces the backoff.
func TestOverloadAndRateLimitAreRetriedOnTheInjectedClock(t *testing.T) {
	tests := []struct {
		name  string
		reply llmtest.Reply
		wait  time.Duration
	}{
		{"529 with backoff", llmtest.Reply{Status: 529}, 500 * time.Millisecond},
		{"429 with retry-after", llmtest.Reply{Status: 429, Header: map[string]string{"Retry-After": "7"}}, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, llmtest.Steps(tt.reply, llmtest.Reply{Content: "ok"}), llmtest.MessagesConfig{})
			clk := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
			c := client(t, srv, anthropic.Config{}, anthropic.WithClock(clk), anthropic.WithBackoff(func(int) time.Duration { return 500 * time.Millisecond }))
			done := chatAsync(c)
			awaitWaiter(t, clk, done)
			clk.Step(tt.wait - time.Millisecond)
			if srv.Calls() != 1 {
				t.Fatalf("%d calls before the wait ended, want 1", srv.Calls())
			}
			clk.Step(time.Millisecond)
			if err := <-done; err != nil || srv.Calls() != 2 {
				t.Errorf("error %v after %d calls, want success on the retry", err, srv.Calls())
			}
		})
	}
}

func TestAttemptTimeoutNamesItsSetting(t *testing.T) {
	srv := serve(t, always(llmtest.Reply{Content: "late", Delay: time.Minute}), llmtest.MessagesConfig{})
	_, err := client(t, srv, anthropic.Config{Timeout: 50 * time.Millisecond, MaxRetries: -1}).Chat(context.Background(), request(opening("sys")))
	if e := asError(t, err); !strings.Contains(e.Detail, "llm.attempt_timeout (LLM_ATTEMPT_TIMEOUT)") || !strings.Contains(e.Detail, "50ms") {
		t.Errorf("error %v, want the attempt timeout named", err)
	}
}

func TestMalformedOrHugeRepliesAreInvalidResponses(t *testing.T) {
	tests := map[string]string{
		"not JSON":  `{"type": "message", "content": [`,
		"too large": `{"type":"message","role":"assistant","content":[{"type":"text","text":"` + strings.Repeat("a", 1<<20) + `"}]}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, always(llmtest.Reply{RawBody: body}), llmtest.MessagesConfig{})
			_, err := client(t, srv, anthropic.Config{MaxRetries: -1}).Chat(context.Background(), request(opening("sys")))
			if !errors.Is(err, llm.ErrInvalidResponse) {
				t.Errorf("error %v, want llm.ErrInvalidResponse", err)
			}
		})
	}
}

// The key, header values and URL credentials never reach an error, even
// when the provider quotes them back.
func TestSecretsNeverAppearInErrors(t *testing.T) {
	header := "wrkspc_" + strings.Repeat("s", 10)
	echo := "you sent " + testKey + " and " + header
	for _, status := range []int{400, 401, 500} {
		srv := serve(t, always(llmtest.Reply{Status: status, Content: echo}), llmtest.MessagesConfig{})
		_, err := client(t, srv, anthropic.Config{Headers: []string{"anthropic-workspace-id: " + header}, MaxRetries: -1}).Chat(context.Background(), request(opening("sys")))
		if err == nil || strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), header) {
			t.Errorf("status %d: error %v leaks a secret", status, err)
		}
	}
	c, err := anthropic.New(anthropic.Config{APIKey: testKey, BaseURL: "http://user:" + header + "@127.0.0.1:1", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chat(context.Background(), request(opening("sys")))
	if err == nil || strings.Contains(err.Error(), header) || strings.Contains(err.Error(), testKey) {
		t.Errorf("transport error %v leaks a secret", err)
	}
}
