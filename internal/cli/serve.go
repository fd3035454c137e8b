package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
)

// ServeOptions are what serve takes beyond the configuration's serve
// section (config.Serve: keys, OPS_SKILL_SERVE_* variables and these flags).
type ServeOptions struct {
	Simulate bool
	Scenario string
	Notify   bool // send a simulated platform's notifications (marked SIMULATED)
	// MCPMode is the mode of the MCP endpoint /mcp; empty: no endpoint
	// (--mcp-mode off, the default).
	MCPMode guard.Mode
}

func newServeCmd(f *Factory, root *rootOptions) *cobra.Command {
	var noHealthLoop bool
	var mcpModeFlag string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Act automatically: receive Alertmanager webhooks, run the health, scaling and escalation loops",
		Long: `Run ops-skill as a service. POST /webhook takes Alertmanager's webhook (version 4): each firing
alert goes through the same agent, planner, guard and notifications as the CLI, once per alert
instance however often it is delivered; a resolved alert closes its incident. The health-check
matrix runs every HEALTH_CHECK_INTERVAL and feeds the self-healing ladder; the scaling rules are
evaluated for the --scale-workload workloads; alerts still firing after ESCALATION_HOURS escalate.

Requests need the bearer token of --auth-token-file or the credentials of --basic-auth-file, unless
--allow-anonymous. With several replicas on a cluster, a Lease elects the one that acts; the others
answer 503 so that Alertmanager retries. /healthz, /readyz and /metrics serve operations.
With --mcp-mode observe, approve or auto, /mcp serves the guarded tools to MCP clients (streamable
HTTP) with the same credentials, in that mode only (never agent.mode).
SIGTERM stops accepting, lets work finish within --shutdown-grace, then cancels the rest.`,
		Example: `  ops-skill serve --simulate --auth-token-file token --listen 127.0.0.1:9095
  ops-skill serve --listen :9095 --auth-token-file /var/run/secrets/ops-skill/token \
    --scale-workload ai-data-labs/backend --lease-namespace ai-data-labs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.Serve == nil {
				return &ExitError{Code: ExitFailed, Err: errors.New("serve is not available in this build")}
			}
			cfg, err := f.LoadConfig(root.configFile, cmd.Flags())
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			if noHealthLoop {
				cfg.Serve.HealthLoop = false
			}
			if err := checkCredentials(cfg.Serve); err != nil {
				return err
			}
			mcpMode, err := serveMCPMode(mcpModeFlag)
			if err != nil {
				return err
			}
			return f.Serve(cmd.Context(), cfg, ServeOptions{Simulate: root.simulate, Scenario: root.scenario, Notify: root.notify, MCPMode: mcpMode})
		},
	}
	// Each flag is a key of the configuration's serve section (config.Serve),
	// read by the loader with the file and OPS_SKILL_SERVE_* variables; the
	// defaults shown are the configuration's.
	d := config.Defaults().Serve
	fl := cmd.Flags()
	fl.String("listen", d.Listen, "address to listen on (host:port; :9095 for every interface)")
	fl.String("auth-token-file", "", "file holding the bearer token Alertmanager sends")
	fl.String("basic-auth-file", "", `file holding "user:password" for HTTP basic auth`)
	fl.Bool("allow-anonymous", false, "accept requests without credentials (wrong credentials are still refused)")
	fl.String("max-body-bytes", "1Mi", "largest webhook body accepted (413 beyond)")
	fl.Int("queue-size", d.QueueSize, "jobs that may wait; a delivery that does not fit gets 503 and is retried")
	fl.Int("workers", d.Workers, "jobs run at once (never two on one workload)")
	fl.Duration("retry-after", d.RetryAfter, "Retry-After of 503 answers")
	fl.Duration("shutdown-grace", d.ShutdownGrace, "time queued and running work may take after SIGTERM")
	fl.BoolVar(&noHealthLoop, "no-health-loop", false, "do not run the health-check matrix (serve.health_loop: false)")
	fl.StringVar(&mcpModeFlag, "mcp-mode", "off", "serve the guarded tools over MCP at /mcp (streamable HTTP, the webhook's authentication) in this mode: off, observe, approve or auto")
	fl.Duration("scale-period", d.ScalePeriod, "how often the scaling rules are evaluated (0: never)")
	fl.StringSlice("scale-workload", nil, "workload the scaling loop evaluates, namespace/name or name (repeatable)")
	fl.Duration("escalation-period", d.EscalationPeriod, "how often firing alerts are checked against ESCALATION_HOURS (0: never)")
	fl.Duration("ledger-ttl", d.LedgerTTL, "how long a handled delivery is remembered (alerts still firing: until resolved); longer than Alertmanager's repeat_interval")
	fl.String("leader-election", d.LeaderElection, "auto, lease or none")
	fl.String("lease-namespace", "", "namespace of the Lease (default NAMESPACE)")
	fl.String("lease-name", d.LeaseName, "name of the Lease")
	fl.Duration("lease-duration", d.LeaseDuration, "how long followers wait before taking an unrenewed lease")
	fl.Duration("renew-deadline", d.RenewDeadline, "how long the leader tries to renew before it stops acting")
	fl.Duration("retry-period", d.RetryPeriod, "time between election attempts and renewals")
	fl.String("identity", "", "name of this replica in the Lease (default hostname and a random suffix)")
	fl.String("log-level", d.LogLevel, "debug, info, warn or error")
	return cmd
}

// checkCredentials refuses to serve without a way to authenticate Alertmanager.
func checkCredentials(s config.Serve) error {
	if s.AuthTokenFile == "" && s.BasicAuthFile == "" && !s.AllowAnonymous {
		return usageError("serve needs credentials: give --auth-token-file or --basic-auth-file (files, so no secret is on the command line), or --allow-anonymous on a trusted network")
	}
	return nil
}
