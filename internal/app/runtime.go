package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/openai"
	"github.com/duet-company/ops-skill/internal/notify"
	"github.com/duet-company/ops-skill/internal/planner"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/prompts"
	"github.com/duet-company/ops-skill/tools"
)

// backends are the platform ports of one run.
type backends struct {
	cluster  platform.Cluster
	metrics  platform.Metrics
	storage  platform.Storage
	health   platform.Health
	notifier platform.Notifier
	clock    clock.PassiveClock
	waiter   agent.Waiter
	state    tools.StateStore
	env      string
	desc     string
	where    platform.Where
	closers  []func() error
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

func (d deps) openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, filepath.Join(cfg.StateDir, "history.db"), d.clock)
	if err != nil {
		return nil, fmt.Errorf("open history in %s (set --state-dir or OPS_SKILL_STATE_DIR to a writable directory): %w", cfg.StateDir, err)
	}
	return st, nil
}

// newRuntime composes everything one run needs.
func (d deps) newRuntime(ctx context.Context, cfg config.Config, opts cli.RuntimeOptions) (*cli.Runtime, error) {
	st, err := d.openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	mode, err := guard.ParseMode(cfg.Agent.Mode)
	if err != nil {
		st.Close()
		return nil, err
	}
	b, err := d.platform(ctx, &cfg, opts, mode, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	fan, err := newNotifier(cfg, st, b.env)
	if err != nil {
		st.Close()
		return nil, err
	}
	held := ""
	switch {
	case b.where.Simulated() && !opts.Notify:
		// Nothing about a simulated platform leaves the machine unless asked.
		held = "simulated platform (pass --notify to send it, marked SIMULATED)"
	case len(fan.Channels()) > 0:
		b.notifier = fan
	}
	pol := policy.FromConfig(cfg) // after the platform: the namespace may be the context's
	hist := history{s: st, env: b.env, actedLookup: b.env != store.EnvSimulated}
	reg := tools.NewRegistry(tools.Deps{Cluster: b.cluster, Metrics: b.metrics, Storage: b.storage, Health: b.health,
		Notifier: b.notifier, Incidents: hist, State: b.state, Recorder: hist, History: hist, Clock: b.clock, Policy: pol})
	pl, fallback, note, err := d.planners(cfg, pol)
	if err != nil {
		st.Close()
		return nil, err
	}
	acfg := agentConfig(cfg, pol, mode, b.env)
	acfg.Where, acfg.HeldReason = b.where, held
	system, err := systemPrompt(cfg, pol, acfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	services := serviceNames(ctx, b.cluster, cfg.Kubernetes.Namespace)
	rt := &cli.Runtime{
		Registry: reg, Store: st, Env: b.env, Where: b.where, Mode: mode, Now: b.clock.Now,
		Platform: note + " · " + b.desc,
		Parser:   alert.Parser{Namespace: cfg.Kubernetes.Namespace, Services: services, Aliases: alert.DefaultAliases()},
		Close:    closeAll(fan, st, cfg.Alerting.NotifyDeadline+5*time.Second, b),
	}
	if !b.where.Simulated() {
		rt.Preflight = d.metricPreflight(b.metrics)
	}
	rt.NewAgent = func(sink agent.Sink, approver tools.Approver) *agent.Agent {
		return agent.New(acfg, agent.Deps{Registry: reg, Planner: pl, Fallback: fallback, Clock: b.clock, Waiter: b.waiter,
			Notifier: b.notifier, History: hist, Approver: approver, Sink: sink, System: system, Alerting: pol.Alerting})
	}
	return rt, nil
}

// newNotifier builds the notification channels from the config. It runs on
// the real clock even under --simulate: the receivers live in real time.
func newNotifier(cfg config.Config, st *store.Store, env string) (*notify.Fanout, error) {
	fan, err := notify.New(notify.Config{
		SlackWebhook: cfg.Monitoring.AlertWebhook.Reveal(), GenericWebhook: cfg.Alerting.GenericWebhook.Reveal(),
		PagerDutyRoutingKey: cfg.Alerting.PagerDutyRoutingKey.Reveal(), PagerDutyURL: cfg.Alerting.PagerDutyURL,
		GrafanaURL: cfg.Monitoring.GrafanaURL, GrafanaToken: cfg.Monitoring.GrafanaToken.Reveal(), Deadline: cfg.Alerting.NotifyDeadline,
	}, notify.Deps{Clock: clock.RealClock{}, Keys: pagerKeys{s: st, env: env}})
	if err != nil {
		return nil, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	return fan, nil
}

// closeAll delivers queued notifications (bounded), then closes the history.
func closeAll(fan *notify.Fanout, st *store.Store, wait time.Duration, b backends) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		return errors.Join(fan.Close(ctx), closeBackends(b), st.Close())
	}
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
			return d.realPlatform(ctx, cfg, src, mode, st)
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
	b := backends{cluster: p.Cluster(), metrics: p.Metrics(), storage: p.Storage(), health: p.Health(), notifier: nil,
		clock: p.Clock(), waiter: p, state: tools.NewMemoryState(), env: store.EnvSimulated, desc: "",
		where: platform.Where{Kind: platform.WhereSimulated, Scenario: name, Namespace: cfg.Kubernetes.Namespace}}
	b.desc = "Platform: " + b.where.String()
	return b, nil
}

// planners returns the planner, the rules fallback and a note for the transcript.
func (d deps) planners(cfg config.Config, pol guard.Policy) (llm.Client, llm.Client, string, error) {
	rules := planner.NewRules(planner.PolicyFrom(pol))
	switch {
	case cfg.Agent.Planner == config.PlannerRules:
		return rules, rules, "Planner: rules (asked)", nil
	case cfg.LLM.Provider == "" && cfg.Agent.Planner == config.PlannerLLM:
		return nil, nil, "", &cli.ExitError{Code: cli.ExitUsage, Err: errors.New("--planner llm needs a model: set LLM_PROVIDER (claude, openai or zai) and LLM_API_KEY, or LLM_BASE_URL for an OpenAI-compatible endpoint")}
	case cfg.LLM.Provider == "":
		return rules, rules, "Planner: rules (no LLM configured)", nil
	}
	m, err := d.newLLM(cfg.LLM)
	if err != nil {
		return nil, nil, "", &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	return m, rules, "Planner: " + m.Name() + " (rules as fallback)", nil
}

func newOpenAI(c config.LLM) (llm.Client, error) {
	return openai.New(openai.Config{Provider: c.Provider, Model: c.Model, APIKey: c.APIKey.Reveal(), BaseURL: c.BaseURL, Timeout: c.Timeout})
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

func agentConfig(cfg config.Config, pol guard.Policy, mode guard.Mode, env string) agent.Config {
	c := agent.DefaultConfig()
	c.MaxIterations, c.TokenBudget, c.PlannerTimeout = cfg.LLM.MaxIterations, cfg.LLM.TokenBudget, cfg.LLM.Timeout
	c.Mode, c.MaxWrites, c.Env, c.Targets = mode, cfg.Agent.MaxWrites, env, pol.Targets
	if g := cfg.Monitoring.GrafanaURL; g != "" {
		c.DashboardURL = func(service string) string {
			return g + "/explore?left=" + url.QueryEscape(`{"queries":[{"expr":"`+service+`"}]}`)
		}
	}
	return c
}

// systemPrompt renders the model's system prompt; its guardrail sentence is
// the policy's own.
func systemPrompt(cfg config.Config, pol guard.Policy, a agent.Config) (string, error) {
	return prompts.RenderSystem(prompts.System{Namespace: cfg.Kubernetes.Namespace, Namespaces: cfg.Kubernetes.AllowedNamespaces,
		Guardrails: pol.Sentence(), Settle: units.Duration(a.SettleTime), Mode: string(a.Mode)})
}
