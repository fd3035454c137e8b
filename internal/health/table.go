package health

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// PrintTable writes the results as a plain table (SERVICE, CHECK, STATUS,
// LATENCY, FAILS, DETAIL) and returns how many services are failing.
func PrintTable(w io.Writer, results []platform.HealthResult) (int, error) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tCHECK\tSTATUS\tLATENCY\tFAILS\tDETAIL")
	failing := 0
	for _, r := range results {
		status := "ok"
		if !r.OK {
			status, failing = "FAIL", failing+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.Service, r.Check, status, latency(r.Latency), r.ConsecutiveFailures,
			text.Clip(strings.Join(strings.Fields(r.Detail), " "), 120))
	}
	if err := tw.Flush(); err != nil {
		return failing, err
	}
	_, err := fmt.Fprintf(w, "%d of %d services healthy\n", len(results)-failing, len(results))
	return failing, err
}

func latency(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}
