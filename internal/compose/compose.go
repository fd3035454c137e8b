// Package compose is the one composition of an agent: from the configuration,
// a platform and a history it builds the guardrail policy, the tool registry,
// the planners (the rules planner, and an LLM behind the planner contract with
// the rules as its fallback), the agent's bounds and the system prompt — once,
// the same way for the CLI, chat, serve, eval and the tests.
package compose

import (
	"errors"
	"net/url"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llmplanner"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/planner"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/prompts"
	"github.com/duet-company/ops-skill/tools"
)

// Platform is what the agent acts on, and how time passes there.
type Platform struct {
	Cluster  platform.Cluster
	Metrics  platform.Metrics
	Storage  platform.Storage
	Volumes  platform.Volumes // PersistentVolumeClaims; nil: expandVolume and getVolume are not configured
	Health   platform.Health
	Notifier platform.Notifier // nil: notifications stay in the transcript
	Clock    clock.PassiveClock
	Waiter   agent.Waiter
	Rollouts platform.Rollouts  // the rollouts the verification waits for; nil: it waits the settle maximum
	Fresh    platform.Freshness // the signal's samples after a rollout; nil: the rollout is the evidence
	State    tools.StateStore   // the guard's memory; nil: in memory, for this process
	Resolver platform.Resolver  // resolves an alert's object to its workload; nil: none
	Where    platform.Where
	Env      string // "simulated" or the cluster context, as the history keys it
}

// Recorder is what the agent and the tools record and read back (History).
type Recorder interface {
	agent.History
	tools.Recorder
	tools.IncidentStore
	tools.HistoryReader
}

// Options are the parts of one composition.
type Options struct {
	Config   config.Config
	Mode     guard.Mode
	Platform Platform
	// History records the run; nil records nothing, and Incidents (or none)
	// opens incidents.
	History   Recorder
	Incidents tools.IncidentStore
	// Model is the LLM; nil plans with the rules planner alone.
	Model llm.Client
	// NoFallback keeps the rules planner from taking over when Model fails.
	NoFallback bool
	// HeldReason says why notifications are held (agent.Config.HeldReason).
	HeldReason string
	// Subjects makes the runs of one subject take turns; nil: within this
	// composition only.
	Subjects *Subjects
	// Unfinished finds the runs a dead process left unfinished, for the next
	// run of their subject to resume, as Resume says; nil: none (the
	// simulated platform is new on every invocation).
	Unfinished agent.UnfinishedRuns
	Resume     agent.ResumePolicy
	// Tune adjusts the agent's bounds after they are derived (tests).
	Tune func(*agent.Config)
	// TuneModel adjusts what the LLM planner sends (tests).
	TuneModel func(*llmplanner.Config)
	// WrapPlanners wraps the planner and the fallback (tests watch what a
	// planner is given).
	WrapPlanners func(plan.Planner) plan.Planner
	// WrapTools adjusts the tools' dependencies before the registry is built
	// (tests inject faults there).
	WrapTools func(*tools.Deps)
}

// Composition is one agent's parts, composed once; NewAgent gives agents
// that share them, each with its own sink and approver.
type Composition struct {
	Registry *tools.Registry
	Policy   guard.Policy
	Rules    *planner.Rules
	Planner  plan.Planner // the LLM planner, or the rules
	Fallback plan.Planner // the rules, or nil
	Agent    agent.Config
	System   string // the model's system prompt
	Note     string // which planner plans, for the transcript header

	deps agent.Deps
}

// ErrNoModel is returned when the configuration asks for the LLM planner
// (--planner llm) but no model is configured.
var ErrNoModel = errors.New("--planner llm needs a model: set LLM_PROVIDER (claude, openai or zai) and LLM_API_KEY, or LLM_BASE_URL for an OpenAI-compatible endpoint")

