package cli

import (
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// Factory gives commands what they need without globals; internal/app fills it.
type Factory struct {
	IO  *IOStreams
	Env config.EnvFunc
	// LoadConfig loads the effective config with the flags that were set.
	LoadConfig func(configFile string, flags *pflag.FlagSet) (config.Config, error)
	// OpenStore opens the history database of a config.
	OpenStore func(ctx context.Context, cfg config.Config) (*store.Store, error)
	// NewRuntime builds the platform, tools and agent for a run.
	NewRuntime func(ctx context.Context, cfg config.Config, opts RuntimeOptions) (*Runtime, error)
	// Now is the wall clock, for history listings.
	Now func() time.Time
	// HealthChecks builds the health matrix: the simulated one, or real checks.
	HealthChecks func(ctx context.Context, cfg config.Config, opts HealthOptions) (func(context.Context) []platform.HealthResult, error)
	// Scenarios lists the simulated platform's scenarios.
	Scenarios func() ([]ScenarioInfo, error)
	// Eval scores planners on the scenario suite (ops-skill eval).
	Eval func(ctx context.Context, cfg config.Config, opts eval.Options) (eval.Report, error)
	// Doctor runs the preflight checks as a report (ops-skill doctor).
	Doctor func(ctx context.Context, cfg config.Config, opts DoctorOptions) (DoctorReport, error)
	// Serve runs ops-skill as a service until ctx ends (ops-skill serve).
	Serve func(ctx context.Context, cfg config.Config, opts ServeOptions) error
	// MCP serves the guarded tools to an MCP client on the streams until the
	// client leaves or ctx ends (ops-skill mcp).
	MCP func(ctx context.Context, cfg config.Config, opts MCPOptions) error
}

// ScenarioInfo describes one simulated scenario.
type ScenarioInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Alert       string `json:"alert"`
}

// RuntimeOptions select the platform of a run.
type RuntimeOptions struct {
	Simulate  bool
	Scenario  string // empty: chosen from MatchText
	MatchText string
	Output    string
	// Notify sends the notifications of a simulated run (marked SIMULATED).
	Notify bool
	// HealthLoop says the runtime runs serve's health loop, which counts a
	// service's failures over time; without it a run confirms a failing
	// check by probing again (health.Confirming).
	HealthLoop bool
}

// Runtime is everything a run needs, built by internal/app.
type Runtime struct {
	Registry *tools.Registry
	Parser   alert.Parser
	Store    *store.Store
	Env      string         // "simulated" or the cluster context
	Where    platform.Where // the platform the run acts on (header, approvals, notifications)
	Platform string         // a one-line description for transcripts
	Mode     guard.Mode
	// NewAgent builds an agent that emits to sink and asks approver in approve mode.
	NewAgent func(sink agent.Sink, approver tools.Approver) *agent.Agent
	Now      func() time.Time
	Close    func() error
	// Preflight checks, before the first action, that the metrics the alerts'
	// runs need exist for their targets; nil on the simulated platform.
	Preflight func(ctx context.Context, alerts []alert.Alert) error
}
