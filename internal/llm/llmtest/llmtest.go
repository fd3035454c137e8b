// Package llmtest is the test face of internal/llm/scripted: a server that
// speaks the OpenAI chat-completions wire format on loopback and answers
// from a script, closed when the test ends and failing the test on a
// request the real API would reject unless AllowInvalidRequests is set.
//
// It is for tests only (it imports testing); the binary uses package
// scripted directly.
package llmtest

import (
	"testing"

	"github.com/duet-company/ops-skill/internal/llm/scripted"
)

// The script and wire types of package scripted, under the names tests use.
type (
	Server          = scripted.Server
	Option          = scripted.Option
	Script          = scripted.Script
	ScriptFile      = scripted.ScriptFile
	Func            = scripted.Func
	Reply           = scripted.Reply
	ToolCall        = scripted.ToolCall
	Usage           = scripted.Usage
	RecordedRequest = scripted.RecordedRequest
	ChatMessage     = scripted.ChatMessage
	Profile         = scripted.Profile
)

// The server profiles of package scripted.
const (
	ProfileOpenAI               = scripted.ProfileOpenAI
	ProfileOpenAIReasoning      = scripted.ProfileOpenAIReasoning
	ProfileZAI                  = scripted.ProfileZAI
	ProfileOllama               = scripted.ProfileOllama
	ProfileVLLM                 = scripted.ProfileVLLM
	ProfileVLLMNoAutoToolChoice = scripted.ProfileVLLMNoAutoToolChoice
)

// What a ScriptFile does after its last step.
const (
	ThenDone   = scripted.ThenDone
	ThenRepeat = scripted.ThenRepeat
	ThenCycle  = scripted.ThenCycle
)

// DoneText is the reply a script gives once it has run out of steps.
const DoneText = scripted.DoneText

// Options and script constructors of package scripted.
var (
	WithAPIKey  = scripted.WithAPIKey
	WithClock   = scripted.WithClock
	WithProfile = scripted.WithProfile
	Steps       = scripted.Steps
	LoadScript  = scripted.LoadScript
	ParseScript = scripted.ParseScript
)

// AllowInvalidRequests stops the server from failing the test when it
// rejects a request; the rejection is still answered and recorded.
func AllowInvalidRequests() Option { return scripted.OnRejected(nil) }

// NewServer starts a server answering from script on 127.0.0.1 (or ::1) and
// closes it when the test ends.
func NewServer(t testing.TB, script Script, opts ...Option) *Server {
	t.Helper()
	fail := scripted.OnRejected(func(rec RecordedRequest, status int) {
		t.Errorf("llmtest: request %d rejected (%d): %s", rec.Index, status, rec.Rejection)
	})
	s, err := scripted.Start(script, append([]Option{fail}, opts...)...)
	if err != nil {
		t.Fatalf("llmtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}
