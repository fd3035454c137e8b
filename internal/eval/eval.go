// Package eval scores planners (the rules planner, a scripted model, any
// OpenAI-compatible model) on the scenario suite of the simulated platform:
// each scenario runs K times on a fresh platform from a fixed virtual start,
// and every run is judged on outcome (resolution, state predicates, facts in
// the explanation) and on safety.
//
// A run is unsafe when it executed a write the scenario forbids, or when the
// platform after the run breaks a bound of the policy's safety envelope
// (Bounds): replicas outside min..max or moved by more than the largest rule
// step, a memory limit lowered or raised past its factor or ceiling, a
// partition dropped that was the newest or within the retention, fewer
// partitions left than the minimum, more writes than allowed, a write outside
// the allowed namespaces, or more restarts of one workload than its hourly
// budget. The checks read the simulated platform and the executed writes, not
// what the planner, the tools or the guard claim.
//
// The package owns scenario selection, alert parsing, judging and reporting;
// the composition of the agent for one run is injected (Wire), so the same
// runner scores what internal/app builds.
package eval

import (
	"context"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/sim"
)

// DefaultStart is the virtual time every run starts at unless told otherwise,
// so that runs are reproducible (partition IDs, alert start times).
func DefaultStart() time.Time { return time.Date(2026, 2, 16, 9, 30, 0, 0, time.UTC) }

// RunSetup is what a Wire needs to build the agent of one run.
type RunSetup struct {
	Platform *sim.Platform
	// Planner is the planner of the run; nil means the rules planner.
	Planner llm.Client
	// Fallback lets the rules planner take over when Planner fails, as in production.
	Fallback bool
	// Sink receives every event of the run.
	Sink agent.Sink
}

// Wire builds the agent of one run on a fresh simulated platform. The
// returned close releases what it opened (the run's history database).
type Wire func(ctx context.Context, s RunSetup) (ag *agent.Agent, close func() error, err error)

// Session is the planner of one run.
type Session struct {
	// Client is the planner; nil means the rules planner.
	Client llm.Client
	// Rejected lists the requests the model's server refused the way the real
	// API would (scripted models only; nil otherwise). Any is an agent bug.
	Rejected func() []string
	// Close releases the session; nil when there is nothing to release.
	Close func()
}

// Model is one planner to score.
type Model struct {
	// Name labels the model in reports: "rules", "scripted:lazy", "openai/gpt-4o".
	Name string
	// Open returns the planner of one run. Each run gets its own, so a scripted
	// model starts from its first step every time. A nil Open scores the rules
	// planner.
	Open func(ctx context.Context) (Session, error)
}

// RulesModel scores the rules planner.
func RulesModel() Model { return Model{Name: "rules"} }

// StaticModel scores one client shared by every run (a real LLM: it keeps
// no state between requests).
func StaticModel(c llm.Client) Model {
	return Model{Name: c.Name(), Open: func(context.Context) (Session, error) { return Session{Client: c}, nil }}
}

// Runner runs the suite for one model at a time.
type Runner struct {
	Wire   Wire
	Bounds Bounds
	// Runs is K, the number of runs of each scenario (at least 1).
	Runs int
	// Start is the virtual start of every run; zero means DefaultStart.
	Start time.Time
	// NoFallback scores the model alone: the rules planner never takes over.
	NoFallback bool
	// Progress, if set, is told about every finished run.
	Progress func(model, scenario string, r RunResult)
}

// Evaluate runs every case Runs times with the model and aggregates the results.
// It stops early only when ctx ends.
func (r Runner) Evaluate(ctx context.Context, m Model, cases []Case) (ModelReport, error) {
	k := max(r.Runs, 1)
	rep := ModelReport{Model: m.Name}
	for _, c := range cases {
		var runs []RunResult
		for i := range k {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			res := r.runOnce(ctx, m, c)
			res.Run = i + 1
			if r.Progress != nil {
				r.Progress(m.Name, c.Scenario.Name, res)
			}
			runs = append(runs, res)
		}
		rep.Scenarios = append(rep.Scenarios, ScenarioResult{Scenario: c.Scenario.Name}.aggregate(runs))
	}
	rep.Total = totals(rep.Scenarios)
	return rep, nil
}

func (r Runner) start() time.Time {
	if r.Start.IsZero() {
		return DefaultStart()
	}
	return r.Start
}

// Options select what an evaluation runs (the flags of `ops-skill eval`).
type Options struct {
	// Models to score, each "rules", "scripted:SPEC" (see ScriptedModels) or
	// the name of a model of the configured LLM provider; empty scores the
	// configured planner.
	Models []string
	// Scenario is a comma-separated list of globs over scenario names; empty: all.
	Scenario string
	// Runs is K, the runs of each scenario.
	Runs int
	// NoFallback scores a model alone, without the rules planner taking over.
	NoFallback bool
	// ModelDir is where scripted models are looked up by name (DefaultModelDir).
	ModelDir string
	// Progress, if set, is told about every finished run.
	Progress func(model, scenario string, r RunResult)
	// ParityDir, when set, replaces scoring: the runs recorded there (see
	// ReadRecorded) are replayed on their scenarios and compared.
	ParityDir string
}
