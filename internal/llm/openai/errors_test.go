package openai_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/llm/openai"
)

func always(r llmtest.Reply) llmtest.Script {
	return llmtest.Func(func(llmtest.RecordedRequest) llmtest.Reply { return r })
}

func asError(t *testing.T, err error) *openai.Error {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *openai.Error", err, err)
	}
	return e
}

func TestRetryableStatusIsRetriedThenSucceeds(t *testing.T) {
	for _, status := range []int{408, 429, 500, 502, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Status: status}, llmtest.Reply{Content: "ok"}))
			c := newClient(t, s, nil)
			resp, err := c.Chat(context.Background(), userRequest("x"))
			if err != nil || resp.Message.Content != "ok" || s.Calls() != 2 {
				t.Fatalf("resp %+v, err %v, calls %d", resp, err, s.Calls())
			}
		})
	}
}

func TestClientErrorStatusIsNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := llmtest.NewServer(t, always(llmtest.Reply{Status: status, Content: "no"}))
			c := newClient(t, s, nil)
			_, err := c.Chat(context.Background(), userRequest("x"))
			if !errors.Is(err, llm.ErrProvider) || errors.Is(err, llm.ErrInvalidResponse) {
				t.Fatalf("err %v", err)
			}
			if e := asError(t, err); e.StatusCode != status || e.Attempts != 1 || s.Calls() != 1 {
				t.Fatalf("status %d, attempts %d, calls %d", e.StatusCode, e.Attempts, s.Calls())
			}
		})
	}
}

func TestServerErrorExhaustsRetries(t *testing.T) {
	tests := []struct {
		name       string
		maxRetries int
		wantCalls  int
	}{
		{name: "default retries", maxRetries: 0, wantCalls: 1 + openai.DefaultMaxRetries},
		{name: "four retries", maxRetries: 4, wantCalls: 5},
		{name: "retries off", maxRetries: -1, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.NewServer(t, always(llmtest.Reply{Status: 500, Content: "boom"}))
			c := newClient(t, s, func(cfg *openai.Config) { cfg.MaxRetries = tt.maxRetries })
			_, err := c.Chat(context.Background(), userRequest("x"))
			if !errors.Is(err, llm.ErrProvider) {
				t.Fatalf("err %v", err)
			}
			e := asError(t, err)
			if e.StatusCode != 500 || e.Attempts != tt.wantCalls || s.Calls() != tt.wantCalls || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("err %q, attempts %d, calls %d", err, e.Attempts, s.Calls())
			}
		})
	}
}

// chatAsync runs Chat on another goroutine.
func chatAsync(ctx context.Context, c *openai.Client) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Chat(ctx, userRequest("x"))
		done <- err
	}()
	return done
}

// awaitWaiter returns once the client waits on the fake clock; it fails if
// the call ends first.
func awaitWaiter(t *testing.T, clk *clocktesting.FakeClock, done <-chan error) {
	t.Helper()
	for !clk.HasWaiters() {
		select {
		case err := <-done:
			t.Fatalf("call ended without waiting: %v", err)
		default:
			runtime.Gosched()
		}
	}
}

func TestBackoffWaitsOnTheInjectedClock(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
	s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Status: 503}, llmtest.Reply{Status: 503}, llmtest.Reply{Content: "ok"}))
	c, err := openai.New(openai.Config{Provider: "openai", APIKey: testKey, BaseURL: s.URL()}, openai.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	done := chatAsync(context.Background(), c)
	for _, wait := range []time.Duration{openai.DefaultBackoff(1), openai.DefaultBackoff(2)} {
		awaitWaiter(t, clk, done)
		clk.Step(wait - time.Millisecond)
		if !clk.HasWaiters() {
			t.Fatalf("retry before %s", wait)
		}
		clk.Step(time.Millisecond)
	}
	if err := <-done; err != nil || s.Calls() != 3 {
		t.Fatalf("err %v after %d calls", err, s.Calls())
	}
}

func TestRetryAfterHeaderIsHonoured(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		wait   time.Duration
	}{
		{name: "seconds", header: map[string]string{"Retry-After": "7"}, wait: 7 * time.Second},
		{name: "milliseconds", header: map[string]string{"Retry-After-Ms": "1500", "Retry-After": "9"}, wait: 1500 * time.Millisecond},
		{name: "http date", header: map[string]string{"Retry-After": time.Unix(1_700_000_012, 0).UTC().Format(http.TimeFormat)}, wait: 12 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
			s := llmtest.NewServer(t, llmtest.Steps(llmtest.Reply{Status: 429, Header: tt.header}, llmtest.Reply{Content: "ok"}))
			c := newClient(t, s, nil, openai.WithClock(clk), openai.WithBackoff(openai.DefaultBackoff))
			done := chatAsync(context.Background(), c)
			awaitWaiter(t, clk, done)
			clk.Step(tt.wait - time.Millisecond)
			if !clk.HasWaiters() {
				t.Fatalf("retried before %s", tt.wait)
			}
			clk.Step(time.Millisecond)
			if err := <-done; err != nil || s.Calls() != 2 {
				t.Fatalf("err %v after %d calls", err, s.Calls())
			}
		})
	}
}

