//go:build integration

package prom

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// TestFreshSamplesAndSinceOnTheRealPrometheus: on the test Prometheus
// (scraping every second), every named metric of a live workload counts the
// samples taken after a moment, none before the series exist and none
// after now; a reading since that moment answers from those samples.
func TestFreshSamplesAndSinceOnTheRealPrometheus(t *testing.T) {
	env := testEnv(t, "prometheus")
	ns := fmt.Sprintf("fresh-%d", time.Now().UnixNano())
	ss := liveSeries(ns)
	before := time.Now()
	control(t, env["OPS_TEST_EXPORTER_URL"], http.MethodPost, ss)
	t.Cleanup(func() { control(t, env["OPS_TEST_EXPORTER_URL"], http.MethodDelete, ss) })
	c, err := New(Config{URL: env["PROMETHEUS_URL"]})
	if err != nil {
		t.Fatal(err)
	}
	ref := platform.WorkloadRef{Namespace: ns, Name: "backend"}
	for _, m := range platform.KnownMetrics {
		t.Run(string(m), func(t *testing.T) {
			q := platform.MetricQuery{Metric: m, Target: ref, Since: time.Now()}
			if n, err := c.FreshSamples(context.Background(), q); err != nil || n != 0 {
				t.Fatalf("samples after now: %d, %v; want 0", n, err)
			}
			var n int
			ok := poll(30*time.Second, func() bool {
				n, err = c.FreshSamples(context.Background(), q)
				return err == nil && n >= 4
			})
			if !ok {
				t.Fatalf("%d fresh samples after 30s (last error %v), want at least 4", n, err)
			}
			if m == platform.MetricRestarts {
				return // increase() over the step, not narrowed
			}
			res, err := c.Query(context.Background(), platform.MetricQuery{Metric: m, Target: ref, Since: q.Since})
			if err != nil || len(res.Series) == 0 {
				t.Fatalf("%s since %s: %v (%d series)", m, q.Since.Format(time.TimeOnly), err, len(res.Series))
			}
			t.Logf("%s: %d samples since %s (series appeared %s before), reading %v", m, n, q.Since.Format(time.TimeOnly),
				q.Since.Sub(before).Round(time.Millisecond), res.Series[0].Samples[0].V)
		})
	}
}
