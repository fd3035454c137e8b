package cli

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/preflight"
)

// DoctorOptions select the optional checks of `ops-skill doctor`.
type DoctorOptions struct {
	// LLM sends one one-token request to the configured model.
	LLM bool
	// SendTest sends a test message to every configured notification channel.
	SendTest bool
	// Simulate checks the simulated platform instead of a cluster.
	Simulate bool
	// ConfigFile is the --config path, if given.
	ConfigFile string
}

// DoctorReport is what `ops-skill doctor` found.
type DoctorReport struct {
	preflight.Report
	// Requests is the number of API server requests the checks made.
	Requests int `json:"apiRequests"`
	// Seconds is the wall time of the checks.
	Seconds float64 `json:"seconds"`
}

func newDoctorCmd(f *Factory, root *rootOptions) *cobra.Command {
	var o DoctorOptions
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration, the cluster, RBAC, Prometheus, ClickHouse, channels and the history (nothing is sent unless --send-test)",
		Long: `doctor runs the preflight of a run as a command, one row per check: the config file used,
the cluster, context and namespace, each RBAC verb the tools need (allowed or denied), Prometheus
and each named metric per workload, ClickHouse, the notification channels (nothing is sent unless
--send-test), the LLM (one one-token request with --llm), the state dir and the history schema.
Exit 0 when no check fails, 3 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := root.checkOutput(); err != nil {
				return err
			}
			cfg, err := f.LoadConfig(root.configFile, cmd.Flags())
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			o.Simulate, o.ConfigFile = root.simulate, root.configFile
			rep, err := f.Doctor(cmd.Context(), cfg, o)
			if err != nil {
				return err
			}
			if root.output == "json" {
				if err := writeJSON(f.IO.Out, rep); err != nil {
					return err
				}
			} else if err := root.doctorTable(rep); err != nil {
				return err
			}
			if rep.Err() != nil {
				return silent(ExitUnresolved)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.LLM, "llm", false, "also check the LLM key and model with a one-token request")
	cmd.Flags().BoolVar(&o.SendTest, "send-test", false, "send a test message to every configured notification channel")
	return cmd
}

func (o *rootOptions) doctorTable(rep DoctorReport) error {
	rows := [][]string{{"STATUS", "CHECK", "DETAIL"}}
	for _, c := range rep.Checks {
		detail := c.Detail
		if c.Fix != "" && c.Status != preflight.Pass {
			detail += " — fix: " + c.Fix
		}
		rows = append(rows, []string{string(c.Status), string(c.Group) + " " + c.Name, detail})
	}
	if err := o.table(rows); err != nil {
		return err
	}
	failed := len(rep.Failed())
	_, err := o.f.IO.Out.Write([]byte(summaryLine(len(rep.Checks), failed, rep)))
	return err
}

func summaryLine(n, failed int, rep DoctorReport) string {
	verdict := "all checks passed"
	if failed > 0 {
		verdict = strconv.Itoa(failed) + " failed"
	}
	return "\n" + strconv.Itoa(n) + " checks, " + verdict + "; " + strconv.Itoa(rep.Requests) + " API server requests\n"
}
