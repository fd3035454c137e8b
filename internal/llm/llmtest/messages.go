package llmtest

import (
	"testing"

	"github.com/duet-company/ops-skill/internal/llm/scripted"
)

// The Messages API face of package scripted.
type (
	MessagesServer  = scripted.MessagesServer
	MessagesConfig  = scripted.MessagesConfig
	MessagesUsage   = scripted.MessagesUsage
	MessagesRequest = scripted.MessagesRequest
	Thought         = scripted.Thought
	WireMessage     = scripted.WireMessage
	WireBlock       = scripted.WireBlock
)

// NewMessagesServer starts a server speaking Anthropic's Messages API on
// loopback, answering from script, and closes it when the test ends. A
// request the real API would reject fails the test unless
// AllowInvalidRequests is given.
func NewMessagesServer(t testing.TB, script Script, cfg MessagesConfig, opts ...Option) *MessagesServer {
	t.Helper()
	fail := scripted.OnRejected(func(rec RecordedRequest, status int) {
		t.Errorf("llmtest: messages request %d rejected (%d): %s", rec.Index, status, rec.Rejection)
	})
	s, err := scripted.StartMessages(script, cfg, append([]Option{fail}, opts...)...)
	if err != nil {
		t.Fatalf("llmtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}
