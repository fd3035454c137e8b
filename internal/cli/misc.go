package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/store"
)

func newConfigCmd(f *Factory, root *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Show the effective configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective config, where each value came from and the files read, secrets redacted",
		Long: `Print the effective config in the operations: shape, secrets redacted. Precedence: flags > env >
thresholds (--update-threshold) > config file > defaults; the kubeconfig context's namespace fills
the namespace when nothing else sets it. Each value is followed by its source (default, file,
override, env VAR, flag --name or kubeconfig) and the header names the config and overrides files
read; --output json gives them as "sources" and "files".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := root.checkOutput(); err != nil {
				return err
			}
			cfg, err := f.LoadConfig(root.configFile, cmd.Flags())
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			return cfg.Show(f.IO.Out, showFormat(root.output))
		},
	})
	return cmd
}

func newScenariosCmd(f *Factory, root *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the simulated platform's scenarios",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := f.Scenarios()
			if err != nil {
				return err
			}
			if root.output == "json" {
				return writeJSON(f.IO.Out, list)
			}
			for _, s := range list {
				fmt.Fprintf(f.IO.Out, "%-22s %s\n  alert: %s\n", s.Name, s.Description, s.Alert)
			}
			return nil
		},
	}
}

func newIncidentsCmd(f *Factory, root *rootOptions) *cobra.Command {
	var open bool
	cmd := &cobra.Command{
		Use:   "incidents",
		Short: "List incidents",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := root.checkCluster(cmd, true); err != nil {
				return err
			}
			st, err := root.historyStore(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			incs, err := st.QueryIncidents(cmd.Context(), store.IncidentFilter{OpenOnly: open, Env: root.cluster, Limit: root.limit})
			if err != nil {
				return fmt.Errorf("read the incidents: %w", err)
			}
			if root.output == "json" {
				return writeJSON(f.IO.Out, incs)
			}
			rows := [][]string{{"ID", "STATUS", "WHERE", "SERVICE", "SEVERITY", "OPENED", "TITLE"}}
			for _, i := range incs {
				rows = append(rows, []string{i.ID, string(i.Status), whereOf(i.Env), dash(i.Service), dash(i.Severity), i.OpenedAt.UTC().Format("2006-01-02T15:04:05Z"), oneLine(i.Title, 80)})
			}
			return root.clusterTable(cmd, st, rows)
		},
	}
	cmd.Flags().BoolVar(&open, "open", false, "only incidents not resolved")
	cmd.Flags().StringVar(&root.cluster, clusterFlag, "", clusterUsage)
	cmd.Flags().IntVar(&root.limit, "limit", 50, "at most this many")
	return cmd
}

// whereOf names where an incident happened: the simulated platform or the
// kubeconfig context ("in-cluster" in a pod).
func whereOf(env string) string {
	switch env {
	case "":
		return "-"
	case store.EnvSimulated:
		return "SIMULATED"
	}
	return "context " + env
}

func newIncidentCmd(f *Factory, root *rootOptions) *cobra.Command {
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident and its timeline",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			st, err := root.historyStore(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			inc, tl, err := st.GetIncident(cmd.Context(), a[0])
			switch {
			case errors.Is(err, store.ErrNotFound):
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w ('ops-skill incidents' lists them)", err)}
			case err != nil:
				return fmt.Errorf("read the incident: %w", err)
			}
			if root.output == "json" {
				return writeJSON(f.IO.Out, struct {
					store.Incident
					Timeline []store.TimelineEntry `json:"timeline"`
				}{inc, tl})
			}
			fmt.Fprintf(f.IO.Out, "%s  %s  %s  %s  (%s)\n%s\n", inc.ID, inc.Status, inc.Service, inc.Severity, whereOf(inc.Env), inc.Title)
			for _, e := range tl {
				fmt.Fprintf(f.IO.Out, "  %s  %-12s %s\n", e.At.UTC().Format("15:04:05"), e.Kind, e.Text)
			}
			return root.incidentCharts(cmd, st, inc.ID)
		},
	}
	cmd := &cobra.Command{Use: "incident", Short: "Inspect or resolve one incident"}
	cmd.AddCommand(show, newIncidentResolveCmd(f, root))
	return cmd
}

// maxNoteRunes bounds the note of a resolution on the timeline.
const maxNoteRunes = 500

func newIncidentResolveCmd(f *Factory, root *rootOptions) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "resolve ID --note TEXT",
		Short: "Close an incident by hand: resolved, with why on its timeline",
		Long: `Marks an incident resolved in the history (the store serve shares, with --store) and puts
your note on its timeline, in one transaction. An incident already resolved is left as it is.
It sends no notification and closes no page: resolve the page in your pager. An alert that
fires again after this opens a new incident.`,
		Example: `  ops-skill incident resolve INC-2026-02-16-001 --note "leak fixed in clickhouse 24.3.2; memory flat for 2h"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			note = oneLine(strings.TrimSpace(note), maxNoteRunes)
			if note == "" {
				return usageError("--note is required: say why %s is resolved (it goes on the incident's timeline)", a[0])
			}
			st, err := root.historyStore(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			was, err := st.ResolveIncident(cmd.Context(), a[0], store.TimelineEntry{Kind: store.TimelineResolved, Text: "resolved by hand: " + note})
			switch {
			case errors.Is(err, store.ErrNotFound):
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w ('ops-skill incidents --open' lists the open ones)", err)}
			case err != nil:
				return fmt.Errorf("resolve the incident: %w", err)
			}
			changed := was != store.StatusResolved
			if root.output == "json" {
				return writeJSON(f.IO.Out, struct {
					ID      string               `json:"id"`
					Status  store.IncidentStatus `json:"status"`
					Was     store.IncidentStatus `json:"was"`
					Changed bool                 `json:"changed"`
				}{a[0], store.StatusResolved, was, changed})
			}
			if !changed {
				fmt.Fprintf(f.IO.Out, "%s was already resolved; nothing changed\n", a[0])
				return nil
			}
			fmt.Fprintf(f.IO.Out, "Resolved %s (it was %s)\n", a[0], was)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why the incident is resolved (required; goes on its timeline)")
	return cmd
}
