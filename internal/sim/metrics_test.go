package sim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

func TestMetricsDownFailsEveryQuery(t *testing.T) {
	sc, err := sim.LoadScenario(scenarios, "high-cpu")
	if err != nil {
		t.Fatal(err)
	}
	sc.MetricsDown = true
	p := sim.New(sc, t0)
	_, err = p.Metrics().Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("backend")})
	if !errors.Is(err, platform.ErrUnavailable) {
		t.Fatalf("metrics down: %v, want ErrUnavailable", err)
	}
}

func TestQueryErrors(t *testing.T) {
	p := load(t, "high-cpu")
	cases := []struct {
		name string
		q    platform.MetricQuery
		want error
	}{
		{"raw PromQL", platform.MetricQuery{PromQL: `rate(http_requests_total[5m])`, Target: ref("backend")}, platform.ErrUnsupported},
		{"unknown metric", platform.MetricQuery{Metric: "gpu_utilization", Target: ref("backend")}, platform.ErrUnsupported},
		{"unknown service", platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("payments")}, platform.ErrNotFound},
		{"too many points", platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("backend"),
			Start: t0.Add(-24 * time.Hour), End: t0, Step: time.Second}, sim.ErrTooManyPoints},
	}
	for _, c := range cases {
		_, err := p.Metrics().Query(context.Background(), c.q)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	_, err := p.Metrics().Query(context.Background(), cases[0].q)
	if err == nil || !strings.Contains(err.Error(), "named metrics") {
		t.Errorf("PromQL error %q should say only named metrics are answered", err)
	}
}

func TestRangeQueryCoversHistoryAndStopsAtNow(t *testing.T) {
	p := load(t, "high-cpu")
	res, err := p.Metrics().Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("backend"),
		Start: t0.Add(-2 * time.Hour), End: t0.Add(time.Hour), Step: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Series[0].Samples
	if len(s) != 121 || !s[0].T.Equal(t0.Add(-30*time.Minute)) || !s[len(s)-1].T.Equal(t0) {
		t.Fatalf("%d samples from %s to %s, want 121 from -30m to now", len(s), s[0].T, s[len(s)-1].T)
	}
	if res.Series[0].Labels["workload"] != "backend" {
		t.Errorf("labels %v", res.Series[0].Labels)
	}
}

func TestSampleIsTheLastScrape(t *testing.T) {
	p := load(t, "high-cpu")
	p.Advance(5 * time.Second)
	if _, err := p.Cluster().Scale(context.Background(), ref("backend"), platform.ScaleRequest{Replicas: 4}); err != nil {
		t.Fatal(err)
	}
	p.Advance(35 * time.Second) // new pods ready at +35s, scrapes at +30s and +45s
	if got := p.Snapshot().Services["backend"].CPU; got != 45 {
		t.Fatalf("modelled cpu %v, want 45", got)
	}
	if got := instant(t, p, "backend", platform.MetricCPU); got != 85 {
		t.Errorf("cpu before the next scrape %v, want 85", got)
	}
	p.Advance(5 * time.Second)
	if got := instant(t, p, "backend", platform.MetricCPU); got != 45 {
		t.Errorf("cpu after the scrape %v, want 45", got)
	}
}

func TestOverridesMakeDipsAndGaps(t *testing.T) {
	sc, err := sim.LoadScenario(scenarios, "high-cpu")
	if err != nil {
		t.Fatal(err)
	}
	dip := 70.0
	sc.Services[0].Metrics = map[string][]sim.Override{"cpu_utilization": {
		{At: -10 * time.Minute, For: 15 * time.Second, Value: &dip},
		{At: -6 * time.Minute, For: time.Minute, Gap: true},
	}}
	p := sim.New(sc, t0)
	res, err := p.Metrics().Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("backend"),
		Start: t0.Add(-11 * time.Minute), End: t0, Step: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := map[time.Duration]float64{}
	for _, s := range res.Series[0].Samples {
		got[s.T.Sub(t0)] = s.V
	}
	if len(got) != 45-4 {
		t.Errorf("%d samples, want 41 (four in the one-minute gap)", len(got))
	}
	if got[-10*time.Minute] != 70 || got[-10*time.Minute+15*time.Second] != 85 {
		t.Errorf("dip: %v then %v, want 70 then 85", got[-10*time.Minute], got[-10*time.Minute+15*time.Second])
	}
	if _, ok := got[-6*time.Minute]; ok {
		t.Error("sample inside the gap")
	}
	if s := p.Snapshot().Services["backend"]; s.CPU != 85 {
		t.Errorf("snapshot cpu %v: overrides must not change the modelled state", s.CPU)
	}
}

func TestRestartsMetricCountsOOMKills(t *testing.T) {
	p := load(t, "clickhouse-oom")
	got := instant(t, p, "clickhouse", platform.MetricRestarts)
	if got < 2 || got > 4 {
		t.Errorf("restarts in the last minute %v, want about 3 (2 pods, one kill each 40s)", got)
	}
	if got := instant(t, p, "backend", platform.MetricRestarts); got != 0 {
		t.Errorf("backend restarts %v, want 0", got)
	}
}

func TestDiskUsageOnlyForTheStorageService(t *testing.T) {
	p := load(t, "disk-space")
	if got := instant(t, p, "clickhouse", platform.MetricDiskUsage); got != 85 {
		t.Errorf("clickhouse disk usage %v, want 85", got)
	}
	res, err := p.Metrics().Query(context.Background(), platform.MetricQuery{Metric: platform.MetricDiskUsage, Target: ref("backend")})
	if err != nil || len(res.Series) != 0 || len(res.Warnings) == 0 {
		t.Errorf("backend disk usage: %v %+v, want no series and a warning", err, res)
	}
}

func TestNotifierRecordsAndCanBeDown(t *testing.T) {
	p := load(t, "healthy")
	n := platform.Notification{Severity: "info", Title: "scaled", Fields: map[string]string{"from": "3"}}
	if err := p.Notifier().Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	n.Fields["from"] = "changed after sending"
	got := p.Notifications()
	if len(got) != 1 || got[0].Title != "scaled" || got[0].Fields["from"] != "3" {
		t.Errorf("notifications %+v", got)
	}
	sc := p.Scenario()
	sc.NotifierDown = true
	if err := sim.New(sc, t0).Notifier().Notify(context.Background(), n); !errors.Is(err, platform.ErrUnavailable) {
		t.Errorf("notifier down: %v, want ErrUnavailable", err)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	p := load(t, "healthy")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx, time.Minute); !errors.Is(err, context.Canceled) || !p.Now().Equal(t0) {
		t.Errorf("wait on a cancelled context: %v, now %s", err, p.Now())
	}
	if err := p.Wait(context.Background(), time.Minute); err != nil || !p.Clock().Now().Equal(t0.Add(time.Minute)) {
		t.Errorf("wait: %v, now %s", err, p.Now())
	}
	p.Clock().Sleep(time.Minute)
	if !p.Now().Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("clock sleep did not advance virtual time: %s", p.Now())
	}
}
