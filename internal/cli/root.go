package cli

import (
	"github.com/spf13/cobra"
)

// rootOptions are the flags of the top-level command.
type rootOptions struct {
	f          *Factory
	configFile string
	output     string
	noColor    bool

	alertFile string
	simulate  bool
	scenario  string
	notify    bool

	alertHistory     bool
	scaleHistory     bool
	chart            bool
	thresholdHistory bool
	updateThreshold  []string
	since            string
	service          string
	cluster          string
	limit            int
}

// NewRoot builds the ops-skill command tree; build is what `version` and
// --version print.
func NewRoot(f *Factory, build BuildInfo) *cobra.Command {
	o := &rootOptions{f: f}
	cmd := &cobra.Command{
		Use:   "ops-skill [ALERT TEXT | -]",
		Short: "Diagnose, act on and verify an infrastructure alert, within guardrails enforced in code",
		Long: `ops-skill takes an infrastructure alert, diagnoses it with typed tools, acts within guardrails
enforced in code (thresholds, sustained windows, min/max replicas, cooldowns, restart budgets,
partition retention, namespaces, modes), verifies the fix and notifies the team.

Without a cluster configured (KUBECONFIG), it runs on the built-in simulated platform.`,
		Example: `  ops-skill "Alert: Backend service CPU at 85% for 5 minutes"
  ops-skill --alert-file am.json
  cat am.json | ops-skill -
  ops-skill --simulate --scenario disk-space "Alert: Database disk usage at 85%"
  ops-skill --alert-history --since 24h --service backend
  ops-skill --update-threshold scale_up.cpu=85`,
		Version:       build.Version,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args)
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.configFile, "config", "", "skill config YAML (default $XDG_CONFIG_HOME/ops-skill/config.yaml)")
	pf.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	pf.BoolVar(&o.noColor, "no-color", false, "disable colour")
	pf.StringP("namespace", "n", "", "namespace of the workloads (env NAMESPACE)")
	pf.String("mode", "", "write mode: observe, approve or auto (env OPS_SKILL_MODE)")
	pf.String("planner", "", "planner: auto, llm or rules (env OPS_SKILL_PLANNER)")
	pf.String("state-dir", "", "history and state directory (env OPS_SKILL_STATE_DIR)")
	pf.String("store", "", "history store: a postgres:// URL or a SQLite file (default history.db in the state dir; env OPS_SKILL_STORE_URL)")
	pf.String("kubeconfig", "", "kubeconfig file (env KUBECONFIG)")
	pf.String("context", "", "kubeconfig context")
	pf.BoolVar(&o.simulate, "simulate", false, "run against the built-in simulated platform")
	pf.BoolVar(&o.notify, "notify", false, "on the simulated platform: send the notifications too (marked SIMULATED); by default nothing leaves the machine")
	pf.StringVar(&o.scenario, "scenario", "", "simulated scenario (default: chosen from the alert; see 'ops-skill scenarios')")

	fl := cmd.Flags()
	fl.StringVar(&o.alertFile, "alert-file", "", "read the alert (text or Alertmanager JSON) from a file")
	fl.BoolVar(&o.alertHistory, "alert-history", false, "list the alerts handled and their outcome")
	fl.BoolVar(&o.scaleHistory, "scale-history", false, "list scale events")
	fl.BoolVar(&o.chart, "chart", false, "with --scale-history: draw the metric against its threshold at each scale event")
	fl.BoolVar(&o.thresholdHistory, "threshold-history", false, "list threshold changes")
	fl.StringArrayVar(&o.updateThreshold, "update-threshold", nil, "set a threshold, e.g. scale_up.cpu=85 (repeatable)")
	fl.StringVar(&o.since, "since", "", "with a history flag: only entries newer than this (e.g. 24h, 7d)")
	fl.StringVar(&o.service, "service", "", "with a history flag: only this service")
	fl.StringVar(&o.cluster, clusterFlag, "", clusterUsage)
	fl.IntVar(&o.limit, "limit", 50, "with a history flag: at most this many entries")

	cmd.AddCommand(newHealthCmd(f, o), newChatCmd(f, o), newToolsCmd(f, o), newConfigCmd(f, o), newScenariosCmd(f, o), newIncidentsCmd(f, o), newIncidentCmd(f, o))
	cmd.AddCommand(newEvalCmd(f, o), newServeCmd(f, o), newDoctorCmd(f, o), newTuneCmd(f, o), newReplayCmd(f, o))
	cmd.AddCommand(newVersionCmd(f, o, build))
	cmd.AddCommand(newMCPCmd(f, o))
	cmd.SetVersionTemplate(build.versionTemplate())
	strict(cmd)
	return cmd
}

// strict makes typos usage errors with suggestions, like kubectl and gh: an
// unknown flag, a word that names no command under a command group, and a
// lone word given to the root command (see commandWord).
func strict(root *cobra.Command) {
	root.SetFlagErrorFunc(flagError)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	strictGroups(root)
}

func (o *rootOptions) run(cmd *cobra.Command, args []string) error {
	if err := commandWord(cmd, args); err != nil {
		return err
	}
	if err := o.checkOutput(); err != nil {
		return err
	}
	modes := 0
	for _, on := range []bool{o.alertHistory, o.scaleHistory, o.thresholdHistory, len(o.updateThreshold) > 0} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return usageError("use one of --alert-history, --scale-history, --threshold-history and --update-threshold at a time")
	}
	if modes == 1 && (len(args) > 0 || o.alertFile != "") {
		return usageError("history and threshold flags take no alert: run them on their own")
	}
	if err := o.checkCluster(cmd, o.alertHistory || o.scaleHistory); err != nil {
		return err
	}
	switch {
	case o.alertHistory:
		return o.runAlertHistory(cmd)
	case o.scaleHistory:
		return o.runScaleHistory(cmd)
	case o.thresholdHistory:
		return o.runThresholdHistory(cmd)
	case len(o.updateThreshold) > 0:
		return o.runUpdateThreshold(cmd)
	}
	return o.runAlert(cmd, args)
}

func (o *rootOptions) checkOutput() error {
	if o.output != "text" && o.output != "json" {
		return usageError("--output %q is not supported: use text or json", o.output)
	}
	return nil
}
