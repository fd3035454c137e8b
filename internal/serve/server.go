package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// Runner handles one alert to its end: an *agent.Agent.
type Runner interface {
	Handle(ctx context.Context, a alert.Alert) agent.Summary
}

// Deps are the server's collaborators, built once per process by internal/app.
type Deps struct {
	// NewRunner builds the agent of one run, emitting to sink. The same
	// runtime (registry, planner, guard, notifications, history) serves
	// every run, as in the CLI.
	NewRunner func(sink agent.Sink, approver tools.Approver) Runner
	// Registry gates the loops' own calls (checkHealth, scaleDeployment,
	// notify) and holds the policy (healing ladder, alerting, scaling bounds).
	Registry *tools.Registry
	Parser   alert.Parser
	Store    Store
	// Env is the history environment ("simulated" or the cluster context).
	Env  string
	Mode guard.Mode
	// Now is the platform's clock (virtual under --simulate): alert times.
	Now func() time.Time
	// Clock is the wall clock: loops, retry hints, the ledger, durations.
	Clock      clock.WithTicker
	Elector    Elector
	Logger     *slog.Logger
	Prometheus *prometheus.Registry
	// MCP serves the guarded tools at /mcp (streamable HTTP) behind the
	// webhook's authentication; nil: no MCP endpoint.
	MCP http.Handler
}

// Server receives alerts and runs the loops; see the package documentation.
type Server struct {
	cfg  Config
	d    Deps
	auth authenticator
	m    *Metrics
	q    *queue
	seen *seen
	led  ledger
	log  *slog.Logger
	http http.Handler

	calls atomic.Uint64 // numbers the loops' own tool calls

	mu       sync.Mutex
	term     *term
	terms    uint64
	leader   string
	observed bool
	draining bool
	busy     map[string]bool // loop jobs queued or running
}

// term is one period of leadership.
type term struct {
	id         uint64
	ctx        context.Context
	cancel     context.CancelFunc
	stopLoops  context.CancelFunc
	loops      sync.WaitGroup
	lostReason string
}

// New checks the configuration and builds the server.
func New(cfg Config, d Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case d.NewRunner == nil || d.Registry == nil || d.Store == nil || d.Elector == nil || d.Prometheus == nil:
		return nil, errors.New("serve: NewRunner, Registry, Store, Elector and Prometheus are required")
	case d.Now == nil || d.Clock == nil:
		return nil, errors.New("serve: Now and Clock are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := NewMetrics(d.Prometheus)
	if err != nil {
		return nil, fmt.Errorf("serve: metrics: %w", err)
	}
	s := &Server{cfg: cfg, d: d, auth: newAuthenticator(cfg.Auth), m: m, seen: newSeen(cfg.DedupMemory),
		led: ledger{st: d.Store, env: d.Env}, log: d.Logger, busy: map[string]bool{}}
	s.q = newQueue(cfg.QueueSize, func(n int) { m.queueDepth.Set(float64(n)) })
	s.http = s.routes()
	return s, nil
}

// Handler serves /webhook, /healthz, /readyz, /metrics and, with Deps.MCP, /mcp.
func (s *Server) Handler() http.Handler { return s.http }

// Run listens on the configured address and serves until ctx ends, then
// shuts down gracefully (see Serve).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends. Then it stops accepting deliveries,
// lets queued and in-flight work finish within the shutdown grace, cancels
// what remains (runs record their cancellation, queued jobs are recorded as
// abandoned), and only then gives up the leadership, so that no two replicas
// act at once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.http, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	electCtx, cancelElect := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelElect()
	var workers sync.WaitGroup
	for range s.cfg.Workers {
		workers.Go(func() { s.work(workCtx) })
	}
	elected := make(chan struct{})
	go func() {
		defer close(elected)
		s.d.Elector.Run(electCtx, Callbacks{Lead: s.lead, Observed: s.observe})
	}()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	s.log.Info("serving", "address", ln.Addr().String(), "identity", s.d.Elector.Identity(), "elected", s.d.Elector.Elected(),
		"auth", s.cfg.Auth.String(), "workers", s.cfg.Workers, "queue", s.cfg.QueueSize, "env", s.d.Env, "mode", string(s.d.Mode))
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("http server: %w", err)
	}
	s.shutdown(hs, &workers, cancelWork)
	cancelElect()
	select {
	case <-elected:
	case <-s.d.Clock.After(10 * time.Second):
		s.log.Warn("the election did not stop within 10s")
	}
	s.log.Info("stopped")
	return err
}

