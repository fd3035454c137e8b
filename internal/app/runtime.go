package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/compose"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/health"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/anthropic"
	"github.com/duet-company/ops-skill/internal/llm/openai"
	"github.com/duet-company/ops-skill/internal/llm/provider"
	"github.com/duet-company/ops-skill/internal/notify"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// backends are the platform ports of one run.
type backends struct {
	cluster  platform.Cluster
	metrics  platform.Metrics
	storage  platform.Storage
	volumes  platform.Volumes
	health   platform.Health
	notifier platform.Notifier
	clock    clock.PassiveClock
	waiter   agent.Waiter
	rollouts platform.Rollouts
	fresh    platform.Freshness
	state    tools.StateStore
	resolver platform.Resolver
	env      string
	desc     string
	where    platform.Where
	closers  []func() error
}

// platform is what the composition acts on.
func (b backends) platform() compose.Platform {
	return compose.Platform{Cluster: b.cluster, Metrics: b.metrics, Storage: b.storage, Volumes: b.volumes, Health: b.health, Notifier: b.notifier,
		Clock: b.clock, Waiter: b.waiter, Rollouts: b.rollouts, Fresh: b.fresh, State: b.state, Resolver: b.resolver, Where: b.where, Env: b.env}
}

// deps are the process-level inputs of the composition root.
type deps struct {
	io     *cli.IOStreams
	env    config.EnvFunc
	clock  clock.Clock
	newLLM func(config.LLM) (llm.Client, error) // replaceable in tests
	// progName is the name the binary was run by (os.Args[0]); kubectl runs
	// it as a plugin under kubectl-ops_skill.
	progName string
}

// openStore opens the history: the one place that picks its engine.
// cfg.Store, a postgres:// URL or a SQLite file path, wins; empty is the
// SQLite file history.db in the state directory. store.Open errors never
// show a URL's password.
func (d deps) openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	location := storeLocation(cfg)
	st, err := store.Open(ctx, location, d.clock)
	switch {
	case err == nil:
		return st, nil
	case cfg.Store != "":
		return nil, fmt.Errorf("open history store (check --store or OPS_SKILL_STORE_URL): %w", err)
	default:
		return nil, fmt.Errorf("open history in %s (set --state-dir or OPS_SKILL_STATE_DIR to a writable directory): %w", cfg.StateDir, err)
	}
}

// storeLocation is where the history of cfg lives (see openStore).
func storeLocation(cfg config.Config) string {
	if cfg.Store != "" {
		return cfg.Store
	}
	return filepath.Join(cfg.StateDir, "history.db")
}

// newRuntime composes everything one run needs. What it opens is released
// by the runtime's Close, or at once when it fails half-way.
func (d deps) newRuntime(ctx context.Context, cfg config.Config, opts cli.RuntimeOptions) (rt *cli.Runtime, err error) {
	var stack compose.Stack
	defer func() {
		if err != nil {
			_ = stack.Close() // the composition failed: its error is the one to report
		}
	}()
	st, err := d.openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	stack.Push(st.Close)
	mode, err := guard.ParseMode(cfg.Agent.Mode)
	if err != nil {
		return nil, err
	}
	b, err := d.platform(ctx, &cfg, opts, mode, st)
	if err != nil {
		return nil, err
	}
	stack.Push(func() error { return closeBackends(b) })
	fan, err := newNotifier(cfg, st, b.env)
	if err != nil {
		return nil, err
	}
	stack.Push(func() error { return closeNotifier(fan, cfg.Alerting.NotifyDeadline+5*time.Second) })
	held := ""
	switch {
	case b.where.Simulated() && !opts.Notify:
		// Nothing about a simulated platform leaves the machine unless asked.
		held = "simulated platform (pass --notify to send it, marked SIMULATED)"
	case len(fan.Channels()) > 0:
		b.notifier = fan
	}
	c, err := d.compose(cfg, mode, b, st, held) // after the platform: the namespace may be the context's
	if err != nil {
		return nil, err
	}
	services := serviceNames(ctx, b.cluster, cfg.Kubernetes.Namespace)
	rt = &cli.Runtime{
		Registry: c.Registry, Store: st, Env: b.env, Where: b.where, Mode: mode, Now: b.clock.Now,
		Platform: c.Note + " · " + b.desc,
		Parser:   alert.Parser{Namespace: cfg.Kubernetes.Namespace, Services: services, Aliases: alert.DefaultAliases()},
		Close:    stack.Close,
		NewAgent: c.NewAgent,
	}
	if !b.where.Simulated() {
		rt.Preflight = d.metricPreflight(b.metrics)
	}
	return rt, nil
}

