package prom

import (
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// TestSinceNarrowsTheWindowsToTheSamplesAfterAChange: a reading after a
// change takes only the samples after it, never more than the usual
// windows, and a range query is not narrowed.
func TestSinceNarrowsTheWindowsToTheSamplesAfterAChange(t *testing.T) {
	end := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		q           platform.MetricQuery
		rate, gauge string
	}{
		{"no since", platform.MetricQuery{}, "[2m]", "[1m]"},
		{"45.3s ago", platform.MetricQuery{Since: end.Add(-45*time.Second - 300*time.Millisecond)}, "[45s300ms]", "[45s300ms]"},
		{"90s ago: the gauge keeps its 1m", platform.MetricQuery{Since: end.Add(-90 * time.Second)}, "[1m30s]", "[1m]"},
		{"10m ago: both keep theirs", platform.MetricQuery{Since: end.Add(-10 * time.Minute)}, "[2m]", "[1m]"},
		{"under a millisecond: one", platform.MetricQuery{Since: end.Add(-200 * time.Microsecond)}, "[1ms]", "[1ms]"},
		{"a range query is not narrowed", platform.MetricQuery{Since: end.Add(-45 * time.Second), Start: end.Add(-15 * time.Minute), Step: 15 * time.Second}, "[2m]", "[1m]"},
	}
	c := newClient(t, Config{URL: "http://x"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Metric, q.Target, q.End = platform.MetricCPU, backend, end
			got, _, err := c.expr(q)
			if err != nil {
				t.Fatal(err)
			}
			rate, gauge, _ := strings.Cut(got, " / ")
			if !strings.HasSuffix(strings.TrimSuffix(rate, "))"), tt.rate) || !strings.HasSuffix(strings.TrimSuffix(gauge, "))"), tt.gauge) {
				t.Errorf("got %s\nwant rate window %s and gauge window %s", got, tt.rate, tt.gauge)
			}
		})
	}
}