// shutdown drains: no new deliveries, no new loop rounds, the queue runs
// until the grace ends, then everything left is cancelled.
func (s *Server) shutdown(hs *http.Server, workers *sync.WaitGroup, cancelWork context.CancelFunc) {
	s.mu.Lock()
	s.draining = true
	t := s.term
	s.mu.Unlock()
	s.log.Info("shutting down", "queued", s.q.len(), "grace", s.cfg.ShutdownGrace.String())
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = hs.Shutdown(hctx)
	cancel()
	if t != nil {
		t.stopLoops()
		t.loops.Wait()
	}
	s.q.close()
	drained := make(chan struct{})
	go func() { workers.Wait(); close(drained) }()
	select {
	case <-drained:
		return
	case <-s.d.Clock.After(s.cfg.ShutdownGrace):
	}
	s.log.Warn("shutdown grace over: cancelling the remaining work", "queued", s.q.len())
	cancelWork()
	s.abandon(s.q.remove(func(*job) bool { return true }), "shutdown")
	<-drained
}

// lead is the elector's callback: one leadership term, until ctx ends.
func (s *Server) lead(ctx context.Context) {
	t := s.startTerm(ctx)
	if t == nil {
		return
	}
	<-t.ctx.Done()
	s.endTerm(t)
}

func (s *Server) startTerm(ctx context.Context) *term {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		<-ctx.Done()
		return nil
	}
	s.terms++
	t := &term{id: s.terms}
	t.ctx, t.cancel = context.WithCancel(ctx)
	var loopCtx context.Context
	loopCtx, t.stopLoops = context.WithCancel(t.ctx)
	// The loops start before the term is published: shutdown waits on
	// t.loops as soon as it can see the term, and a WaitGroup's Add must
	// not race its Wait.
	s.startLoops(loopCtx, t)
	s.term = t
	s.mu.Unlock()
	s.m.leader.Set(1)
	s.log.Info("leading: acting on alerts and running the loops", "term", t.id, "identity", s.d.Elector.Identity())
	return t
}

// endTerm stops acting: loops end, queued jobs of the term are dropped (the
// ledger lets a later delivery of them run), in-flight runs see their
// context cancelled.
func (s *Server) endTerm(t *term) {
	s.mu.Lock()
	if s.term == t {
		s.term = nil
	}
	draining := s.draining
	s.mu.Unlock()
	t.cancel()
	t.stopLoops()
	t.loops.Wait()
	s.m.leader.Set(0)
	s.seen.reset()
	why := "leadership_lost"
	if draining {
		why = "shutdown"
	}
	s.abandon(s.q.remove(func(j *job) bool { return j.term == t.id }), why)
	s.log.Info("not leading any more: stopped acting", "term", t.id, "why", why)
}

// acting returns the current term when this replica acts on deliveries.
func (s *Server) acting() (*term, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.draining:
		return nil, "shutting down"
	case s.term == nil && s.leader != "":
		return nil, "not the leader (the leader is " + s.leader + ")"
	case s.term == nil:
		return nil, "no leader elected yet"
	case !s.d.Elector.Confirmed():
		return nil, "leadership not confirmed (lease renewal overdue)"
	}
	return s.term, ""
}

// current returns the term with this id when it still runs and the
// leadership is confirmed.
func (s *Server) current(id uint64) *term {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term == nil || s.term.id != id || s.term.ctx.Err() != nil || !s.d.Elector.Confirmed() {
		return nil
	}
	return s.term
}

func (s *Server) observe(identity string) {
	s.mu.Lock()
	changed := s.leader != identity
	s.leader, s.observed = identity, true
	s.mu.Unlock()
	if changed {
		s.log.Info("leader observed", "leader", identity, "self", identity == s.d.Elector.Identity())
	}
}

// owner names this replica's term in the ledger.
func (s *Server) owner(t *term) string {
	return s.d.Elector.Identity() + "#" + strconv.FormatUint(t.id, 10)
}

// claimBusy marks a loop job key as queued; false when it already is.
func (s *Server) claimBusy(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[key] {
		return false
	}
	s.busy[key] = true
	return true
}

func (s *Server) releaseBusy(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, key)
}