// New composes an agent's parts.
func New(o Options) (*Composition, error) {
	cfg, p := o.Config, o.Platform
	pol := policy.FromConfig(cfg)
	deps := tools.Deps{Cluster: p.Cluster, Metrics: p.Metrics, Storage: p.Storage, Volumes: p.Volumes, Health: p.Health, Notifier: p.Notifier,
		Incidents: o.Incidents, State: p.State, Clock: p.Clock, Policy: pol}
	if deps.State == nil {
		deps.State = tools.NewMemoryState()
	}
	if o.History != nil {
		deps.Incidents, deps.Recorder, deps.History = o.History, o.History, o.History
	}
	if o.WrapTools != nil {
		o.WrapTools(&deps)
	}
	c := &Composition{Registry: tools.NewRegistry(deps), Policy: pol, Rules: planner.NewRules(planner.PolicyFrom(pol))}
	c.Agent = agentConfig(cfg, pol, o.Mode, p)
	c.Agent.HeldReason, c.Agent.Resume = o.HeldReason, o.Resume
	if o.Tune != nil {
		o.Tune(&c.Agent)
	}
	system, err := SystemPrompt(cfg, pol, c.Agent)
	if err != nil {
		return nil, err
	}
	c.System = system
	if err := c.planners(cfg, o); err != nil {
		return nil, err
	}
	if o.WrapPlanners != nil {
		c.Planner = o.WrapPlanners(c.Planner)
		if c.Fallback != nil {
			c.Fallback = o.WrapPlanners(c.Fallback)
		}
	}
	var hist agent.History
	if o.History != nil {
		hist = o.History
	}
	c.deps = agent.Deps{Registry: c.Registry, Planner: c.Planner, Fallback: c.Fallback, Clock: p.Clock, Waiter: p.Waiter, Rollouts: p.Rollouts, Fresh: p.Fresh,
		Disks: diskReader(p.Storage), Notifier: p.Notifier, History: hist, Resolver: p.Resolver, Subjects: o.Subjects, Alerting: pol.Alerting,
		Unfinished: o.Unfinished}
	if o.Subjects == nil {
		c.deps.Subjects = NewSubjects("")
	}
	return c, nil
}

// planners picks the planner, its fallback and the note that names them.
func (c *Composition) planners(cfg config.Config, o Options) error {
	c.Planner, c.Fallback = c.Rules, c.Rules
	switch {
	case o.Model != nil:
		mc := llmplanner.DefaultConfig()
		mc.System, mc.Tools, mc.MaxTokens = c.System, c.Registry.Specs(), cfg.LLM.MaxTokens
		if o.TuneModel != nil {
			o.TuneModel(&mc)
		}
		c.Planner, c.Note = llmplanner.New(o.Model, mc), "Planner: "+o.Model.Name()+" (rules as fallback)"
		if o.NoFallback {
			c.Fallback, c.Note = nil, "Planner: "+o.Model.Name()
		}
	case cfg.Agent.Planner == config.PlannerRules:
		c.Note = "Planner: rules (asked)"
	case cfg.Agent.Planner == config.PlannerLLM:
		return ErrNoModel
	default:
		c.Note = "Planner: rules (no LLM configured)"
	}
	return nil
}

// NewAgent builds an agent of the composition that emits to sink and asks
// approver in approve mode.
func (c *Composition) NewAgent(sink agent.Sink, approver tools.Approver) *agent.Agent {
	d := c.deps
	d.Sink, d.Approver = sink, approver
	return agent.New(c.Agent, d)
}

func agentConfig(cfg config.Config, pol guard.Policy, mode guard.Mode, p Platform) agent.Config {
	c := agent.DefaultConfig()
	c.MaxIterations, c.TokenBudget, c.PlannerTimeout = cfg.LLM.MaxIterations, cfg.LLM.TokenBudget, cfg.LLM.Timeout
	c.Mode, c.MaxWrites, c.Env, c.Where, c.Targets = mode, cfg.Agent.MaxWrites, p.Env, p.Where, pol.Targets
	c.StorageWorkload, c.RunTimeout = pol.Partitions.Workload, cfg.Agent.RunTimeout
	if g := cfg.Monitoring.GrafanaURL; g != "" {
		c.DashboardURL = func(service string) string {
			return g + "/explore?left=" + url.QueryEscape(`{"queries":[{"expr":"`+service+`"}]}`)
		}
	}
	return c
}

// SystemPrompt renders the model's system prompt; its guardrail sentence is
// the policy's own.
func SystemPrompt(cfg config.Config, pol guard.Policy, a agent.Config) (string, error) {
	return prompts.RenderSystem(prompts.System{Namespace: cfg.Kubernetes.Namespace, Namespaces: cfg.Kubernetes.AllowedNamespaces,
		Guardrails: pol.Sentence(), Settle: units.Duration(a.SettleTime), Mode: string(a.Mode)})
}

// Simulated is the platform of a simulation: its ports, its notifier (the
// simulated receivers), its virtual clock, the guard state in memory.
func Simulated(p *sim.Platform, namespace string) Platform {
	return Platform{Cluster: p.Cluster(), Metrics: p.Metrics(), Storage: p.Storage(), Volumes: p.Volumes(), Health: p.Health(), Notifier: p.Notifier(),
		Clock: p.Clock(), Waiter: p, Rollouts: p.Rollouts(), Fresh: p.Freshness(), State: tools.NewMemoryState(), Resolver: p.Resolver(), Env: store.EnvSimulated,
		Where: platform.Where{Kind: platform.WhereSimulated, Scenario: p.Scenario().Name, Namespace: namespace}}
}

// diskReader is the storage's disk reader, nil without a storage.
func diskReader(s platform.Storage) platform.DiskReader {
	if s == nil {
		return nil
	}
	return s
}
