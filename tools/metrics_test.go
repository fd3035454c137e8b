package tools_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

func TestQueryMetricsSummarisesTheSimulatedCPU(t *testing.T) {
	cases := []struct {
		name, args          string
		last, min, max, avg float64
		trend               string
		samples, points     int
		firstAgo, summary   string
	}{
		{"instant", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization"}`,
			85, 85, 85, 85, "flat", 1, 0, "", "cpu_utilization of ai-data-labs/backend: 85%"},
		// 15 minutes at 33% then 15 at 85%: 61 samples at the 15s step, shown as 10 points.
		{"range over the rise", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization","range":"30m"}`,
			85, 33.33, 85, 59.59, "rising", 61, 10, "-30m", "cpu_utilization of ai-data-labs/backend over 30m: last 85%, min 33.33, max 85, rising"},
		{"range after the rise", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization","range":"10m"}`,
			85, 85, 85, 85, "flat", 41, 10, "-10m", "over 10m: last 85%"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "high-cpu")
			o := e.call(autoRun(), "queryMetrics", c.args)
			mustStatus(t, o, tools.StatusOK)
			sum := result[tools.MetricSummary](t, o)
			if sum.Metric != "cpu_utilization" || sum.Unit != "%" || sum.Target != "ai-data-labs/backend" || len(sum.Series) != 1 {
				t.Fatalf("summary %+v", sum)
			}
			s := sum.Series[0]
			if s.Last != c.last || s.Min != c.min || s.Max != c.max || s.Avg != c.avg || s.Trend != c.trend || s.Samples != c.samples || len(s.Points) != c.points {
				t.Errorf("series last %v min %v max %v avg %v %s samples %d points %d", s.Last, s.Min, s.Max, s.Avg, s.Trend, s.Samples, len(s.Points))
			}
			if !strings.Contains(o.Summary, c.summary) {
				t.Errorf("summary %q, want %q", o.Summary, c.summary)
			}
			if c.points > 0 && (s.Points[0].Ago != c.firstAgo || s.Points[len(s.Points)-1].Ago != "-0s") {
				t.Errorf("points from %s to %s, want %s to -0s", s.Points[0].Ago, s.Points[len(s.Points)-1].Ago, c.firstAgo)
			}
		})
	}
}

func TestQueryMetricsUnits(t *testing.T) {
	cases := map[string]string{"latency_p99_ms": "ms", "request_rate": "req/s", "restarts": "restarts", "error_rate": "%", "memory_utilization": "%"}
	for metric, unit := range cases {
		e := newEnv(t, "high-cpu")
		o := e.call(autoRun(), "queryMetrics", `{"namespace":"ai-data-labs","name":"backend","metric":"`+metric+`","range":"5m"}`)
		mustStatus(t, o, tools.StatusOK)
		if sum := result[tools.MetricSummary](t, o); sum.Unit != unit || len(sum.Series) != 1 {
			t.Errorf("%s: unit %q, %d series", metric, sum.Unit, len(sum.Series))
		}
	}
}

func TestQueryMetricsFailuresAreClear(t *testing.T) {
	cases := []struct {
		name, scenario, args string
		metrics              platform.Metrics
		want                 []string
		is                   error
	}{
		{"raw PromQL on the sim", "high-cpu", `{"promql":"sum(rate(container_cpu_usage_seconds_total[5m]))"}`, nil,
			[]string{"query promql", "not supported", "only answers the named metrics", "cpu_utilization"}, platform.ErrUnsupported},
		{"prometheus down", "high-cpu-metrics-down", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization","range":"15m"}`, nil,
			[]string{"query cpu_utilization", "backend unavailable", "connection refused"}, platform.ErrUnavailable},
		{"unknown workload", "high-cpu", `{"namespace":"ai-data-labs","name":"billing","metric":"cpu_utilization"}`, nil,
			[]string{"not found"}, platform.ErrNotFound},
		{"failing backend", "high-cpu", `{"namespace":"ai-data-labs","name":"backend","metric":"error_rate"}`,
			failingMetrics{errors.Join(platform.ErrUnavailable, errors.New("HTTP 502"))}, []string{"query error_rate", "HTTP 502"}, platform.ErrUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []option
			if c.metrics != nil {
				opts = append(opts, withMetrics(c.metrics))
			}
			e := newEnv(t, c.scenario, opts...)
			o := e.call(autoRun(), "queryMetrics", c.args)
			mustStatus(t, o, tools.StatusFailed)
			for _, w := range c.want {
				if !strings.Contains(o.Error, w) {
					t.Errorf("error %q does not contain %q", o.Error, w)
				}
			}
			if calls := e.rec.Calls(); len(calls) != 1 || calls[0].Status != tools.StatusFailed || calls[0].Reason != o.Error {
				t.Errorf("recorded %+v", calls)
			}
		})
	}
}

