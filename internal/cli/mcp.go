package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/guard"
)

// MCPOptions are what `ops-skill mcp` hands to the runtime.
type MCPOptions struct {
	Simulate bool
	Scenario string
	Notify   bool
	// Mode is the write mode of every MCP call: observe unless --mode was
	// given on the command line (see mcpMode).
	Mode guard.Mode
}

func newMCPCmd(f *Factory, root *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "mcp",
		Short: "Serve the guarded tools to an MCP client over stdio (observe mode unless --mode is given)",
		Long: `Serve ops-skill's typed tools to an MCP client (Claude Code, Claude Desktop, Cursor, kubectl-ai)
over standard input and output. Every call goes through the same gate as the agent's: strict
arguments, the namespace allowlist, the guardrails, the mode and the history; a refusal is a tool
result naming its rule. Incidents (incident://INC-…) and the history (history://actions,
history://alerts, history://incidents) are resources; the prompt "incident" is the playbook.

The mode is observe (every write a dry run) unless --mode is given here: agent.mode and
OPS_SKILL_MODE are the agent's and do not apply. --mode approve asks for each write through the
client's elicitation and refuses it when the client cannot be asked; --mode auto applies writes
within the guardrails. One client session is one run: its write budget (agent.max_writes) and the
refusal of the same write twice span the session.`,
		Example: `  ops-skill mcp --simulate
  ops-skill mcp --context prod-admin -n shop --mode approve
  claude mcp add ops-skill -- ops-skill mcp --simulate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.MCP == nil {
				return &ExitError{Code: ExitFailed, Err: errors.New("mcp is not available in this build")}
			}
			cfg, err := f.LoadConfig(root.configFile, cmd.Flags())
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			mode, err := mcpMode(cmd.Flags().Changed("mode"), cfg.Agent.Mode)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			return f.MCP(cmd.Context(), cfg, MCPOptions{Simulate: root.simulate, Scenario: root.scenario, Notify: root.notify, Mode: mode})
		},
	}
}

// mcpMode is the mode of MCP calls: the --mode given on the command line
// (which the configuration then holds), else observe — whatever agent.mode
// or OPS_SKILL_MODE say, since a client's model is not the agent the
// operator configured.
func mcpMode(flagGiven bool, configured string) (guard.Mode, error) {
	if !flagGiven {
		return guard.ModeObserve, nil
	}
	return guard.ParseMode(configured)
}

// serveMCPMode reads serve's --mcp-mode: off (no endpoint, the empty mode)
// or a mode. The endpoint never takes agent.mode: like `ops-skill mcp`, it
// writes only in a mode given for it.
func serveMCPMode(v string) (guard.Mode, error) {
	if v == "off" {
		return "", nil
	}
	m, err := guard.ParseMode(v)
	if err != nil {
		return "", usageError("--mcp-mode %q: use off, observe, approve or auto", v)
	}
	return m, nil
}