// compose builds the agent's parts on the platform, with the configured model.
func (d deps) compose(cfg config.Config, mode guard.Mode, b backends, st *store.Store, held string) (*compose.Composition, error) {
	var model llm.Client
	if cfg.LLM.Provider != "" && cfg.Agent.Planner != config.PlannerRules {
		m, err := d.newLLM(cfg.LLM)
		if err != nil {
			return nil, &cli.ExitError{Code: cli.ExitUsage, Err: err}
		}
		model = m
	}
	subjects := compose.NewSubjects("") // the simulated platform is this process's own
	hist := compose.NewHistory(st, b.env, b.env != store.EnvSimulated)
	o := compose.Options{Config: cfg, Mode: mode, Platform: b.platform(), Model: model, HeldReason: held, History: hist, Subjects: subjects}
	if b.env != store.EnvSimulated {
		o.Subjects = compose.NewSubjects(filepath.Join(cfg.StateDir, "locks"))
		o.Unfinished, o.Resume = hist, resumePolicy(cfg, st)
	}
	c, err := compose.New(o)
	if errors.Is(err, compose.ErrNoModel) {
		return nil, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	return c, err
}

// resumePolicy says when a pending alert is a dead run's: with SQLite every
// writer of the history shares the state directory's file locks, which die
// with their process; with PostgreSQL (shared across machines) only the age
// past agent.run_timeout proves it.
// The age counts resumeGrace past the run timeout: a run past its deadline
// still records its end (5s) and tells its writes (10s).
func resumePolicy(cfg config.Config, st *store.Store) agent.ResumePolicy {
	p := agent.ResumePolicy{TurnsSpanWriters: st.Engine() == "sqlite"}
	if cfg.Agent.RunTimeout > 0 {
		p.After = cfg.Agent.RunTimeout + resumeGrace
	}
	return p
}

// resumeGrace is how long after its deadline a run may still be finishing.
const resumeGrace = 10 * time.Second

// newNotifier builds the notification channels from the config. It runs on
// the real clock even under --simulate: the receivers live in real time.
func newNotifier(cfg config.Config, st *store.Store, env string) (*notify.Fanout, error) {
	fan, err := notify.New(notify.Config{
		SlackWebhook: cfg.Monitoring.AlertWebhook.Reveal(), GenericWebhook: cfg.Alerting.GenericWebhook.Reveal(),
		PagerDutyRoutingKey: cfg.Alerting.PagerDutyRoutingKey.Reveal(), PagerDutyURL: cfg.Alerting.PagerDutyURL,
		GrafanaURL: cfg.Monitoring.GrafanaURL, GrafanaToken: cfg.Monitoring.GrafanaToken.Reveal(), Deadline: cfg.Alerting.NotifyDeadline,
	}, notify.Deps{Clock: clock.RealClock{}, Keys: pagerKeys{s: st, env: env}, Scope: notify.DedupScope{Store: st.Identity(), Cluster: env}})
	if err != nil {
		return nil, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	return fan, nil
}

// closeNotifier delivers queued notifications, for a bounded time.
func closeNotifier(fan *notify.Fanout, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return fan.Close(ctx)
}

// platform picks the simulated platform, or says why a real one is not available.
// The simulated platform is used only with --simulate, or when no cluster
// configuration exists at all.
func (d deps) platform(ctx context.Context, cfg *config.Config, opts cli.RuntimeOptions, mode guard.Mode, st *store.Store) (backends, error) {
	if !opts.Simulate {
		src, err := d.locateCluster(*cfg)
		if err != nil {
			return backends{}, err
		}
		if src.found() {
			b, err := d.realPlatform(ctx, cfg, src, mode, st)
			if hc, ok := b.health.(*health.Checker); ok && err == nil && !opts.HealthLoop {
				b.health = health.Confirming{Checker: hc, Threshold: cfg.SelfHealing.RestartThreshold}
			}
			return b, err
		}
	}
	name := opts.Scenario
	if name == "" {
		var ok bool
		if name, ok = sim.MatchScenario(sim.Scenarios(), opts.MatchText); !ok {
			name = "healthy"
		}
	}
	sc, err := sim.LoadScenario(sim.Scenarios(), name)
	if err != nil {
		return backends{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("--scenario: %w", err)}
	}
	p := sim.New(sc, d.clock.Now().UTC().Truncate(time.Second))
	b := backends{cluster: p.Cluster(), resolver: p.Resolver(), volumes: p.Volumes(), metrics: p.Metrics(), storage: p.Storage(), health: p.Health(), notifier: nil,
		clock: p.Clock(), waiter: p, rollouts: p.Rollouts(), fresh: p.Freshness(), state: tools.NewMemoryState(), env: store.EnvSimulated, desc: "",
		where: platform.Where{Kind: platform.WhereSimulated, Scenario: name, Namespace: cfg.Kubernetes.Namespace}}
	b.desc = "Platform: " + b.where.String()
	return b, nil
}

// newModel builds the configured model's client: Anthropic's Messages
// API for claude, chat completions for the others (the provider table says
// which).
func newModel(c config.LLM) (llm.Client, error) {
	p, err := provider.Lookup(c.Provider)
	if err != nil {
		return nil, err
	}
	if p.Wire == provider.WireMessages {
		m, err := anthropic.New(anthropic.Config{Model: c.Model, APIKey: c.APIKey.Reveal(), BaseURL: c.BaseURL,
			Headers: c.Headers, ReasoningEffort: c.ReasoningEffort, Timeout: c.AttemptTimeout})
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	m, err := openai.New(openai.Config{Provider: c.Provider, Model: c.Model, APIKey: c.APIKey.Reveal(),
		Endpoint: c.Endpoint, BaseURL: c.BaseURL, Headers: c.Headers, ReasoningEffort: c.ReasoningEffort, Timeout: c.AttemptTimeout})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func serviceNames(ctx context.Context, c platform.Cluster, ns string) []string {
	ws, err := c.ListWorkloads(ctx, ns)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(ws))
	for _, w := range ws {
		names = append(names, w.Ref.Name)
	}
	sort.Strings(names)
	return names
}