func TestQueryMetricsWithoutABackendSaysHowToConfigureOne(t *testing.T) {
	e := newEnv(t, "high-cpu", withMetrics(nil))
	o := e.call(autoRun(), "queryMetrics", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization"}`)
	mustStatus(t, o, tools.StatusFailed)
	if !strings.Contains(o.Error, "metrics is not configured: set PROMETHEUS_URL or use --simulate") {
		t.Errorf("error %q", o.Error)
	}
}

// series builds a series of values one minute apart, ending at now.
func series(now time.Time, vals ...float64) platform.Series {
	s := platform.Series{Labels: map[string]string{"pod": "p"}}
	for i, v := range vals {
		s.Samples = append(s.Samples, platform.Sample{T: now.Add(time.Duration(i-len(vals)+1) * time.Minute), V: v})
	}
	return s
}

func TestSummarise(t *testing.T) {
	now := t0
	nan, inf := math.NaN(), math.Inf(1)
	ramp := make([]float64, 100)
	for i := range ramp {
		ramp[i] = float64(i)
	}
	cases := []struct {
		name                     string
		vals                     []float64
		min, max, avg, last      float64
		trend                    string
		samples, points, ignored int
	}{
		{"rising", []float64{10, 10, 10, 50, 90, 90, 90}, 10, 90, 50, 90, "rising", 7, 7, 0},
		{"falling", []float64{90, 80, 70, 60, 50, 40}, 40, 90, 65, 40, "falling", 6, 6, 0},
		{"flat within 5%", []float64{80, 81, 79, 80, 82, 81}, 79, 82, 80.5, 81, "flat", 6, 6, 0},
		{"two samples are flat", []float64{10, 90}, 10, 90, 50, 90, "flat", 2, 2, 0},
		{"one sample has no points", []float64{42.123}, 42.12, 42.12, 42.12, 42.12, "flat", 1, 0, 0},
		{"long series is downsampled to 10 points", ramp, 0, 99, 49.5, 99, "rising", 100, 10, 0},
		{"NaN and Inf are left out", []float64{nan, 10, inf, 20, math.Inf(-1), 30}, 10, 30, 20, 30, "rising", 3, 3, 3},
		{"only NaN", []float64{nan, nan}, 0, 0, 0, 0, "flat", 0, 0, 2},
		{"all zero", []float64{0, 0, 0, 0}, 0, 0, 0, 0, "flat", 4, 4, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sum := tools.Summarise(platform.MetricResult{Series: []platform.Series{series(now, c.vals...)}}, now)
			if len(sum.Series) != 1 {
				t.Fatalf("%d series", len(sum.Series))
			}
			s := sum.Series[0]
			if s.Min != c.min || s.Max != c.max || s.Avg != c.avg || s.Last != c.last || s.Trend != c.trend || s.Samples != c.samples || len(s.Points) != c.points {
				t.Errorf("got min %v max %v avg %v last %v %s samples %d points %d", s.Min, s.Max, s.Avg, s.Last, s.Trend, s.Samples, len(s.Points))
			}
			for _, p := range s.Points {
				if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
					t.Errorf("point %+v is not finite", p)
				}
			}
			if c.points > 1 && (s.Points[len(s.Points)-1].Ago != "-0s" || s.Points[len(s.Points)-1].V != c.last) {
				t.Errorf("last point %+v, want the newest sample", s.Points[len(s.Points)-1])
			}
			note := strings.Join(sum.Notes, "; ")
			if (c.ignored > 0) != strings.Contains(note, "NaN/Inf samples ignored") {
				t.Errorf("notes %q with %d ignored", note, c.ignored)
			}
		})
	}
}

func TestSummariseBoundsTheSeries(t *testing.T) {
	now := t0
	var res platform.MetricResult
	for i := range 7 {
		s := series(now, 1, 2, float64(i*10))
		s.Labels = map[string]string{"pod": string(rune('a' + i))}
		res.Series = append(res.Series, s)
	}
	res.Series = append(res.Series, series(now, math.NaN())) // no finite value: sorts last
	res.Warnings = []string{"partial response"}
	sum := tools.Summarise(res, now)
	if len(sum.Series) != 5 || sum.Omitted != 3 {
		t.Fatalf("%d series shown, %d omitted; want 5 and 3", len(sum.Series), sum.Omitted)
	}
	// The hottest series (highest last value) come first.
	for i, want := range []string{"g", "f", "e", "d", "c"} {
		if got := sum.Series[i].Labels["pod"]; got != want {
			t.Errorf("series %d is pod %s, want %s", i, got, want)
		}
	}
	if len(sum.Notes) == 0 || sum.Notes[0] != "partial response" {
		t.Errorf("notes %v: backend warnings must be kept", sum.Notes)
	}
	empty := tools.Summarise(platform.MetricResult{}, now)
	if len(empty.Series) != 0 || !strings.Contains(strings.Join(empty.Notes, ";"), "no data") {
		t.Errorf("empty result: %+v", empty)
	}
}
