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

	opsskill "github.com/duet-company/ops-skill"
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
	hist := history{s: st, env: b.env, actedLookup: b.env != store.EnvSimulated}
	reg := tools.NewRegistry(tools.Deps{Cluster: b.cluster, Metrics: b.metrics, Storage: b.storage, Health: b.health,
		Notifier: b.notifier, Incidents: hist, State: b.state, Recorder: hist, History: hist, Clock: b.clock, Policy: toolPolicy(cfg)})
	pl, fallback, note, err := d.planners(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	acfg := agentConfig(cfg, mode, b.env)
	acfg.Where, acfg.HeldReason = b.where, held
	system, err := systemPrompt(cfg, acfg)
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
			Notifier: b.notifier, History: hist, Approver: approver, Sink: sink, System: system, Alerting: alertPolicy(cfg)})
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
		if name, ok = sim.MatchScenario(opsskill.Scenarios(), opts.MatchText); !ok {
			name = "healthy"
		}
	}
	sc, err := sim.LoadScenario(opsskill.Scenarios(), name)
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
func (d deps) planners(cfg config.Config) (llm.Client, llm.Client, string, error) {
	rules := planner.NewRules(rulesPolicy(cfg))
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

func toolPolicy(cfg config.Config) tools.Policy {
	return tools.Policy{
		Scope:         guard.Scope{AllowedNamespaces: cfg.Kubernetes.AllowedNamespaces},
		Scaling:       scalingPolicy(cfg.AutoScaling),
		Healing:       healingPolicy(cfg.SelfHealing),
		Partitions:    partitionPolicy(cfg.Storage),
		Alerting:      alertPolicy(cfg),
		NotifyEnabled: cfg.Alerting.Enabled,
	}
}

func scalingPolicy(a config.AutoScaling) guard.ScalingPolicy {
	return guard.ScalingPolicy{Enabled: a.Enabled, Min: int64(a.MinReplicas), Max: int64(a.MaxReplicas),
		Up:         guard.Rule{Threshold: a.ScaleUpThreshold, Sustain: a.ScaleUpDuration, Step: int64(a.ScaleUpStep)},
		Down:       guard.Rule{Threshold: a.ScaleDownThreshold, Sustain: a.ScaleDownDuration, Step: int64(a.ScaleDownStep)},
		Out:        guard.Rule{Threshold: a.ErrorRateThreshold, Sustain: a.ErrorRateDuration, Step: int64(a.ErrorRateStep)},
		SampleStep: tools.SampleStep, OptOutAnnotation: a.OptOutAnnotation}
}

func healingPolicy(s config.SelfHealing) guard.HealingPolicy {
	return guard.HealingPolicy{Enabled: s.Enabled, RestartThreshold: s.RestartThreshold, ReplacementThreshold: s.ReplacementThreshold,
		RestartBudgetPerHour: s.RestartBudgetPerHour, MemoryMaxFactor: s.MemoryRaiseMaxFactor, MemoryCeiling: s.MemoryCeiling}
}

func partitionPolicy(s config.Storage) guard.PartitionPolicy {
	return guard.PartitionPolicy{Retention: time.Duration(s.RetentionDays) * 24 * time.Hour, MinKeep: s.MinPartitions,
		MaxPerRun: s.MaxPartitionsPerRun, MaxBytesPerRun: uint64(s.MaxBytesPerRun)}
}

func alertPolicy(cfg config.Config) guard.AlertPolicy {
	return guard.AlertPolicy{Enabled: cfg.Alerting.Enabled, Cooldown: cfg.Alerting.Cooldown, EscalateAfter: cfg.Alerting.EscalationAfter()}
}

func rulesPolicy(cfg config.Config) planner.Policy {
	a := cfg.AutoScaling
	return planner.Policy{ScaleUpThreshold: a.ScaleUpThreshold, ScaleDownThreshold: a.ScaleDownThreshold, ErrorRateThreshold: a.ErrorRateThreshold,
		UpStep: a.ScaleUpStep, OutStep: a.ErrorRateStep, MinReplicas: a.MinReplicas, MaxReplicas: a.MaxReplicas,
		DiskTargetPct: diskTarget, MemoryFactor: cfg.SelfHealing.MemoryRaiseMaxFactor,
		UpWindow: a.ScaleUpDuration, OutWindow: a.ErrorRateDuration, RetentionDays: cfg.Storage.RetentionDays}
}

// diskTarget is the disk usage below which a disk alert counts as resolved.
const diskTarget = 75

func agentConfig(cfg config.Config, mode guard.Mode, env string) agent.Config {
	c := agent.DefaultConfig()
	c.MaxIterations, c.TokenBudget, c.PlannerTimeout = cfg.LLM.MaxIterations, cfg.LLM.TokenBudget, cfg.LLM.Timeout
	c.Mode, c.MaxWrites, c.Env = mode, cfg.Agent.MaxWrites, env
	c.ScaleUpThreshold, c.ErrorRateTarget, c.DiskTargetPct = cfg.AutoScaling.ScaleUpThreshold, cfg.AutoScaling.ErrorRateThreshold, diskTarget
	if g := cfg.Monitoring.GrafanaURL; g != "" {
		c.DashboardURL = func(service string) string {
			return g + "/explore?left=" + url.QueryEscape(`{"queries":[{"expr":"`+service+`"}]}`)
		}
	}
	return c
}

func systemPrompt(cfg config.Config, a agent.Config) (string, error) {
	s := cfg.AutoScaling
	guardrails := fmt.Sprintf("scale up on CPU>%.0f%% for %s (+%d), out on errors>%.0f%% for %s (+%d), down on CPU<%.0f%% for %s; replicas %d-%d; %d restarts/h; memory x%.0f max %s after OOM; drop partitions older than %dd",
		s.ScaleUpThreshold, units.Duration(s.ScaleUpDuration), s.ScaleUpStep, s.ErrorRateThreshold, units.Duration(s.ErrorRateDuration), s.ErrorRateStep,
		s.ScaleDownThreshold, units.Duration(s.ScaleDownDuration), s.MinReplicas, s.MaxReplicas, cfg.SelfHealing.RestartBudgetPerHour,
		cfg.SelfHealing.MemoryRaiseMaxFactor, units.IBytes(cfg.SelfHealing.MemoryCeiling), cfg.Storage.RetentionDays)
	return prompts.RenderSystem(prompts.System{Namespace: cfg.Kubernetes.Namespace, Namespaces: cfg.Kubernetes.AllowedNamespaces,
		Guardrails: guardrails, Settle: units.Duration(a.SettleTime), Mode: string(a.Mode)})
}