func TestLongRetryAfterIsNotWaitedFor(t *testing.T) {
	s := llmtest.NewServer(t, always(llmtest.Reply{Status: 429, Content: "quota", Header: map[string]string{"Retry-After": "3600"}}))
	c := newClient(t, s, nil)
	_, err := c.Chat(context.Background(), userRequest("x"))
	if e := asError(t, err); !errors.Is(err, llm.ErrProvider) || e.StatusCode != 429 || s.Calls() != 1 {
		t.Fatalf("err %v after %d calls", err, s.Calls())
	}
}

func TestCancelDuringBackoffEndsTheCall(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
	s := llmtest.NewServer(t, always(llmtest.Reply{Status: 503}))
	c := newClient(t, s, nil, openai.WithClock(clk), openai.WithBackoff(openai.DefaultBackoff))
	ctx, cancel := context.WithCancel(context.Background())
	done := chatAsync(ctx, c)
	awaitWaiter(t, clk, done)
	cancel()
	err := <-done
	if !errors.Is(err, llm.ErrProvider) || !errors.Is(err, context.Canceled) || s.Calls() != 1 {
		t.Fatalf("err %v after %d calls", err, s.Calls())
	}
}

func TestMalformedReplyIsInvalidResponse(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{name: "not JSON", body: "<html>gateway</html>"},
		{name: "truncated", body: `{"choices": [`},
		{name: "empty", body: " "},
		{name: "wrong type", body: `{"choices": "many"}`},
		{name: "no choices", body: `{"id":"x","object":"chat.completion","choices":[]}`},
		{name: "tool call without name", body: `{"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}}]}`},
		{name: "tool call not a function", body: `{"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"c","type":"retrieval","function":{"name":"f"}}]}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.NewServer(t, always(llmtest.Reply{RawBody: tt.body}))
			c := newClient(t, s, nil)
			_, err := c.Chat(context.Background(), userRequest("x"))
			if !errors.Is(err, llm.ErrInvalidResponse) || errors.Is(err, llm.ErrProvider) || s.Calls() != 1 {
				t.Fatalf("err %v after %d calls", err, s.Calls())
			}
		})
	}
}

func TestContextEndsASlowCall(t *testing.T) {
	t.Run("cancelled while the server holds the reply", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := llmtest.NewServer(t, llmtest.Func(func(llmtest.RecordedRequest) llmtest.Reply {
			cancel()
			return llmtest.Reply{Content: "late", Delay: time.Hour}
		}))
		c := newClient(t, s, nil)
		_, err := c.Chat(ctx, userRequest("x"))
		if !errors.Is(err, llm.ErrProvider) || !errors.Is(err, context.Canceled) || s.Calls() != 1 {
			t.Fatalf("err %v after %d calls", err, s.Calls())
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		s := llmtest.NewServer(t, always(llmtest.Reply{Content: "late", Delay: time.Hour}))
		c := newClient(t, s, nil)
		_, err := c.Chat(ctx, userRequest("x"))
		if !errors.Is(err, llm.ErrProvider) || !errors.Is(err, context.DeadlineExceeded) || s.Calls() != 1 {
			t.Fatalf("err %v after %d calls", err, s.Calls())
		}
	})
}

func TestConfigTimeoutBoundsEachAttempt(t *testing.T) {
	t.Run("every attempt times out", func(t *testing.T) {
		s := llmtest.NewServer(t, always(llmtest.Reply{Content: "late", Delay: time.Hour}))
		c := newClient(t, s, func(cfg *openai.Config) { cfg.Timeout = 20 * time.Millisecond; cfg.MaxRetries = 1 })
		_, err := c.Chat(context.Background(), userRequest("x"))
		if !errors.Is(err, llm.ErrProvider) || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "llm.attempt_timeout (LLM_ATTEMPT_TIMEOUT)") ||
			!strings.Contains(err.Error(), "after 20ms") || s.Calls() != 2 {
			t.Fatalf("err %v after %d calls", err, s.Calls())
		}
	})
	t.Run("a timed out attempt is retried", func(t *testing.T) {
		// Only the first attempt hangs; every later one answers at once. The
		// attempt timeout leaves a loaded machine ample time for a loopback
		// answer, and a slow retry still gets "ok": nothing here depends on
		// how fast the retry is.
		s := llmtest.NewServer(t, llmtest.Func(func(r llmtest.RecordedRequest) llmtest.Reply {
			if r.Index == 0 {
				return llmtest.Reply{Delay: time.Hour}
			}
			return llmtest.Reply{Content: "ok"}
		}))
		c := newClient(t, s, func(cfg *openai.Config) { cfg.Timeout = time.Second })
		resp, err := c.Chat(context.Background(), userRequest("x"))
		if err != nil || resp.Message.Content != "ok" || s.Calls() < 2 {
			t.Fatalf("resp %+v, err %v after %d calls", resp, err, s.Calls())
		}
	})
}

func TestAuthorizationHeaderCarriesTheKey(t *testing.T) {
	t.Run("right key", func(t *testing.T) {
		s := llmtest.NewServer(t, llmtest.Steps(), llmtest.WithAPIKey(testKey))
		c := newClient(t, s, nil)
		if _, err := c.Chat(context.Background(), userRequest("x")); err != nil {
			t.Fatal(err)
		}
		if h := s.Requests()[0].Header; h.Get("Authorization") != "" || h.Get("Content-Type") != "application/json" {
			t.Fatalf("recorded header %v", h)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		s := llmtest.NewServer(t, llmtest.Steps(), llmtest.WithAPIKey("sk-other"), llmtest.AllowInvalidRequests())
		c := newClient(t, s, nil)
		_, err := c.Chat(context.Background(), userRequest("x"))
		e := asError(t, err)
		if !errors.Is(err, llm.ErrProvider) || e.StatusCode != 401 || s.Calls() != 1 || !strings.Contains(err.Error(), "LLM_API_KEY") {
			t.Fatalf("err %v after %d calls", err, s.Calls())
		}
	})
}

// closedURL is a loopback base URL nothing listens on.
func closedURL(t *testing.T, userinfo string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + userinfo + addr + "/v1"
}

func TestSecretsNeverAppearInErrors(t *testing.T) {
	echo := "Incorrect API key provided: " + testKey + "."
	tests := []struct {
		name   string
		reply  llmtest.Reply
		mutate func(*openai.Config)
	}{
		{name: "bad request echoing the key", reply: llmtest.Reply{Status: 400, Content: echo}},
		{name: "unauthorized echoing the key", reply: llmtest.Reply{Status: 401, Content: echo}},
		{name: "server error echoing the key", reply: llmtest.Reply{Status: 500, Content: echo}},
		{name: "non-JSON error body with the key", reply: llmtest.Reply{Status: 502, RawBody: "<p>" + echo + "</p>"}},
		{name: "malformed reply with the key", reply: llmtest.Reply{RawBody: `{"choices": [` + testKey}},
		{name: "tool call type with the key", reply: llmtest.Reply{RawBody: `{"choices":[{"message":{"tool_calls":[{"id":"c","type":"` + testKey + `","function":{"name":"f"}}]}}]}`}},
		{name: "connection refused, key in the URL", mutate: func(cfg *openai.Config) {
			cfg.BaseURL = closedURL(t, "ops:"+testKey+"@")
		}},
		{name: "connection refused, key as URL user", mutate: func(cfg *openai.Config) {
			cfg.APIKey = ""
			cfg.BaseURL = closedURL(t, testKey+"@")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.NewServer(t, always(tt.reply))
			c := newClient(t, s, tt.mutate)
			_, err := c.Chat(context.Background(), userRequest("x"))
			if err == nil {
				t.Fatal("no error")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(text, "SECRET123") {
					t.Fatalf("secret in error: %s", text)
				}
			}
		})
	}
}

func TestSecretsNeverAppearInConfigErrors(t *testing.T) {
	for _, cfg := range []openai.Config{
		{Provider: "bogus", APIKey: testKey},
		{Provider: "openai", APIKey: testKey, BaseURL: "ftp://u:" + testKey + "@host/v1"},
		{Provider: "openai", APIKey: testKey, BaseURL: "http://u:" + testKey + "@host/%zz"},
		{Provider: "openai", APIKey: testKey, Timeout: -time.Second},
	} {
		_, err := openai.New(cfg)
		if !errors.Is(err, openai.ErrConfig) || strings.Contains(err.Error(), "SECRET123") {
			t.Errorf("config %q: err %v", cfg.Provider, err)
		}
	}
}
