package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/compose"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
)

// EvalConfig is the configuration eval runs use: the built-in policy in auto
// mode, which the scenarios' expectations are written against, with the
// effective LLM settings and planner choice of cfg. A local threshold or mode
// therefore never changes a score.
func EvalConfig(cfg config.Config) config.Config {
	out := config.Defaults()
	out.Kubernetes.AllowedNamespaces = []string{out.Kubernetes.Namespace}
	out.LLM, out.Agent.Planner = cfg.LLM, cfg.Agent.Planner
	return out
}

// EvalWire composes the agent of one eval run the way newRuntime does for
// --simulate (compose.New): the simulated platform's ports (its notifier
// included) behind the tool registry, a private in-memory history, the guard
// state in memory, the rules planner as planner or fallback, and the rendered
// system prompt.
func EvalWire(cfg config.Config) eval.Wire {
	return func(ctx context.Context, s eval.RunSetup) (*agent.Agent, func() error, error) {
		p := s.Platform
		mode, err := guard.ParseMode(cfg.Agent.Mode)
		if err != nil {
			return nil, nil, err
		}
		st, err := store.Open(ctx, store.MemoryPath, p.Clock())
		if err != nil {
			return nil, nil, fmt.Errorf("open the run's history: %w", err)
		}
		c := cfg
		if s.Planner == nil {
			c.Agent.Planner = config.PlannerRules // the rules model: whatever the configured planner
		}
		comp, err := compose.New(compose.Options{Config: c, Mode: mode, Platform: compose.Simulated(p, c.Kubernetes.Namespace),
			History: compose.NewHistory(st, store.EnvSimulated, false), Model: s.Planner, NoFallback: !s.Fallback})
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		return comp.NewAgent(s.Sink, nil), st.Close, nil
	}
}

// evaluate runs the suite for every model asked for (cli.Factory.Eval).
func (d deps) evaluate(ctx context.Context, cfg config.Config, opts eval.Options) (eval.Report, error) {
	pattern := opts.Scenario
	if opts.ParityDir != "" {
		pattern = "" // the recorded runs' names select the scenarios
	}
	cases, err := eval.LoadSuite(sim.Scenarios(), pattern)
	if err != nil {
		return eval.Report{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("--scenario: %w", err)}
	}
	ecfg := EvalConfig(cfg)
	models, err := d.evalModels(ecfg, opts)
	if err != nil {
		return eval.Report{}, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	r := eval.Runner{Wire: EvalWire(ecfg), Bounds: eval.BoundsFor(ecfg), Runs: max(opts.Runs, 1), NoFallback: opts.NoFallback, Progress: opts.Progress}
	rep := eval.Report{Start: eval.DefaultStart(), Runs: r.Runs}
	if opts.ParityDir != "" {
		return d.parity(ctx, r, cases, models, opts)
	}
	for _, m := range models {
		mr, err := r.Evaluate(ctx, m, cases)
		if err != nil {
			return rep, fmt.Errorf("eval %s: %w", m.Name, err)
		}
		rep.Models = append(rep.Models, mr)
	}
	return rep, nil
}

// parity replays the runs recorded in opts.ParityDir on their scenarios
// with the one model to compare with.
func (d deps) parity(ctx context.Context, r eval.Runner, cases []eval.Case, models []eval.Model, opts eval.Options) (eval.Report, error) {
	if len(models) != 1 {
		return eval.Report{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("--parity compares with one planner, got %d --model values: keep the one that recorded the runs", len(models))}
	}
	recs, err := eval.ReadRecorded(opts.ParityDir, opts.Scenario)
	if err != nil {
		return eval.Report{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("--parity %s: %w", opts.ParityDir, err)}
	}
	res, err := r.Parity(ctx, models[0], cases, recs)
	if errors.Is(err, eval.ErrNoScenario) {
		return eval.Report{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("--parity: %w", err)}
	}
	if err != nil {
		return eval.Report{}, fmt.Errorf("parity: %w", err)
	}
	return eval.Report{Start: eval.DefaultStart(), Runs: 1, Parity: res, ParityPlanner: models[0].Name}, nil
}

// evalModels resolves --model values; without any, the configured planner.
func (d deps) evalModels(cfg config.Config, opts eval.Options) ([]eval.Model, error) {
	dir := opts.ModelDir
	specs := opts.Models
	if len(specs) == 0 {
		specs = []string{d.defaultEvalModel(cfg)}
	}
	var out []eval.Model
	for _, spec := range specs {
		switch {
		case spec == "rules":
			out = append(out, eval.RulesModel())
		case strings.HasPrefix(spec, eval.ScriptedPrefix):
			ms, err := eval.ScriptedModels(strings.TrimPrefix(spec, eval.ScriptedPrefix), dir)
			if err != nil {
				return nil, fmt.Errorf("--model %s: %w", spec, err)
			}
			out = append(out, ms...)
		default:
			m, err := d.evalLLM(cfg, spec)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// defaultEvalModel is the planner the configuration picks: "llm" when a
// provider is set and the planner is not rules, "rules" otherwise.
func (d deps) defaultEvalModel(cfg config.Config) string {
	if cfg.Agent.Planner == config.PlannerRules || (cfg.LLM.Provider == "" && cfg.Agent.Planner != config.PlannerLLM) {
		return "rules"
	}
	return "llm"
}

// evalLLM builds the configured LLM client; spec "llm" keeps LLM_MODEL, any
// other value replaces it.
func (d deps) evalLLM(cfg config.Config, spec string) (eval.Model, error) {
	if cfg.LLM.Provider == "" {
		return eval.Model{}, errors.New("scoring an LLM needs one: set LLM_PROVIDER (claude, openai or zai) and LLM_API_KEY, or LLM_BASE_URL for an OpenAI-compatible endpoint; without a key, use --model rules or --model scripted:NAME")
	}
	c := cfg.LLM
	if spec != "llm" {
		c.Model = spec
	}
	m, err := d.newLLM(c)
	if err != nil {
		return eval.Model{}, err
	}
	return eval.StaticModel(m), nil
}
