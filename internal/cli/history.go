package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/ui/tui"
)

// parseSince reads "24h", "90m" or "7d" as a time before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n > 0 && n <= 3650 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageError("--since %q is not a duration: use e.g. 30m, 24h or 7d", s)
}

func (o *rootOptions) historyStore(cmd *cobra.Command) (*store.Store, error) {
	if o.limit < 1 || o.limit > 10000 {
		return nil, usageError("--limit %d must be between 1 and 10000", o.limit)
	}
	cfg, err := o.f.LoadConfig(o.configFile, cmd.Flags())
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return o.f.OpenStore(cmd.Context(), cfg)
}

func (o *rootOptions) runAlertHistory(cmd *cobra.Command) error {
	since, err := parseSince(o.since, o.f.Now())
	if err != nil {
		return err
	}
	st, err := o.historyStore(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	recs, err := st.ListAlerts(cmd.Context(), store.AlertFilter{Since: since, Service: o.service, Env: o.cluster, Limit: o.limit})
	if err != nil {
		return fmt.Errorf("read the alert history: %w", err)
	}
	if o.output == "json" {
		return writeJSON(o.f.IO.Out, recs)
	}
	rows := [][]string{{"RECEIVED", "SERVICE", "KIND", "OUTCOME", "PLANNER", "INCIDENT", "ENV", "ALERT"}}
	for _, r := range recs {
		rows = append(rows, []string{r.ReceivedAt.UTC().Format(time.RFC3339), dash(r.Service), dash(r.Kind), dash(r.Outcome),
			dash(r.Planner), dash(r.IncidentID), dash(r.Env), oneLine(firstOf(r.Summary, r.Error), 80)})
	}
	return o.clusterTable(cmd, st, rows)
}

func (o *rootOptions) runScaleHistory(cmd *cobra.Command) error {
	since, err := parseSince(o.since, o.f.Now())
	if err != nil {
		return err
	}
	st, err := o.historyStore(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	evs, err := st.ListScaleEvents(cmd.Context(), store.ScaleFilter{Since: since, Service: o.service, Env: o.cluster, Limit: o.limit})
	if err != nil {
		return fmt.Errorf("read the scale history: %w", err)
	}
	if o.output == "json" {
		return writeJSON(o.f.IO.Out, evs)
	}
	if o.chart {
		return o.scaleCharts(cmd, st, evs, since)
	}
	rows := [][]string{{"AT", "WORKLOAD", "FROM", "TO", "RULE", "ENV", "REASON"}}
	for _, e := range evs {
		rows = append(rows, []string{e.At.UTC().Format(time.RFC3339), e.Namespace + "/" + e.Name, strconv.Itoa(int(e.From)),
			strconv.Itoa(int(e.To)), dash(e.Rule), dash(e.Env), oneLine(e.Reason, 80)})
	}
	if len(rows) == 1 {
		o.noClusterEntries(cmd, st)
	}
	return o.toneTable(rows, scaleTone)
}

// scaleTone colours the TO of a scale event: yellow up, green down.
func scaleTone(header, row []string, col int) tui.Tone {
	if header[col] != "TO" || col == 0 {
		return tui.StatusTone(row[col])
	}
	from, err1 := strconv.Atoi(row[col-1])
	to, err2 := strconv.Atoi(row[col])
	switch {
	case err1 != nil || err2 != nil:
		return tui.ToneNone
	case to > from:
		return tui.ToneWarn
	case to < from:
		return tui.ToneGood
	}
	return tui.ToneNone
}

// table prints aligned, coloured columns on a terminal and tab-separated
// values otherwise; status words (resolved, escalated, failed…) are coloured.
func (o *rootOptions) table(rows [][]string) error { return o.toneTable(rows, nil) }

func (o *rootOptions) toneTable(rows [][]string, tone func(header, row []string, col int) tui.Tone) error {
	if len(rows) == 1 {
		fmt.Fprintln(o.f.IO.ErrOut, "no entries")
	}
	if !o.f.IO.OutTTY {
		for _, r := range rows {
			if _, err := fmt.Fprintln(o.f.IO.Out, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	return tui.WriteTable(o.f.IO.Out, rows, tui.TableOptions{NoColor: o.noColor || o.f.IO.NoColor, Width: o.f.IO.TerminalWidth(), Tone: tone})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// oneLine keeps table cells on one line and free of tabs.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	return text.Clip(s, n)
}
