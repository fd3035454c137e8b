package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/serve"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// serve composes `ops-skill serve`: one runtime for the process (the same
// registry, planner, guard, notifications and history as the CLI), the
// elector, the metrics registry and the JSON logger, then serves until ctx
// ends (SIGTERM or SIGINT, installed by Main).
func (d deps) serve(ctx context.Context, cfg config.Config, o cli.ServeOptions) error {
	log := newLogger(d.io.ErrOut, cfg.Serve.LogLevel)
	auth, err := readAuth(cfg.Serve)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	scfg, err := serveConfig(cfg, auth)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	if cfg, err = d.serveProbeLLM(ctx, cfg, log); err != nil {
		return err
	}
	rt, err := d.newRuntime(ctx, cfg, cli.RuntimeOptions{Simulate: o.Simulate, Scenario: o.Scenario, Notify: o.Notify, HealthLoop: cfg.Serve.HealthLoop})
	if err != nil {
		return err
	}
	defer rt.Close()
	mode, err := guard.ParseMode(string(rt.Mode))
	if err != nil {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	el, err := d.elector(cfg, rt.Env, log)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	mcpHandler, err := serveMCP(rt, cfg, o.MCPMode, log)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := serve.New(scfg, serve.Deps{
		NewRunner: func(sink agent.Sink, approver tools.Approver) serve.Runner { return rt.NewAgent(sink, approver) },
		Registry:  rt.Registry, Parser: rt.Parser, Store: rt.Store, Env: rt.Env, Mode: mode, Now: rt.Now,
		Clock: clock.RealClock{}, Elector: el, Logger: log, Prometheus: reg, MCP: mcpHandler,
	})
	if err != nil {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	log.Info("runtime ready", "platform", rt.Platform, "env", rt.Env, "stateDir", cfg.StateDir)
	if err := srv.Run(ctx); err != nil {
		return &cli.ExitError{Code: cli.ExitFailed, Err: err}
	}
	return nil
}

// serveProbeLLM checks the configured model once at start, so that a
// refused key, model or URL is reported once with its fix rather than as a
// fallback on every alert. A configuration the provider refuses stops serve
// when the planner is llm; with planner auto the rules planner decides
// every alert until the configuration is fixed and serve restarted. A
// provider that is only unreachable now is tried again on each alert.
func (d deps) serveProbeLLM(ctx context.Context, cfg config.Config, log *slog.Logger) (config.Config, error) {
	if cfg.LLM.Provider == "" || cfg.Agent.Planner == config.PlannerRules {
		return cfg, nil
	}
	name, err := d.probeLLM(ctx, cfg.LLM)
	switch {
	case err == nil:
		log.Info("llm ready", "model", name)
	case !errors.Is(err, llm.ErrMisconfigured) && !errors.Is(err, errLLMConfig):
		log.Warn("llm not reachable at start; each alert tries it and falls back to the rules planner", "model", name, "error", err.Error())
	case cfg.Agent.Planner == config.PlannerLLM:
		return cfg, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("the model refused the configuration at start (%w); %s, or use --planner auto", err, llmFix)}
	default:
		log.Error("llm refused the configuration at start; the rules planner decides every alert until it is fixed and serve restarted",
			"model", name, "error", err.Error(), "fix", llmFix)
		cfg.Agent.Planner = config.PlannerRules
	}
	return cfg, nil
}

// serveConfig maps the configuration's serve section onto serve.Config.
func serveConfig(cfg config.Config, auth serve.Auth) (serve.Config, error) {
	o := cfg.Serve
	c := serve.DefaultConfig()
	c.Listen, c.Auth, c.MaxBodyBytes, c.QueueSize, c.Workers = o.Listen, auth, o.MaxBodyBytes, o.QueueSize, o.Workers
	c.RetryAfter, c.ShutdownGrace = o.RetryAfter, o.ShutdownGrace
	c.HealthInterval = cfg.SelfHealing.HealthCheckInterval
	if !o.HealthLoop {
		c.HealthInterval = 0
	}
	c.ScalePeriod, c.EscalationPeriod, c.LedgerTTL = o.ScalePeriod, o.EscalationPeriod, o.LedgerTTL
	c.ClaimTimeout = claimTimeout(cfg.Agent.RunTimeout, c.ClaimTimeout)
	for _, w := range o.ScaleWorkloads {
		ns, name, ok := strings.Cut(strings.TrimSpace(w), "/")
		if !ok {
			ns, name = cfg.Kubernetes.Namespace, ns
		}
		if ns == "" || name == "" || strings.Contains(name, "/") {
			return c, fmt.Errorf("--scale-workload %q: give namespace/name or name", w)
		}
		c.ScaleWorkloads = append(c.ScaleWorkloads, platform.WorkloadRef{Namespace: ns, Name: name})
	}
	return c, c.Validate()
}

// claimTimeout is how long a delivery claimed by a replica that stopped is
// honoured: a little longer than a run may take (agent.run_timeout), at
// least a minute, and past the age at which its alert counts as a dead
// run's (resumePolicy); the default without a run timeout. Past it the delivery
// runs again, and that run resumes what the stopped one left unfinished
// (its alert, then older than the run timeout, is a dead run's).
func claimTimeout(run, def time.Duration) time.Duration {
	if run <= 0 {
		return def
	}
	return max(time.Minute, run+run/10, run+2*resumeGrace)
}

// readAuth reads the credentials from their files. Their values are never
// printed: errors name the file only. A file any user of the machine may
// read, or a bearer token short enough to guess, is refused (errWeakSecret).
func readAuth(o config.Serve) (serve.Auth, error) {
	a := serve.Auth{AllowAnonymous: o.AllowAnonymous}
	if o.AuthTokenFile != "" {
		t, err := readSecretFile(o.AuthTokenFile, "--auth-token-file")
		if err != nil {
			return a, err
		}
		if len(t) < minTokenBytes {
			return a, fmt.Errorf("%w: --auth-token-file %s: the token is %d bytes, at least %d are needed; write a new one, e.g. `openssl rand -hex 32 > %s`, and give it to Alertmanager too",
				errWeakSecret, o.AuthTokenFile, len(t), minTokenBytes, o.AuthTokenFile)
		}
		a.Token = t
	}
	if o.BasicAuthFile != "" {
		b, err := readSecretFile(o.BasicAuthFile, "--basic-auth-file")
		if err != nil {
			return a, err
		}
		user, pass, ok := strings.Cut(b, ":")
		if !ok || user == "" || pass == "" {
			return a, fmt.Errorf("--basic-auth-file %s: expected one line \"user:password\"", o.BasicAuthFile)
		}
		a.Username, a.Password = user, pass
	}
	return a, a.Validate()
}

// minTokenBytes is the shortest bearer token serve accepts: 32 bytes, the
// length of `openssl rand -hex 16` and more than anyone guesses.
const minTokenBytes = 32

// errWeakSecret means a credentials file is readable by every user or holds
// a token too short to be safe.
var errWeakSecret = errors.New("weak credentials file")

// readSecretFile reads the one line of a credentials file that only its
// owner (and group) may read. The mode is that of the file a symlink names,
// as in a Kubernetes Secret volume.
func readSecretFile(path, flag string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if perm := fi.Mode().Perm(); perm&0o004 != 0 {
		return "", fmt.Errorf("%w: %s %s: the file is readable by every user (mode %04o); make it private: `chmod 600 %s` (in a Kubernetes Secret volume, defaultMode: 0400)",
			errWeakSecret, flag, path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" || strings.ContainsAny(v, "\r\n") {
		return "", fmt.Errorf("%s %s: expected one non-empty line", flag, path)
	}
	return v, nil
}

// elector picks the leader election: a Lease when acting on a real cluster
// (or when asked), otherwise this instance alone.
func (d deps) elector(cfg config.Config, env string, log *slog.Logger) (serve.Elector, error) {
	o := cfg.Serve
	id := o.Identity
	if id == "" {
		host, _ := os.Hostname()
		id = firstNonEmptyString(host, "ops-skill") + "-" + randomSuffix()
	}
	useLease := o.LeaderElection == config.LeaderElectionLease || (o.LeaderElection == config.LeaderElectionAuto && env != store.EnvSimulated)
	if !useLease {
		return serve.Solo{ID: id}, nil
	}
	timing := serve.LeaseTiming{LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod}
	if err := timing.Validate(); err != nil {
		return nil, err
	}
	src, err := d.locateCluster(cfg)
	if err != nil {
		return nil, err
	}
	conn, err := kube.LoadConfig(kube.ConnectOptions{Kubeconfig: strings.Join(src.files, string(os.PathListSeparator)), InCluster: src.inCluster, Context: cfg.Kubernetes.Context,
		Timeout: max(o.RetryPeriod, o.RenewDeadline/2), UserAgent: "ops-skill-serve"})
	if err != nil {
		return nil, fmt.Errorf("leader election needs the cluster: %w", err)
	}
	leases, err := coordinationv1.NewForConfig(conn.Config)
	if err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	podNS, _ := d.env("POD_NAMESPACE")
	ns := firstNonEmptyString(o.LeaseNamespace, podNS, cfg.Kubernetes.Namespace)
	return serve.NewLeaseElector(leases, ns, o.LeaseName, id, timing, clock.RealClock{}, log.With("component", "leader-election"))
}

// newLogger writes JSON lines to w at the given level.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("service", "ops-skill-serve")
}

func randomSuffix() string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		return "0"
	}
	return hex.EncodeToString(b)
}

func firstNonEmptyString(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
