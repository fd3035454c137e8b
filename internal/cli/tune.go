package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/tune"
	"github.com/duet-company/ops-skill/internal/ui/tui"
)

// tuneOptions are the flags of `ops-skill tune`.
type tuneOptions struct {
	since    string
	service  string
	window   time.Duration
	min      int
	evidence int
	chart    bool
}

func newTuneCmd(f *Factory, root *rootOptions) *cobra.Command {
	o := &tuneOptions{}
	cmd := &cobra.Command{
		Use:   "tune",
		Short: "Learn from history: false positives, thrashing, self-healing loops, and the thresholds to change",
		Long: `Read the history of a period and report, per alert and service, how often it fired and how often it
needed no action or cleared by itself (likely false positives); scale reversals within the scale-down
window (thrashing); restarts per workload per hour and the ladder steps reached (self-healing loops);
cooldown and budget hits. Each finding lists its evidence (incidents, alerts, times) and a suggested
change as a ready --update-threshold command, or "no change".`,
		Example: `  ops-skill tune --since 7d
  ops-skill tune --since 24h --service backend -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, f, root) },
	}
	fl := cmd.Flags()
	fl.StringVar(&o.since, "since", "7d", "the period: entries newer than this (e.g. 24h, 7d)")
	fl.StringVar(&o.service, "service", "", "only this service")
	fl.DurationVar(&o.window, "window", 0, "a scale reversed within this counts as thrashing (default: twice scale_down.duration)")
	fl.IntVar(&o.min, "min", 3, "occurrences that make a finding")
	fl.IntVar(&o.evidence, "evidence", 5, "evidence lines shown per finding (text output)")
	fl.BoolVar(&o.chart, "chart", true, "draw the metric against its threshold at the thrashing scale events (text output)")
	return cmd
}

func (o *tuneOptions) run(cmd *cobra.Command, f *Factory, root *rootOptions) error {
	if err := root.checkOutput(); err != nil {
		return err
	}
	if o.min < 1 {
		return usageError("--min %d must be at least 1", o.min)
	}
	now := f.Now().UTC().Truncate(time.Second)
	since, err := parseSince(o.since, now)
	if err != nil {
		return err
	}
	cfg, err := f.LoadConfig(root.configFile, cmd.Flags())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	st, err := f.OpenStore(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	pf := store.PeriodFilter{Since: since, Service: o.service}
	h, err := readPeriod(cmd.Context(), st, pf)
	if err != nil {
		return err
	}
	pol := policy.FromConfig(cfg)
	rep := tune.Analyse(h, tune.Options{Since: since, Until: now, Service: o.service, Policy: pol, ThrashWindow: o.window, MinEvents: o.min})
	if root.output == "json" {
		return writeJSON(f.IO.Out, rep)
	}
	var charted []store.DecisionRecord
	if o.chart {
		charted = h.Decisions
	}
	return o.render(f, root, rep, h.Scales, charted, pol)
}

func readPeriod(ctx context.Context, st *store.Store, pf store.PeriodFilter) (tune.History, error) {
	var h tune.History
	var err error
	if h.Alerts, err = st.AlertsInPeriod(ctx, pf); err != nil {
		return h, fmt.Errorf("read the alert history: %w", err)
	}
	if h.Scales, err = st.ScaleEventsInPeriod(ctx, pf); err != nil {
		return h, fmt.Errorf("read the scale history: %w", err)
	}
	if h.Calls, err = st.WritesInPeriod(ctx, pf); err != nil {
		return h, fmt.Errorf("read the actions: %w", err)
	}
	if h.Decisions, err = st.ListDecisions(ctx, store.DecisionFilter{Since: pf.Since, Service: pf.Service, Env: pf.Env}); err != nil {
		return h, fmt.Errorf("read the decisions: %w", err)
	}
	return h, nil
}

func (o *tuneOptions) render(f *Factory, root *rootOptions, rep tune.Report, scales []store.ScaleEvent, decisions []store.DecisionRecord, pol guard.Policy) error {
	out, noColor := f.IO.Out, root.noColor || f.IO.NoColor || !f.IO.OutTTY
	fmt.Fprintf(out, "History from %s to %s%s\n\n", rep.Since.UTC().Format(time.RFC3339), rep.Until.UTC().Format(time.RFC3339), forService(rep.Service))
	rows := [][]string{{"SERVICE", "ALERT", "FIRED", "NO ACTION", "SELF-CLEARED", "ACTED", "COOLDOWN HITS"}}
	for _, a := range rep.Alerts {
		rows = append(rows, []string{dash(a.Service), a.Kind, strconv.Itoa(a.Fired), strconv.Itoa(a.NoAction), strconv.Itoa(a.SelfCleared),
			strconv.Itoa(a.Acted), strconv.Itoa(a.CooldownHits)})
	}
	if err := root.table(rows); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if len(rep.Services) > 0 {
		rows = [][]string{{"SERVICE", "UP", "DOWN", "REVERSALS", "RESTARTS", "REPLACED", "MAX/HOUR", "LADDER", "ESCALATED", "GUARD HITS"}}
		for _, s := range rep.Services {
			rows = append(rows, []string{s.Service, strconv.Itoa(s.ScaleUps), strconv.Itoa(s.ScaleDowns), strconv.Itoa(s.Reversals),
				strconv.Itoa(s.Restarts), strconv.Itoa(s.Replacements), strconv.Itoa(s.MaxRestartsPerHour), dash(s.Ladder),
				strconv.Itoa(s.Escalated), hits(s.Hits)})
		}
		if err := root.table(rows); err != nil {
			return err
		}
		fmt.Fprintln(out)
	}
	if len(rep.Findings) == 0 {
		fmt.Fprintln(out, "No false positives, thrashing or self-healing loops: no change.")
		return nil
	}
	return tui.WriteFindings(out, o.findings(rep, scales, decisions, pol), noColor)
}

func (o *tuneOptions) findings(rep tune.Report, scales []store.ScaleEvent, decisions []store.DecisionRecord, pol guard.Policy) []tui.Finding {
	var out []tui.Finding
	for _, fd := range rep.Findings {
		v := tui.Finding{Problem: string(fd.Problem), Headline: fd.Summary, Command: fd.Suggestion.Command(), Note: fd.Suggestion.Note}
		for i, e := range fd.Evidence {
			if i == o.evidence {
				v.More = len(fd.Evidence) - i
				break
			}
			v.Evidence = append(v.Evidence, evidenceLine(e))
		}
		if fd.Problem == tune.Thrashing && len(decisions) > 0 {
			v.Charts = thrashCharts(fd, scales, decisions, pol)
		}
		out = append(out, v)
	}
	return out
}

// thrashCharts draws the first reversal of a thrashing finding: the
// decisions behind its two scale events.
func thrashCharts(fd tune.Finding, scales []store.ScaleEvent, decisions []store.DecisionRecord, pol guard.Policy) []tui.Chart {
	at := fd.Evidence[0].At
	var recs []store.DecisionRecord
	for i, e := range scales {
		if e.Name == fd.Service && e.At.Equal(at) && i > 0 {
			for _, ev := range []store.ScaleEvent{prevOf(scales, i), e} {
				if d, ok := decisionOf(ev, decisions); ok {
					recs = append(recs, d)
				}
			}
			break
		}
	}
	return chartsFor(recs, pol, 2)
}

func prevOf(scales []store.ScaleEvent, i int) store.ScaleEvent {
	for j := i - 1; j >= 0; j-- {
		if scales[j].Namespace == scales[i].Namespace && scales[j].Name == scales[i].Name {
			return scales[j]
		}
	}
	return scales[i]
}

func evidenceLine(e tune.Evidence) string {
	s := e.At.UTC().Format("2006-01-02 15:04:05")
	if e.Incident != "" {
		s += " " + e.Incident
	} else if e.AlertID != 0 {
		s += " alert " + strconv.FormatInt(e.AlertID, 10)
	}
	return s + ": " + e.Detail
}

func hits(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k + " " + strconv.Itoa(m[k])
	}
	return s
}

func forService(s string) string {
	if s == "" {
		return ""
	}
	return " for service " + s
}
