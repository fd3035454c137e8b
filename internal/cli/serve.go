package cli

import (
	"errors"
	"time"

	"github.com/spf13/cobra"
)

// ServeOptions are the settings of `ops-skill serve`. Secrets come from
// files (a mounted Kubernetes Secret), never from the command line.
type ServeOptions struct {
	Simulate bool
	Scenario string
	Notify   bool // send a simulated platform's notifications (marked SIMULATED)

	Listen         string
	TokenFile      string // bearer token, one line
	BasicAuthFile  string // "user:password", one line
	AllowAnonymous bool
	MaxBodyBytes   int64
	QueueSize      int
	Workers        int
	RetryAfter     time.Duration
	ShutdownGrace  time.Duration

	NoHealthLoop     bool          // the health loop runs every HEALTH_CHECK_INTERVAL unless set
	ScalePeriod      time.Duration // 0: off
	ScaleWorkloads   []string      // namespace/name or name (in NAMESPACE)
	EscalationPeriod time.Duration // 0: off

	LeaderElection string // auto, lease or none
	LeaseNamespace string // default NAMESPACE
	LeaseName      string
	LeaseDuration  time.Duration
	RenewDeadline  time.Duration
	RetryPeriod    time.Duration
	Identity       string // default hostname plus a random suffix

	LogLevel string // debug, info, warn, error
}

// Leader election modes of ServeOptions.LeaderElection.
const (
	LeaderElectionAuto  = "auto"  // a Lease when acting on a real cluster, alone under --simulate
	LeaderElectionLease = "lease" // a Lease, also under --simulate (KUBECONFIG or in-cluster)
	LeaderElectionNone  = "none"  // this instance leads alone
)

func newServeCmd(f *Factory, root *rootOptions) *cobra.Command {
	o := ServeOptions{}
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
SIGTERM stops accepting, lets work finish within --shutdown-grace, then cancels the rest.`,
		Example: `  ops-skill serve --simulate --auth-token-file token --listen 127.0.0.1:9095
  ops-skill serve --listen :9095 --auth-token-file /var/run/secrets/ops-skill/token \
    --scale-workload ai-data-labs/backend --lease-namespace ai-data-labs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			if f.Serve == nil {
				return &ExitError{Code: ExitFailed, Err: errors.New("serve is not available in this build")}
			}
			cfg, err := f.LoadConfig(root.configFile, cmd.Flags())
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			o.Simulate, o.Scenario, o.Notify = root.simulate, root.scenario, root.notify
			return f.Serve(cmd.Context(), cfg, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Listen, "listen", "127.0.0.1:9095", "address to listen on (host:port; :9095 for every interface)")
	fl.StringVar(&o.TokenFile, "auth-token-file", "", "file holding the bearer token Alertmanager sends")
	fl.StringVar(&o.BasicAuthFile, "basic-auth-file", "", `file holding "user:password" for HTTP basic auth`)
	fl.BoolVar(&o.AllowAnonymous, "allow-anonymous", false, "accept requests without credentials (wrong credentials are still refused)")
	fl.Int64Var(&o.MaxBodyBytes, "max-body-bytes", 1<<20, "largest webhook body accepted (413 beyond)")
	fl.IntVar(&o.QueueSize, "queue-size", 256, "jobs that may wait; a delivery that does not fit gets 503 and is retried")
	fl.IntVar(&o.Workers, "workers", 2, "jobs run at once (never two on one workload)")
	fl.DurationVar(&o.RetryAfter, "retry-after", 5*time.Second, "Retry-After of 503 answers")
	fl.DurationVar(&o.ShutdownGrace, "shutdown-grace", 30*time.Second, "time queued and running work may take after SIGTERM")
	fl.BoolVar(&o.NoHealthLoop, "no-health-loop", false, "do not run the health-check matrix")
	fl.DurationVar(&o.ScalePeriod, "scale-period", time.Minute, "how often the scaling rules are evaluated (0: never)")
	fl.StringSliceVar(&o.ScaleWorkloads, "scale-workload", nil, "workload the scaling loop evaluates, namespace/name or name (repeatable)")
	fl.DurationVar(&o.EscalationPeriod, "escalation-period", time.Minute, "how often firing alerts are checked against ESCALATION_HOURS (0: never)")
	fl.StringVar(&o.LeaderElection, "leader-election", LeaderElectionAuto, "auto, lease or none")
	fl.StringVar(&o.LeaseNamespace, "lease-namespace", "", "namespace of the Lease (default NAMESPACE)")
	fl.StringVar(&o.LeaseName, "lease-name", "ops-skill-serve", "name of the Lease")
	fl.DurationVar(&o.LeaseDuration, "lease-duration", 15*time.Second, "how long followers wait before taking an unrenewed lease")
	fl.DurationVar(&o.RenewDeadline, "renew-deadline", 10*time.Second, "how long the leader tries to renew before it stops acting")
	fl.DurationVar(&o.RetryPeriod, "retry-period", 2*time.Second, "time between election attempts and renewals")
	fl.StringVar(&o.Identity, "identity", "", "name of this replica in the Lease (default hostname and a random suffix)")
	fl.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

// check validates what can be validated without the configuration.
func (o ServeOptions) check() error {
	switch o.LeaderElection {
	case LeaderElectionAuto, LeaderElectionLease, LeaderElectionNone:
	default:
		return usageError("--leader-election %q: use auto, lease or none", o.LeaderElection)
	}
	switch o.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return usageError("--log-level %q: use debug, info, warn or error", o.LogLevel)
	}
	if o.TokenFile == "" && o.BasicAuthFile == "" && !o.AllowAnonymous {
		return usageError("serve needs credentials: give --auth-token-file or --basic-auth-file (files, so no secret is on the command line), or --allow-anonymous on a trusted network")
	}
	return nil
}
