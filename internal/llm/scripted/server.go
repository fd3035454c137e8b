// Package scripted is a server that speaks the OpenAI chat-completions wire
// format on loopback and answers from a script, so that the real go-openai
// adapter, the agent loop and the eval suite (`ops-skill eval --model
// scripted:NAME`) can run against scripted models without a network or an
// API key. It is built on plain net/http: the binary links it, so it must not
// import testing (tests wrap it with internal/llm/llmtest).
//
// It validates each request the way the real API does (unknown arguments,
// tool_choice without tools, tool results that answer no tool call, tool
// calls left unanswered...), records every request body, and reports a
// request the real API would reject to the OnRejected hook.
package scripted

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// maxBody bounds a request body the server reads.
const maxBody = 32 << 20

// Server is an OpenAI-compatible chat-completions endpoint on loopback.
type Server struct {
	srv      *http.Server
	url      string
	script   Script
	apiKey   string
	clock    clock.Clock
	rejected func(RecordedRequest, int) // nil: rejections are only recorded
	profile  Profile
	done     chan struct{}

	closeOnce sync.Once

	mu       sync.Mutex
	requests []RecordedRequest
}

// Option configures a Server.
type Option func(*Server)

// WithAPIKey makes the server require "Authorization: Bearer <key>" and
// answer 401 otherwise. The key is never recorded or printed.
func WithAPIKey(key string) Option { return func(s *Server) { s.apiKey = key } }

// WithClock sets the clock Reply.Delay waits on (default: the real clock).
func WithClock(c clock.Clock) Option { return func(s *Server) { s.clock = c } }

// OnRejected calls fn (with the request and the status answered) for each
// request the server rejects as the real API would; nil removes the hook.
// The rejection is answered and recorded either way (see Rejected).
func OnRejected(fn func(rec RecordedRequest, status int)) Option {
	return func(s *Server) { s.rejected = fn }
}

// Start starts a server answering from script on 127.0.0.1 (or ::1). The
// caller must Close it.
func Start(script Script, opts ...Option) (*Server, error) {
	s := &Server{script: script, clock: clock.RealClock{}, profile: ProfileOpenAI, done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	l, err := loopbackListener()
	if err != nil {
		return nil, err
	}
	s.url = "http://" + l.Addr().String()
	s.srv = &http.Server{Handler: http.HandlerFunc(s.handle), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// Close stops the server; replies still held back by a delay end at once.
// It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		_ = s.srv.Close()
	})
}

func loopbackListener() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if l, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			return nil, fmt.Errorf("listen on loopback: %w", err)
		}
	}
	return l, nil
}

// URL is the base URL to give a client (BaseURL), ending in /v1.
func (s *Server) URL() string { return s.url + "/v1" }

// Calls is the number of requests received, rejected ones included.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Rejected returns the requests the server rejected as the real API would
// (malformed, unauthorized, invalid conversation), in order.
func (s *Server) Rejected() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RecordedRequest
	for _, r := range s.requests {
		if r.Rejection != "" {
			out = append(out, r)
		}
	}
	return out
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RecordedRequest, len(s.requests))
	copy(out, s.requests)
	return out
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	rec, status := s.inspect(r)
	reply, ok := s.record(&rec)
	if !ok {
		if s.rejected != nil {
			s.rejected(rec, status)
		}
		s.profile.writeError(w, rejection{status: status, code: rec.rejectCode, param: rec.rejectParam, msg: rec.Rejection})
		return
	}
	if !s.wait(r.Context(), reply.Delay) {
		return
	}
	s.write(w, rec, reply)
}

// inspect reads and validates one request; a rejection is set on the
// record with the status to answer.
func (s *Server) inspect(r *http.Request) (RecordedRequest, int) {
	rec := RecordedRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
	rec.Header.Del("Authorization")
	rec.Header.Del("Api-Key")
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	rec.Body = body
	switch {
	case err != nil:
		return rec.reject("could not read the request body: " + err.Error()), http.StatusBadRequest
	case r.URL.Path != "/v1/chat/completions" && r.URL.Path != "/chat/completions":
		return rec.reject("unknown path " + r.URL.Path), http.StatusNotFound
	case r.Method != http.MethodPost:
		return rec.reject("method " + r.Method + " not allowed"), http.StatusMethodNotAllowed
	case !s.authorized(r):
		return rec.reject("incorrect API key provided"), http.StatusUnauthorized
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		return rec.reject("content-type must be application/json"), http.StatusBadRequest
	}
	chat, extra, rej := s.profile.decode(body)
	if rej == nil {
		rej = s.profile.validate(chat, extra)
	}
	rec.Chat, rec.Extra = chat, extra
	if rej != nil {
		rec.rejectCode, rec.rejectParam = rej.code, rej.param
		return rec.reject(rej.msg), rej.status
	}
	var raw struct {
		Tools json.RawMessage `json:"tools"`
	}
	_ = json.Unmarshal(body, &raw)
	rec.rawTools = raw.Tools
	return rec, http.StatusOK
}

func (s *Server) authorized(r *http.Request) bool {
	if s.apiKey == "" {
		return true
	}
	want := "Bearer " + s.apiKey
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) == 1
}

// record stores the request under the next index and, if it is valid, asks
// the script for the reply. Script calls are serialized.
func (s *Server) record(rec *RecordedRequest) (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec.Index = len(s.requests)
	s.requests = append(s.requests, *rec)
	if rec.Rejection != "" {
		return Reply{}, false
	}
	return s.script.Reply(*rec), true
}

// wait holds the reply back for d; it reports false if the client went
// away or the test ended first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	timer := s.clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C():
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

func (s *Server) write(w http.ResponseWriter, rec RecordedRequest, reply Reply) {
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
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
		s.profile.writeError(w, rejection{status: status, code: reply.ErrorCode, msg: reply.Content})
	default:
		writeJSON200(w, s.completion(rec, reply))
	}
}

func writeJSON200(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func errorKind(status int) (string, *string) {
	str := func(s string) *string { return &s }
	switch {
	case status == http.StatusUnauthorized:
		return "invalid_request_error", str("invalid_api_key")
	case status == http.StatusTooManyRequests:
		return "requests", str("rate_limit_exceeded")
	case status >= 500:
		return "server_error", nil
	default:
		return "invalid_request_error", nil
	}
}
