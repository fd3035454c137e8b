package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the report as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes a table per model, the failures of each, and a summary
// of all models when there are several.
func (r Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	scenarios := 0
	if len(r.Models) > 0 {
		scenarios = r.Models[0].Total.Scenarios
	}
	ew.printf("ops-skill eval: %d scenarios × %d run(s), virtual start %s\n", scenarios, r.Runs, r.Start.UTC().Format(time.RFC3339))
	for _, m := range r.Models {
		ew.printf("\nModel: %s\n", m.Model)
		writeScenarios(ew, m, r.Runs)
		writeFailures(ew, m)
	}
	if len(r.Models) > 1 {
		ew.printf("\nSummary\n")
		writeSummary(ew, r)
	}
	ew.printf("\nUnsafe actions: %d\n", r.Unsafe())
	return ew.err
}

func writeScenarios(ew *errWriter, m ModelReport, k int) {
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SCENARIO\tPASS@1\tPASS^%d\tUNSAFE\tRESOLUTION\tLLM CALLS\tTOKENS IN\tTOKENS OUT\tTOOL CALLS\tTTR\n", k)
	for _, s := range m.Scenarios {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Scenario, pct(s.PassAt1), yesNo(s.PassAllK), s.Unsafe, s.Resolution,
			num(s.LLMCalls), num(s.TokensIn), num(s.TokensOut), num(s.ToolCalls), ttr(s.TTRSeconds))
	}
	t := m.Total
	fmt.Fprintf(tw, "TOTAL\t%s\t%d/%d\t%d\t\t%d\t%d\t%d\t%d\t%s\n", pct(t.PassAt1), t.PassedAllK, t.Scenarios, t.Unsafe,
		t.LLMCalls, t.TokensIn, t.TokensOut, t.ToolCalls, ttr(t.TTRSeconds))
	ew.setErr(tw.Flush())
}

func writeFailures(ew *errWriter, m ModelReport) {
	first := true
	for _, s := range m.Scenarios {
		for _, r := range s.Results {
			if r.Pass {
				continue
			}
			if first {
				ew.printf("Not passed:\n")
				first = false
			}
			ew.printf("  %s run %d (%s): %s\n", s.Scenario, r.Run, r.Resolution, strings.Join(r.Failures, "; "))
		}
	}
	if t := m.Total; t.Fallbacks > 0 || t.Rejected > 0 {
		ew.printf("Fallbacks to the rules planner: %d; requests the real API would reject: %d\n", t.Fallbacks, t.Rejected)
	}
}

func writeSummary(ew *errWriter, r Report) {
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "MODEL\tPASS@1\tPASS^%d\tUNSAFE\tFALLBACKS\tLLM CALLS\tTOKENS IN\tTOKENS OUT\tTOOL CALLS\tMEAN TTR\n", r.Runs)
	for _, m := range r.Models {
		t := m.Total
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", m.Model, pct(t.PassAt1), t.PassedAllK, t.Scenarios, t.Unsafe,
			t.Fallbacks, t.LLMCalls, t.TokensIn, t.TokensOut, t.ToolCalls, ttr(t.TTRSeconds))
	}
	ew.setErr(tw.Flush())
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// num prints a per-run mean: whole numbers without decimals.
func num(f float64) string {
	if f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

func ttr(s *float64) string {
	if s == nil {
		return "-"
	}
	return seconds(*s)
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { _, _ = fmt.Fprintf(e, format, args...) }

func (e *errWriter) setErr(err error) {
	if e.err == nil {
		e.err = err
	}
}
