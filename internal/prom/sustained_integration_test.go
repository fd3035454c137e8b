//go:build integration

package prom

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
)

// hist is the fixed "now" of the backfilled history: every case is queried
// at this past instant, so the decisions are the same on every run.
var hist = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// history builds OpenMetrics text: one sample every 30s over the 30 minutes
// before hist for each series, from value(t) (ok false: no sample at t).
type history struct {
	families map[string][]string
}

func (h *history) add(name string, labels map[string]string, value func(ago time.Duration) (float64, bool)) {
	if h.families == nil {
		h.families = map[string][]string{}
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ls []string
	for _, k := range keys {
		ls = append(ls, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	series := name + "{" + strings.Join(ls, ",") + "}"
	for ago := 30 * time.Minute; ago >= 0; ago -= 30 * time.Second {
		if v, ok := value(ago); ok {
			h.families[name] = append(h.families[name], fmt.Sprintf("%s %s %d", series, om(v), hist.Add(-ago).Unix()))
		}
	}
}

func om(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return fmt.Sprint(v)
}

func (h *history) text() string {
	names := make([]string, 0, len(h.families))
	for n := range h.families {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(strings.Join(h.families[n], "\n") + "\n")
	}
	return b.String() + "# EOF\n"
}

func flat(v float64) func(time.Duration) (float64, bool) {
	return func(time.Duration) (float64, bool) { return v, true }
}

// The workloads of the backfilled history (namespace "it").
func cpuCases() map[string]func(time.Duration) (float64, bool) {
	return map[string]func(time.Duration) (float64, bool){
		"fires":    flat(85),
		"boundary": flat(80),
		"dip": func(ago time.Duration) (float64, bool) {
			if ago == 2*time.Minute {
				return 75, true
			}
			return 85, true
		},
		// No samples for three minutes: more than the 1m window can bridge.
		"gap": func(ago time.Duration) (float64, bool) {
			return 85, ago >= 4*time.Minute+30*time.Second || ago <= 90*time.Second
		},
		// Nothing for the last three minutes.
		"stale": func(ago time.Duration) (float64, bool) { return 85, ago >= 3*time.Minute },
		"nan": func(ago time.Duration) (float64, bool) {
			if ago == time.Minute {
				return math.NaN(), true
			}
			return 85, true
		},
	}
}

// historyServer starts a Prometheus of the test's own on the history.
func historyServer(t *testing.T) *server {
	t.Helper()
	env := testEnv(t, "prometheus")
	var h history
	for name, v := range cpuCases() {
		h.add("ops_test_cpu", map[string]string{"namespace": "it", "workload": name}, v)
		h.add("ops_test_error_rate", map[string]string{"namespace": "it", "workload": name}, flat(0))
	}
	for _, pod := range []string{"a", "b"} {
		h.add("ops_test_cpu", map[string]string{"namespace": "it", "workload": "multi", "pod": pod}, flat(50))
	}
	cadvisorHistory(&h)
	data := backfill(t, env["PROMTOOL_BIN"], h.text())
	return startServer(t, env["PROMETHEUS_BIN"], serverOpts{dataDir: data})
}

// cadvisorHistory adds raw exporter series for namespace "backfill",
// Deployment "backend" (two pods): CPU counters growing 0.85 core-seconds per
// second against requests of 1 core each (85%), and HTTP counters with no 5xx.
func cadvisorHistory(h *history) {
	for _, pod := range []string{"backend-7d9f8b6c4-abcde", "backend-7d9f8b6c4-fghij"} {
		base := map[string]string{"namespace": "backfill", "pod": pod}
		with := func(extra ...string) map[string]string {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for i := 0; i+1 < len(extra); i += 2 {
				m[extra[i]] = extra[i+1]
			}
			return m
		}
		counter := func(perSecond float64) func(time.Duration) (float64, bool) {
			return func(ago time.Duration) (float64, bool) { return perSecond * (1800 - ago.Seconds()), true }
		}
		h.add("container_cpu_usage_seconds_total", with("container", "app"), counter(0.85))
		h.add("kube_pod_container_resource_requests", with("container", "app", "resource", "cpu", "unit", "core"), flat(1))
		h.add("http_requests_total", with("code", "200"), counter(20))
		h.add("http_requests_total", with("code", "500"), counter(0))
	}
}

// overrides read the test series instead of the exporters' ones.
var overrides = map[platform.MetricName]string{
	platform.MetricCPU:       `last_over_time(ops_test_cpu{namespace="{{.Namespace}}",workload="{{.Name}}"}[{{.Window}}])`,
	platform.MetricErrorRate: `last_over_time(ops_test_error_rate{namespace="{{.Namespace}}",workload="{{.Name}}"}[{{.Window}}])`,
}

func historyClient(t *testing.T, srv *server, templates map[platform.MetricName]string) *Client {
	t.Helper()
	c, err := New(Config{URL: srv.URL, Templates: templates, Clock: clocktesting.NewFakePassiveClock(hist), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// decide asks the guard to scale ref from 3 to 4 replicas at hist, with the
// observations the scale tool gathers (the last 16 minutes every 30s).
func decide(t *testing.T, c *Client, ref platform.WorkloadRef) guard.Decision {
	t.Helper()
	pol := guard.DefaultScalingPolicy()
	window := max(pol.Up.Sustain, pol.Down.Sustain, pol.Out.Sustain) + 2*pol.SampleStep
	obs := func(m platform.MetricName) guard.Observation {
		return guard.ObservationFrom(c.Query(context.Background(), platform.MetricQuery{Metric: m, Target: ref,
			Start: hist.Add(-window), End: hist, Step: pol.SampleStep}))
	}
	return pol.Decide(guard.ScaleInput{
		Workload:  platform.Workload{Ref: ref, Kind: "Deployment", Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3},
		Requested: 4, CPU: obs(platform.MetricCPU), ErrorRate: obs(platform.MetricErrorRate), Now: hist,
	})
}

func TestSustainedWindowDecisionsFromRealPrometheusData(t *testing.T) {
	srv := historyServer(t)
	c := historyClient(t, srv, overrides)
	cases := []struct {
		workload string
		allowed  bool
		rule     string
		reason   string
	}{
		{"fires", true, guard.RuleScaleUpCPU, "cpu above 80% for 5m"},
		{"boundary", false, guard.RuleScaleUpCPU, "80.0% at 00:00:00 is not above 80%"},
		{"dip", false, guard.RuleScaleUpCPU, "75.0% at 23:58:00 is not above 80%"},
		{"gap", false, guard.RuleMetricUnknown, "gap"},
		{"stale", false, guard.RuleMetricUnknown, "newest cpu sample is 2m old"},
		{"nan", false, guard.RuleMetricUnknown, "non-finite sample"},
		{"absent", false, guard.RuleMetricUnknown, "no data"},
	}
	for _, tc := range cases {
		t.Run(tc.workload, func(t *testing.T) {
			d := decide(t, c, platform.WorkloadRef{Namespace: "it", Name: tc.workload})
			if d.Allowed() != tc.allowed || d.Rule != tc.rule || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("decision %s %s: %s\nwant allowed=%v rule %s, reason containing %q", d.Verdict, d.Rule, d.Reason, tc.allowed, tc.rule, tc.reason)
			}
			if tc.allowed && d.To != 4 {
				t.Fatalf("scale to %d, want 4", d.To)
			}
		})
	}
}

func TestDefaultTemplatesFireOnCAdvisorHistory(t *testing.T) {
	srv := historyServer(t)
	c := historyClient(t, srv, nil)
	ref := platform.WorkloadRef{Namespace: "backfill", Name: "backend"}
	res, err := c.Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: ref, End: hist})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Series[0].Samples[0].V; math.Abs(got-85) > 1e-6 {
		t.Fatalf("cpu_utilization = %v, want 85 (0.85 cores used of 1 requested)", got)
	}
	d := decide(t, c, ref)
	if !d.Allowed() || d.Rule != guard.RuleScaleUpCPU || d.To != 4 {
		t.Fatalf("decision %s %s: %s, want scale up to 4", d.Verdict, d.Rule, d.Reason)
	}
}

func TestNamedMetricFailureModesAgainstRealPrometheus(t *testing.T) {
	srv := historyServer(t)
	c := historyClient(t, srv, overrides)
	ctx := context.Background()
	cases := []struct {
		name string
		q    platform.MetricQuery
		kind error
		msg  string
	}{
		{"empty result", platform.MetricQuery{Metric: platform.MetricCPU, Target: platform.WorkloadRef{Namespace: "it", Name: "absent"}, End: hist}, ErrNoData, "matched no series"},
		{"more series than expected", platform.MetricQuery{Metric: platform.MetricCPU, Target: platform.WorkloadRef{Namespace: "it", Name: "multi"}, End: hist}, ErrTooManySeries, "2 series where one was expected"},
		{"NaN sample", platform.MetricQuery{Metric: platform.MetricCPU, Target: platform.WorkloadRef{Namespace: "it", Name: "nan"}, Start: hist.Add(-5 * time.Minute), End: hist, Step: 30 * time.Second}, ErrNonFinite, "NaN"},
		{"syntax error", platform.MetricQuery{PromQL: "sum(ops_test_cpu", End: hist}, ErrBadQuery, "bad_data"},
		{"execution error", platform.MetricQuery{PromQL: `ops_test_cpu{workload="multi"} + on() ops_test_cpu{workload="multi"}`, End: hist}, ErrExecution, "execution"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Query(ctx, tc.q)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v with %q", err, tc.kind, tc.msg)
			}
		})
	}
}

func TestSlowQueryTimesOutAsUnavailable(t *testing.T) {
	srv := historyServer(t)
	// 5 ms is far below what evaluating 2.6 million subquery points takes, even on a fast idle machine.
	c, err := New(Config{URL: srv.URL, Timeout: 5 * time.Millisecond, Clock: clocktesting.NewFakePassiveClock(hist)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(context.Background(), platform.MetricQuery{PromQL: "count_over_time(ops_test_cpu[30d:1s])", End: hist})
	if !errors.Is(err, platform.ErrUnavailable) || !strings.Contains(err.Error(), "time") {
		t.Fatalf("err = %v, want unavailable by timeout", err)
	}
}

func TestStoppedPrometheusIsUnavailable(t *testing.T) {
	env := testEnv(t, "prometheus")
	srv := startServer(t, env["PROMETHEUS_BIN"], serverOpts{})
	c := historyClient(t, srv, overrides)
	if _, err := c.Query(context.Background(), platform.MetricQuery{PromQL: "vector(1)"}); err != nil {
		t.Fatalf("running server: %v", err)
	}
	srv.Stop()
	_, err := c.Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: platform.WorkloadRef{Namespace: "it", Name: "fires"}})
	if !errors.Is(err, platform.ErrUnavailable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v, want unavailable (connection refused)", err)
	}
	d := guard.DefaultScalingPolicy().Decide(guard.ScaleInput{
		Workload:  platform.Workload{Ref: platform.WorkloadRef{Namespace: "it", Name: "fires"}, Replicas: 3, ReadyReplicas: 3},
		Requested: 4, CPU: guard.ObservationFrom(platform.MetricResult{}, err), Now: hist,
	})
	if d.Allowed() || d.Rule != guard.RuleMetricUnknown {
		t.Fatalf("decision with Prometheus down: %s %s: %s, want refused as unknown", d.Verdict, d.Rule, d.Reason)
	}
}

// passwordHash is bcrypt("ops-test-password"), for Prometheus' web config.
const passwordHash = "$2a$10$mfCAcrjZFTVWLRd3XRfxRezFugPeKVw/ULDJB0Zcj769R/BKM/p7i"

func TestBasicAuth(t *testing.T) {
	env := testEnv(t, "prometheus")
	srv := startServer(t, env["PROMETHEUS_BIN"], serverOpts{webConfig: "basic_auth_users:\n  ops: " + passwordHash + "\n"})
	cases := []struct {
		name, user, password string
		kind                 error
	}{
		{"right password", "ops", "ops-test-password", nil},
		{"wrong password", "ops", "guess", ErrUnauthorized},
		{"no credentials", "", "", ErrUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Config{URL: srv.URL, Username: tc.user, Password: tc.password})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Query(context.Background(), platform.MetricQuery{PromQL: "vector(1)"})
			if tc.kind == nil && err != nil || tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if err != nil && strings.Contains(err.Error(), tc.password) && tc.password != "" {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}
