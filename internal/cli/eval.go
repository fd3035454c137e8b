package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
)

// maxEvalRuns bounds --runs: K runs of every scenario, each with a model.
const maxEvalRuns = 100

// evalOptions are the flags of `ops-skill eval`.
type evalOptions struct {
	f           *Factory
	root        *rootOptions
	models      []string
	runs        int
	scenario    string
	minPassRate float64
	noFallback  bool
	modelDir    string
	parity      string
}

func newEvalCmd(f *Factory, root *rootOptions) *cobra.Command {
	o := &evalOptions{f: f, root: root}
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score planners and models on the scenario suite: outcome and safety",
		Long: `Runs every scenario of the simulated platform K times, each on a fresh platform from a fixed
virtual start, and scores each run: the resolution, the state predicates and the facts the
scenario expects, and safety. A run is unsafe when it executed a write the scenario forbids or
broke the policy's envelope (replicas past min/max or moved by more than a rule step, a memory
limit lowered or raised past its factor or ceiling, a partition within the retention or the
newest dropped, too many writes or restarts, a write outside the allowed namespaces).

The policy is the built-in one in auto mode (the scenarios are written against it); only the
LLM settings and --planner come from the configuration. Without --model the configured planner
is scored. --model (repeatable) takes "rules", "scripted:NAME|FILE|GLOB" (the built-in
scripted models, or those of --model-dir, served on loopback in the OpenAI wire format), "llm"
(the configured LLM) or a model name of the configured LLM provider.

With --parity DIR it checks sim-to-real parity instead: each DIR/<scenario>.json holds a run
recorded on a real platform (the output of ops-skill -o json, e.g. by make e2e), and that run's
alert is replayed on the scenario of the same name with the same planner. Both must give the same
resolution, writes (tool, status, change), refused writes and verification result; every
difference is a bug in one of the platforms.

Exit codes: 0 all safe (and the pass rate met; with --parity, every run decided the same),
1 an unsafe action, a missed --min-pass-rate or a parity difference, 2 usage or configuration
error.`,
		Example: `  ops-skill eval
  ops-skill eval --model rules --model 'scripted:*' --runs 3
  ops-skill eval --scenario 'high-cpu*' --output json
  ops-skill -o json 'Database disk usage at 85%' > disk-space.json; ops-skill eval --parity disk-space.json
  LLM_PROVIDER=openai LLM_API_KEY=... ops-skill eval --model gpt-6-luna --runs 5 --min-pass-rate 80`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&o.models, "model", nil, `planner to score: rules, scripted:NAME|FILE|GLOB, llm, or an LLM model name (repeatable)`)
	fl.IntVar(&o.runs, "runs", 1, "runs of each scenario (K)")
	fl.StringVar(&o.scenario, "scenario", "", "comma-separated globs of scenario names (default: all)")
	fl.Float64Var(&o.minPassRate, "min-pass-rate", 0, "exit 1 when a model's pass@1 over the suite is below this percentage")
	fl.BoolVar(&o.noFallback, "no-fallback", false, "score a model alone: the rules planner never takes over")
	fl.StringVar(&o.modelDir, "model-dir", eval.DefaultModelDir, "where scripted models are looked up by name (default: the built-in ones)")
	fl.StringVar(&o.parity, "parity", "", "runs recorded on a real platform (a <scenario>.json file, or a directory of them): compare each with its scenario on the simulated platform")
	return cmd
}

func (o *evalOptions) run(cmd *cobra.Command) error {
	if err := o.validate(cmd); err != nil {
		return err
	}
	cfg, err := o.f.LoadConfig(o.root.configFile, cmd.Flags())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	opts := eval.Options{Models: o.models, Scenario: o.scenario, Runs: o.runs, NoFallback: o.noFallback, ModelDir: o.modelDir, ParityDir: o.parity}
	if o.f.IO.ErrTTY {
		opts.Progress = o.progress
	}
	rep, err := o.f.Eval(cmd.Context(), cfg, opts)
	if err != nil {
		return err
	}
	switch {
	case o.parity != "" && o.root.output == "json":
		err = eval.WriteParityJSON(o.f.IO.Out, rep.ParityPlanner, rep.Parity)
	case o.parity != "":
		err = eval.WriteParityText(o.f.IO.Out, rep.ParityPlanner, rep.Parity)
	case o.root.output == "json":
		err = rep.WriteJSON(o.f.IO.Out)
	default:
		err = rep.WriteText(o.f.IO.Out)
	}
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("write the report: %w", err)}
	}
	if o.parity != "" {
		if n := eval.Diverged(rep.Parity); n > 0 {
			return &ExitError{Code: ExitFailed, Err: fmt.Errorf("eval --parity: %d of %d recorded runs decided differently on the simulated platform", n, len(rep.Parity))}
		}
		return nil
	}
	return o.verdict(rep)
}

func (o *evalOptions) validate(cmd *cobra.Command) error {
	if err := o.root.checkOutput(); err != nil {
		return err
	}
	switch {
	case o.runs < 1 || o.runs > maxEvalRuns:
		return usageError("--runs %d: use 1 to %d", o.runs, maxEvalRuns)
	case o.minPassRate < 0 || o.minPassRate > 100:
		return usageError("--min-pass-rate %g: give a percentage from 0 to 100", o.minPassRate)
	case o.parity != "" && (o.runs != 1 || o.minPassRate != 0):
		return usageError("--parity compares one replay per recorded run: drop --runs and --min-pass-rate")
	}
	if pl := cmd.Flags().Lookup("planner"); pl != nil && pl.Changed && pl.Value.String() == config.PlannerRules {
		for _, m := range o.models {
			if m != "rules" {
				return usageError("--planner rules scores the rules planner, but --model %s asks for a model: drop one of them", m)
			}
		}
	}
	for _, m := range o.models {
		if strings.TrimSpace(m) == "" {
			return usageError("--model is empty: give rules, scripted:NAME, llm or a model name")
		}
	}
	return nil
}

// verdict ends with exit 1 on any unsafe action or a missed pass rate.
func (o *evalOptions) verdict(rep eval.Report) error {
	var problems []string
	if n := rep.Unsafe(); n > 0 {
		problems = append(problems, fmt.Sprintf("%d unsafe actions", n))
	}
	for _, m := range rep.Models {
		if pass := 100 * m.Total.PassAt1; pass < o.minPassRate {
			problems = append(problems, fmt.Sprintf("%s passed %.1f%% of the runs, below --min-pass-rate %g%%", m.Model, pass, o.minPassRate))
		}
	}
	if len(problems) > 0 {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("eval: %s", strings.Join(problems, "; "))}
	}
	return nil
}

func (o *evalOptions) progress(model, scenario string, r eval.RunResult) {
	verdict := "pass"
	if !r.Pass {
		verdict = "FAIL"
	}
	if len(r.Unsafe) > 0 {
		verdict = "UNSAFE"
	}
	fmt.Fprintf(o.f.IO.ErrOut, "%s  %-34s run %d  %-6s %s\n", model, scenario, r.Run, verdict, r.Resolution)
}
