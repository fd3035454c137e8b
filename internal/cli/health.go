package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/platform"
)

// HealthOptions select the matrix of `ops-skill health`.
type HealthOptions struct {
	Simulate   bool
	Scenario   string
	MatrixFile string
}

func newHealthCmd(f *Factory, root *rootOptions) *cobra.Command {
	var matrix string
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Run the health-check matrix once and print the table",
		Long: `Run the service health matrix once (HTTP /health for backend and frontend, TCP 8123 and /ping
for ClickHouse, TCP 5432 for PostgreSQL, TCP 6379 for Redis, in NAMESPACE's cluster DNS names by
default; --matrix reads a YAML list of {service, type: http|tcp|redis|postgres, target, timeout}).
The default matrix's names resolve only inside the cluster: without a cluster configured, pass
--matrix or --simulate. Exit code 3 when a check fails.`,
		Example: `  ops-skill health --simulate
  ops-skill health --matrix matrix.yaml     # e.g. - {service: backend, type: http, target: "http://127.0.0.1:8080/health"}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := root.checkOutput(); err != nil {
				return err
			}
			cfg, err := f.LoadConfig(root.configFile, cmd.Flags())
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			run, err := f.HealthChecks(cmd.Context(), cfg, HealthOptions{Simulate: root.simulate, Scenario: root.scenario, MatrixFile: matrix})
			if err != nil {
				return err
			}
			return root.printHealth(cmd.Context(), run)
		},
	}
	cmd.Flags().StringVar(&matrix, "matrix", "", "YAML file with the health matrix")
	return cmd
}

func (o *rootOptions) printHealth(ctx context.Context, run func(context.Context) []platform.HealthResult) error {
	results := run(ctx)
	failing := 0
	for _, r := range results {
		if !r.OK {
			failing++
		}
	}
	if o.output == "json" {
		if err := writeJSON(o.f.IO.Out, results); err != nil {
			return err
		}
	} else {
		rows := [][]string{{"SERVICE", "CHECK", "STATUS", "LATENCY", "FAILS", "DETAIL"}}
		for _, r := range results {
			status := "ok"
			if !r.OK {
				status = "FAILING"
			}
			rows = append(rows, []string{r.Service, r.Check, status, r.Latency.String(), fmt.Sprint(r.ConsecutiveFailures), oneLine(r.Detail, 80)})
		}
		if err := o.table(rows); err != nil {
			return err
		}
	}
	if failing > 0 {
		fmt.Fprintf(o.f.IO.ErrOut, "%d of %d health checks failing\n", failing, len(results))
		return silent(ExitUnresolved)
	}
	return nil
}
