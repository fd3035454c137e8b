package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/ui/tui"
)

// decisionChart is the metric a scale decision judged against the threshold
// of its rule under pol; false for decisions without samples (restarts).
func decisionChart(d store.DecisionRecord, pol guard.Policy) (tui.Chart, bool) {
	b, err := guard.DecodeBasis(d.Basis)
	if err != nil || b.Scale == nil {
		return tui.Chart{}, false
	}
	s := pol.Scaling
	c := tui.Chart{Metric: "cpu", Threshold: s.Up.Threshold, Above: true, Rule: guard.RuleScaleUpCPU}
	obs := b.Scale.CPU
	switch {
	case d.Rule == guard.RuleScaleOutErrorRate:
		c.Metric, c.Threshold, c.Rule, obs = "errors", s.Out.Threshold, guard.RuleScaleOutErrorRate, b.Scale.ErrorRate
	case d.Requested < d.From:
		c.Threshold, c.Above, c.Rule = s.Down.Threshold, false, guard.RuleScaleDownCPU
	}
	for _, smp := range obs.Samples {
		c.Values = append(c.Values, smp.V)
	}
	to := d.To
	if d.Verdict == store.VerdictRefuse {
		to = d.Requested
	}
	c.Title = fmt.Sprintf("%s %s %d→%d %s (%s)", d.At.UTC().Format("2006-01-02 15:04"), d.Target, d.From, to, d.Verdict, d.Rule)
	return c, true
}

// chartsFor draws the decisions' charts, at most limit of them.
func chartsFor(recs []store.DecisionRecord, pol guard.Policy, limit int) []tui.Chart {
	var out []tui.Chart
	for _, d := range recs {
		if c, ok := decisionChart(d, pol); ok && len(out) < limit {
			out = append(out, c)
		}
	}
	return out
}

// decisionOf finds the allowed scale decision behind a scale event: the
// newest one of its workload at or before it, within a minute.
func decisionOf(e store.ScaleEvent, recs []store.DecisionRecord) (store.DecisionRecord, bool) {
	target := e.Namespace + "/" + e.Name
	var best store.DecisionRecord
	found := false
	for _, d := range recs {
		if d.Target != target || d.Kind != store.DecisionScale || d.At.After(e.At) || e.At.Sub(d.At) > time.Minute ||
			(d.Verdict != store.VerdictAllow && d.Verdict != store.VerdictClamp) {
			continue
		}
		if !found || d.At.After(best.At) {
			best, found = d, true
		}
	}
	return best, found
}

// scaleCharts draws, for each scale event (newest first), the metric its
// decision judged against the rule's threshold in force now.
func (o *rootOptions) scaleCharts(cmd *cobra.Command, st *store.Store, evs []store.ScaleEvent, since time.Time) error {
	cfg, err := o.f.LoadConfig(o.configFile, cmd.Flags())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if len(evs) == 0 {
		fmt.Fprintln(o.f.IO.ErrOut, "no entries")
		return nil
	}
	if since.IsZero() || evs[len(evs)-1].At.Add(-time.Minute).Before(since) {
		since = evs[len(evs)-1].At.Add(-time.Minute)
	}
	recs, err := st.ListDecisions(cmd.Context(), store.DecisionFilter{Since: since, Service: o.service})
	if err != nil {
		return fmt.Errorf("read the decisions: %w", err)
	}
	pol := policy.FromConfig(cfg)
	var charts []tui.Chart
	for _, e := range evs {
		d, ok := decisionOf(e, recs)
		c, drawn := decisionChart(d, pol)
		if !ok || !drawn {
			c = tui.Chart{Title: fmt.Sprintf("%s %s/%s %d→%d (%s)", e.At.UTC().Format("2006-01-02 15:04"), e.Namespace, e.Name, e.From, e.To, dash(e.Rule)),
				Metric: "no recorded samples (recorded before schema 5)"}
		}
		charts = append(charts, c)
	}
	return tui.WriteCharts(o.f.IO.Out, charts, o.noColor || o.f.IO.NoColor || !o.f.IO.OutTTY)
}

// incidentCharts draws the metric against its threshold at each scale
// decision of the incident's alerts; nothing when there is none.
func (o *rootOptions) incidentCharts(cmd *cobra.Command, st *store.Store, id string) error {
	ids, err := st.AlertIDsOfIncident(cmd.Context(), id)
	if err != nil || len(ids) == 0 {
		return err
	}
	recs, err := st.ListDecisions(cmd.Context(), store.DecisionFilter{AlertIDs: ids})
	if err != nil {
		return fmt.Errorf("read the decisions: %w", err)
	}
	cfg, err := o.f.LoadConfig(o.configFile, cmd.Flags())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	charts := chartsFor(recs, policy.FromConfig(cfg), 10)
	if len(charts) == 0 {
		return nil
	}
	fmt.Fprintln(o.f.IO.Out, "\nGuard decisions (metric against the threshold in force):")
	return tui.WriteCharts(o.f.IO.Out, charts, o.noColor || o.f.IO.NoColor || !o.f.IO.OutTTY)
}
