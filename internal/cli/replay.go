package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/internal/replay"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/ui/tui"
)

// replayOptions are the flags of `ops-skill replay`.
type replayOptions struct {
	set     []string
	since   string
	service string
	all     bool
}

func newReplayCmd(f *Factory, root *rootOptions) *cobra.Command {
	o := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay [INCIDENT]",
		Short: "Judge recorded guard decisions again under a changed policy and show what would have differed",
		Long: `Re-run the guard's scale and restart decisions of an incident (or of a period, --since) on the
inputs recorded at the time — the workload, the metric samples, the guard's state, the time — under the
policy in force with the --set changes (keys of --update-threshold), and print what would have
differed: allowed → refused, 4 replicas → 5. Nothing is changed or saved.`,
		Example: `  ops-skill replay INC-20261102-001 --set scale_up.cpu=85
  ops-skill replay --since 7d --set scale_down.duration=30m -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, f, root, args) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&o.set, "set", nil, "a policy change, e.g. scale_up.cpu=85 (repeatable)")
	fl.StringVar(&o.since, "since", "", "without an incident: the decisions newer than this (e.g. 24h, 7d)")
	fl.StringVar(&o.service, "service", "", "only the decisions on this service")
	fl.BoolVar(&o.all, "all", false, "list every decision, also those that would not differ")
	return cmd
}

func (o *replayOptions) run(cmd *cobra.Command, f *Factory, root *rootOptions, args []string) error {
	if err := root.checkOutput(); err != nil {
		return err
	}
	switch {
	case len(args) == 0 && o.since == "":
		return usageError("give an incident ID (ops-skill incidents lists them) or --since, e.g. --since 7d")
	case len(args) > 0 && o.since != "":
		return usageError("give an incident ID or --since, not both")
	}
	since, err := parseSince(o.since, f.Now())
	if err != nil {
		return err
	}
	cfg, err := f.LoadConfig(root.configFile, cmd.Flags())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	changed, _, err := config.ApplyUpdates(cfg, o.set)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--set: %w", err)}
	}
	st, err := f.OpenStore(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	filter := store.DecisionFilter{Since: since, Service: o.service}
	if len(args) == 1 {
		if filter.AlertIDs, err = incidentAlerts(cmd, st, args[0]); err != nil {
			return err
		}
	}
	recs, err := st.ListDecisions(cmd.Context(), filter)
	if err != nil {
		return fmt.Errorf("read the decisions: %w", err)
	}
	incidents := map[int64]string{}
	if len(args) == 1 {
		for _, id := range filter.AlertIDs {
			incidents[id] = args[0]
		}
	} else if incidents, err = incidentsByAlert(cmd, st, since); err != nil {
		return err
	}
	rep := replay.Run(recs, policy.FromConfig(changed), incidents)
	if root.output == "json" {
		return writeJSON(f.IO.Out, rep)
	}
	return o.render(f, root, rep, args)
}

func incidentAlerts(cmd *cobra.Command, st *store.Store, id string) ([]int64, error) {
	if _, _, err := st.GetIncident(cmd.Context(), id); errors.Is(err, store.ErrNotFound) {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w ('ops-skill incidents' lists them)", err)}
	} else if err != nil {
		return nil, fmt.Errorf("read the incident: %w", err)
	}
	ids, err := st.AlertIDsOfIncident(cmd.Context(), id)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		ids = []int64{-1} // an incident without alerts has no decisions
	}
	return ids, nil
}

func incidentsByAlert(cmd *cobra.Command, st *store.Store, since time.Time) (map[int64]string, error) {
	alerts, err := st.AlertsInPeriod(cmd.Context(), store.PeriodFilter{Since: since})
	if err != nil {
		return nil, fmt.Errorf("read the alerts: %w", err)
	}
	out := map[int64]string{}
	for _, a := range alerts {
		if a.IncidentID != "" {
			out[a.ID] = a.IncidentID
		}
	}
	return out, nil
}

func (o *replayOptions) render(f *Factory, root *rootOptions, rep replay.Report, args []string) error {
	out := f.IO.Out
	what := "the decisions since " + o.since
	if len(args) == 1 {
		what = args[0]
	}
	with := "the policy in force"
	if len(o.set) > 0 {
		with = strings.Join(o.set, ", ")
	}
	fmt.Fprintf(out, "Replay of %s: %s under %s\n", what, plural(rep.Decisions, "decision"), with)
	rows := [][]string{{"AT", "INCIDENT", "DECISION", "TARGET", "RECORDED", "REPLAYED", "CHANGE"}}
	for _, r := range rep.Results {
		if !o.all && !r.Differs() {
			continue
		}
		rows = append(rows, []string{r.At.UTC().Format("2006-01-02 15:04:05"), dash(r.Incident), r.Kind, r.Target,
			verdictText(r.Kind, r.Recorded), verdictText(r.Kind, r.Replayed), string(r.Change)})
	}
	if len(rows) > 1 {
		if err := root.toneTable(rows, changeTone); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(out, "%d of %s would have gone another way.\n", rep.Differ, plural(rep.Decisions, "decision"))
	return err
}

func verdictText(kind string, v replay.Verdict) string {
	if v.Verdict == "" {
		return "-"
	}
	s := v.Verdict
	if kind == store.DecisionScale {
		s += fmt.Sprintf(" %d→%d", v.From, v.To)
	}
	return s + " (" + v.Rule + ")"
}

func changeTone(header, row []string, col int) tui.Tone {
	if header[col] != "CHANGE" {
		return tui.ToneNone
	}
	switch replay.Change(row[col]) {
	case replay.Same, replay.Reasoned:
		return tui.ToneDim
	case replay.Refused:
		return tui.ToneBad
	}
	return tui.ToneWarn
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
