package scripted

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// MessagesServer speaks Anthropic's Messages API (POST /v1/messages) on
// loopback and answers from the same scripts as the chat-completions
// Server: a Reply's tool calls become tool_use blocks, its Thinking
// thinking blocks, its FinishReason the stop_reason. It validates requests
// as the API documents (see MessagesRequest.validate), checks that thinking
// blocks come back unmodified, and prices each request's input against a
// prompt cache the way the API does in principle (see promptCache).
type MessagesServer struct {
	*Server
	cfg   MessagesConfig
	key   []byte // signs thinking blocks
	cache *promptCache

	mu      sync.Mutex
	usages  map[int]MessagesUsage
	thought map[string]bool // tool_use id → whether its reply started with thinking
}

// MessagesConfig shapes a MessagesServer.
type MessagesConfig struct {
	// OmitThinking returns thinking blocks with empty text and a signature
	// unless the request asks for display "summarized" — Claude Sonnet 5.5's
	// default display. False: the text is returned unless display is
	// "omitted".
	OmitThinking bool
	// MinCacheTokens is the shortest prefix the cache stores; 0 means 1024.
	// The API's minimum is model-dependent (512 to 4096 tokens, per the
	// prompt caching page); below it nothing is cached and no error is
	// raised.
	MinCacheTokens int
}

// MessagesUsage is the usage the server reported for one request.
type MessagesUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
}

// AllInput is every input token: uncached, read and written.
func (u MessagesUsage) AllInput() int {
	return u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens
}

// StartMessages starts a Messages API server answering from script on
// 127.0.0.1 (or ::1). The options are the chat-completions Server's:
// WithAPIKey requires the key (as x-api-key, or the Authorization bearer
// the official Go SDK v2 sends), WithClock times delays and cache entries,
// OnRejected sees rejections. The caller must Close it.
func StartMessages(script Script, cfg MessagesConfig, opts ...Option) (*MessagesServer, error) {
	s := &Server{script: script, clock: clock.RealClock{}, done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if cfg.MinCacheTokens <= 0 {
		cfg.MinCacheTokens = 1024
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("thinking signature key: %w", err)
	}
	m := &MessagesServer{Server: s, cfg: cfg, key: key, cache: newPromptCache(s.clock, cfg.MinCacheTokens), usages: map[int]MessagesUsage{}}
	l, err := loopbackListener()
	if err != nil {
		return nil, err
	}
	s.url = "http://" + l.Addr().String()
	s.srv = &http.Server{Handler: http.HandlerFunc(m.handle), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return m, nil
}

// URL is the base URL to give a client: the root, to which the SDK adds
// /v1/messages.
func (m *MessagesServer) URL() string { return m.url }

// Usage is what the server reported for request i (zero if it was not
// answered with a message).
func (m *MessagesServer) Usage(i int) MessagesUsage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usages[i]
}

// MessagesBody decodes a recorded request's body as a Messages request.
func (r RecordedRequest) MessagesBody() (MessagesRequest, error) {
	return decodeMessagesRequest(r.Body)
}

func (m *MessagesServer) handle(w http.ResponseWriter, r *http.Request) {
	rec, req, status := m.inspect(r)
	reply, ok := m.record(&rec)
	if !ok {
		if m.rejected != nil {
			m.rejected(rec, status)
		}
		writeMessagesError(w, status, rec.Rejection)
		return
	}
	if !m.wait(r.Context(), reply.Delay) {
		return
	}
	m.write(w, rec, req, reply)
}

// inspect reads and validates one request; a rejection is set on the
// record with the status to answer.
func (m *MessagesServer) inspect(r *http.Request) (RecordedRequest, MessagesRequest, int) {
	rec := RecordedRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
	for _, h := range []string{"Authorization", "X-Api-Key", "Api-Key"} {
		rec.Header.Del(h)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	rec.Body = body
	switch {
	case err != nil:
		return rec.reject("could not read the request body: " + err.Error()), MessagesRequest{}, http.StatusBadRequest
	case r.URL.Path != "/v1/messages":
		return rec.reject("unknown path " + r.URL.Path), MessagesRequest{}, http.StatusNotFound
	case r.Method != http.MethodPost:
		return rec.reject("method " + r.Method + " not allowed"), MessagesRequest{}, http.StatusMethodNotAllowed
	case !m.authorized(r):
		return rec.reject("invalid x-api-key"), MessagesRequest{}, http.StatusUnauthorized
	case r.Header.Get("Anthropic-Version") == "":
		return rec.reject("anthropic-version: header is required"), MessagesRequest{}, http.StatusBadRequest
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		return rec.reject("content-type must be application/json"), MessagesRequest{}, http.StatusBadRequest
	}
	req, err := decodeMessagesRequest(body)
	if err == nil {
		err = req.validate()
	}
	if err == nil {
		err = m.verify(req)
	}
	if err != nil {
		return rec.reject(err.Error()), req, http.StatusBadRequest
	}
	return rec, req, http.StatusOK
}

// authorized accepts the key as x-api-key (the API reference's header) or
// as "Authorization: Bearer", which the official Go SDK v2 sends.
func (m *MessagesServer) authorized(r *http.Request) bool {
	if m.apiKey == "" {
		return true
	}
	eq := func(got, want string) bool { return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 }
	return eq(r.Header.Get("X-Api-Key"), m.apiKey) || eq(r.Header.Get("Authorization"), "Bearer "+m.apiKey)
}

func (m *MessagesServer) write(w http.ResponseWriter, rec RecordedRequest, req MessagesRequest, reply Reply) {
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Request-Id", fmt.Sprintf("req_scripted_%d", rec.Index))
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case reply.RawBody != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply.RawBody)
	case status != http.StatusOK:
		writeMessagesError(w, status, reply.Content)
	default:
		msg := m.message(rec, req, reply)
		m.mu.Lock()
		m.usages[rec.Index] = msg.Usage
		m.mu.Unlock()
		writeJSON200(w, msg)
	}
}

// writeMessagesError answers in the Messages API's error shape
// (platform.claude.com/docs/en/api/errors).
func writeMessagesError(w http.ResponseWriter, status int, msg string) {
	if msg == "" {
		msg = http.StatusText(status)
	}
	body := map[string]any{"type": "error", "error": map[string]string{"type": messagesErrorType(status), "message": msg}}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func messagesErrorType(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	case 529:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// sign is a thinking block's signature: bound to the model, the
// conversation before the block and its text, as the API binds them
// ("thinking blocks are tied to the model and the conversation",
// …/whats-new-sonnet-5-5).
func (m *MessagesServer) sign(model, prefix, text string) string {
	mac := hmac.New(sha256.New, m.key)
	fmt.Fprintf(mac, "%s\x00%s\x00%s", model, prefix, text)
	return fmt.Sprintf("sig_%x", mac.Sum(nil))
}
