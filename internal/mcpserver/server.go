// Package mcpserver offers ops-skill's typed, guarded tools to any MCP client
// (Claude Code, Claude Desktop, Cursor, kubectl-ai, the MCP Inspector) on the
// official Go SDK. Every call goes through the same gate as the agent's —
// strict decoding, namespace scope, guard, mode, history — and its outcome is
// a tool result: a refusal or a dry run is a normal result naming the rule,
// only a failure of the backend is an error result. Incidents and the history
// are resources; the incident playbook is a prompt.
//
// The server is built from the runtime internal/app composes for every
// command (the registry, the history store, the platform's description): it
// adds no wiring of its own.
package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// Deps are what the server serves, from the composition root's runtime.
type Deps struct {
	Registry *tools.Registry
	// History answers the resources; nil serves none.
	History History
	Parser  alert.Parser // the incident prompt classifies its alert with it
	Where   platform.Where
	Env     string // the history's environment ("simulated" or the cluster context)
	// Namespace fills in a workload call that names none, as with `tools call`.
	Namespace string
	Now       func() time.Time // the platform's clock
	Logger    *slog.Logger     // nil: discard
}

// Options are the server's own settings.
type Options struct {
	// Mode is the write mode of every call (guard.ModeObserve unless the
	// operator asked for another).
	Mode guard.Mode
	// MaxWrites is the write budget of one session (agent.max_writes).
	MaxWrites int
	Version   string
}

// Server is an MCP server over one runtime.
type Server struct {
	d        Deps
	o        Options
	sdk      *sdk.Server
	sessions sessions
	state    stateSigner
	calls    atomic.Uint64 // numbers the calls
}

// ErrDeps marks a server built without what it needs.
var ErrDeps = errors.New("mcpserver: Registry and Now are required")

// New builds the server: every tool of the registry, the resources and the prompt.
func New(d Deps, o Options) (*Server, error) {
	if d.Registry == nil || d.Now == nil {
		return nil, ErrDeps
	}
	if _, err := guard.ParseMode(string(o.Mode)); err != nil {
		return nil, fmt.Errorf("mcpserver: %w", err)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := newStateSigner()
	if err != nil {
		return nil, err
	}
	s := &Server{d: d, o: o, state: st, sessions: sessions{m: map[*sdk.ServerSession]*session{}}}
	s.sdk = sdk.NewServer(&sdk.Implementation{Name: "ops-skill", Title: "ops-skill guarded tools", Version: o.Version},
		&sdk.ServerOptions{Instructions: s.instructions(), Logger: slog.New(atLeast{slog.LevelWarn, d.Logger.Handler()}), Capabilities: &sdk.ServerCapabilities{}})
	s.addTools()
	s.addResources()
	s.addPrompts()
	return s, nil
}

// MCP is the SDK server, for transports of the caller's choosing (tests
// connect it to in-memory transports).
func (s *Server) MCP() *sdk.Server { return s.sdk }

// Mode is the write mode of the server's calls.
func (s *Server) Mode() guard.Mode { return s.o.Mode }

// ServeStdio serves one client on in and out (newline-delimited JSON-RPC)
// until the client closes in or ctx ends.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	t := &sdk.IOTransport{Reader: io.NopCloser(in), Writer: nopWriteCloser{out}}
	err := s.sdk.Run(ctx, t)
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("mcp over stdio: %w", err)
}

// Handler serves MCP over streamable HTTP. Authentication is the caller's
// (serve wraps it in the webhook's).
func (s *Server) Handler() http.Handler {
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s.sdk },
		&sdk.StreamableHTTPOptions{Logger: s.d.Logger, SessionTimeout: 30 * time.Minute})
}

// atLeast passes on the records of h at level min or above: the SDK logs
// each session's start and end at info.
type atLeast struct {
	min slog.Level
	slog.Handler
}

func (a atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= a.min && a.Handler.Enabled(ctx, l)
}

func (a atLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return atLeast{a.min, a.Handler.WithAttrs(as)}
}
func (a atLeast) WithGroup(g string) slog.Handler { return atLeast{a.min, a.Handler.WithGroup(g)} }

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// instructions tell the client where the tools act and under which rules.
func (s *Server) instructions() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ops-skill's guarded tools, acting on %s. Mode %s: %s\n", s.d.Where, s.o.Mode, modeNote(s.o.Mode))
	fmt.Fprintf(&b, "Every call goes through ops-skill's gate: strict arguments, the namespace allowlist, the guardrails (%s), the mode and the history. ", s.d.Registry.Policy().Sentence())
	b.WriteString("A result with status \"refused\" names its rule: explain it, do not retry around it. \"dry_run\" changed nothing. ")
	b.WriteString("Resources: incident://{id}, history://incidents, history://actions, history://alerts. Prompt: incident (the playbook for an alert).")
	return b.String()
}

func modeNote(m guard.Mode) string {
	switch m {
	case guard.ModeObserve:
		return "every write is a dry run; nothing is changed, sent or opened."
	case guard.ModeApprove:
		return "each write the guard allows is asked through elicitation; without it the write is refused."
	}
	return "writes within the guardrails are applied."
}

// sessions keeps the gate's run of each client session.
type sessions struct {
	mu sync.Mutex
	m  map[*sdk.ServerSession]*session
}
