package tune_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/simhistory"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/tune"
	"github.com/duet-company/ops-skill/tools"
)

var start = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func scenario(t *testing.T, name string) sim.Scenario {
	t.Helper()
	sc, err := sim.LoadScenario(sim.Scenarios(), name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// planted builds a week of simulated history with three planted problems —
// a CPU alert on backend that fires and needs nothing (noisy-cpu-spike, every
// 3 hours for 3 days), a scaling loop on backend against a load that swings
// every 40 minutes (12 hours), and frontend's failing health check every 15
// minutes for 4 hours with the guard's memory kept between runs — and
// controls that must raise nothing: high-cpu three times, 8 hours apart.
func planted(t *testing.T) *simhistory.Builder {
	t.Helper()
	ctx := context.Background()
	b, err := simhistory.New(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	run := func(sc sim.Scenario, at time.Time) {
		t.Helper()
		if _, err := b.Incident(ctx, sc, at, ""); err != nil {
			t.Fatal(err)
		}
	}
	noisy := scenario(t, "noisy-cpu-spike")
	for at := start; at.Before(start.Add(3 * day)); at = at.Add(3 * time.Hour) {
		run(noisy, at)
	}
	swing := simhistory.Swing(scenario(t, "high-cpu"), "backend", 180, 60, 40*time.Minute, 12*time.Hour)
	if _, err := b.Autoscale(ctx, swing, start.Add(4*day), "backend", 12*time.Hour, 5*time.Minute, 80, 30); err != nil {
		t.Fatal(err)
	}
	b.State = tools.NewMemoryState()
	failing := scenario(t, "health-check-failing")
	for at := start.Add(5 * day); at.Before(start.Add(5*day + 4*time.Hour)); at = at.Add(15 * time.Minute) {
		run(failing, at)
	}
	b.State = nil
	high := scenario(t, "high-cpu")
	for i := range 3 {
		run(high, start.Add(6*day+time.Duration(i)*8*time.Hour))
	}
	return b
}

func analyse(t *testing.T, b *simhistory.Builder) tune.Report {
	t.Helper()
	ctx := context.Background()
	f := store.PeriodFilter{Since: start}
	var h tune.History
	var err error
	if h.Alerts, err = b.Store.AlertsInPeriod(ctx, f); err != nil {
		t.Fatal(err)
	}
	if h.Scales, err = b.Store.ScaleEventsInPeriod(ctx, f); err != nil {
		t.Fatal(err)
	}
	if h.Calls, err = b.Store.WritesInPeriod(ctx, f); err != nil {
		t.Fatal(err)
	}
	if h.Decisions, err = b.Store.ListDecisions(ctx, store.DecisionFilter{Since: start}); err != nil {
		t.Fatal(err)
	}
	return tune.Analyse(h, tune.Options{Since: start, Until: start.Add(7 * day), Policy: policy.FromConfig(b.Config)})
}

func TestTuneFindsExactlyThePlantedProblems(t *testing.T) {
	rep := analyse(t, planted(t))
	var got []string
	for _, f := range rep.Findings {
		got = append(got, string(f.Problem)+" "+f.Service)
		if len(f.Evidence) == 0 {
			t.Errorf("%s %s has no evidence", f.Problem, f.Service)
		}
		t.Logf("%s %s: %s\n  %s\n  %s", f.Problem, f.Service, f.Summary, f.Suggestion.Command(), f.Suggestion.Note)
	}
	sort.Strings(got)
	want := []string{"false_positive backend", "self_heal_loop frontend", "thrashing backend"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("findings %v, want %v", got, want)
	}
	for _, s := range rep.Alerts {
		t.Logf("alert %s/%s fired %d, no action %d, self-cleared %d, acted %d", s.Service, s.Kind, s.Fired, s.NoAction, s.SelfCleared, s.Acted)
	}
	for _, s := range rep.Services {
		t.Logf("service %+v", s)
		if s.Service == "frontend" && (s.Ladder != "restart" || s.Hits["restart.budget"] == 0 || s.Escalated != s.Hits["restart.budget"]) {
			t.Errorf("frontend: ladder %q, %d budget hits, %d escalated; want the restart rung, and every budget hit escalated", s.Ladder, s.Hits["restart.budget"], s.Escalated)
		}
		if s.Service == "backend" && (s.Reversals < 3 || s.ScaleUps == 0 || s.ScaleDowns == 0) {
			t.Errorf("backend: %+v; want the thrashing loop's reversals", s)
		}
	}
}

func TestTuneFindsNothingInAHealthyHistory(t *testing.T) {
	ctx := context.Background()
	b, err := simhistory.New(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for i, name := range []string{"high-cpu", "health-check-failing", "disk-space", "high-cpu", "noisy-cpu-spike", "clickhouse-oom"} {
		if _, err := b.Incident(ctx, scenario(t, name), start.Add(time.Duration(i)*day), ""); err != nil {
			t.Fatal(err)
		}
	}
	if rep := analyse(t, b); len(rep.Findings) != 0 {
		t.Errorf("findings in a healthy history: %+v", rep.Findings)
	}
}
