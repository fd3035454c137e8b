package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/simhistory"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/tune"
	"github.com/duet-company/ops-skill/tools"
)

var tuneStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// plantedFactory is a Factory whose history holds a noisy CPU alert on
// backend, a thrashing scaling loop on backend and frontend's failing health
// check restarted again and again, all on the simulated platform.
func plantedFactory(t *testing.T) (*Factory, *bytes.Buffer) {
	t.Helper()
	ctx := context.Background()
	b, err := simhistory.New(ctx, tuneStart)
	if err != nil {
		t.Fatal(err)
	}
	load := func(name string) sim.Scenario {
		sc, err := sim.LoadScenario(sim.Scenarios(), name)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	for i := range 4 {
		if _, err := b.Incident(ctx, load("noisy-cpu-spike"), tuneStart.Add(time.Duration(i)*3*time.Hour), ""); err != nil {
			t.Fatal(err)
		}
	}
	swing := simhistory.Swing(load("high-cpu"), "backend", 180, 60, 40*time.Minute, 6*time.Hour)
	if _, err := b.Autoscale(ctx, swing, tuneStart.Add(24*time.Hour), "backend", 6*time.Hour, 5*time.Minute, 80, 30); err != nil {
		t.Fatal(err)
	}
	b.State = tools.NewMemoryState()
	for i := range 8 {
		if _, err := b.Incident(ctx, load("health-check-failing"), tuneStart.Add(48*time.Hour+time.Duration(i)*15*time.Minute), ""); err != nil {
			t.Fatal(err)
		}
	}
	b.Config.StateDir = t.TempDir()
	out := &bytes.Buffer{}
	f := &Factory{
		IO:         Test(strings.NewReader(""), out, &bytes.Buffer{}),
		LoadConfig: func(string, *pflag.FlagSet) (config.Config, error) { return b.Config, nil },
		OpenStore:  func(context.Context, config.Config) (*store.Store, error) { return b.Store, nil },
		Now:        func() time.Time { return tuneStart.Add(7 * 24 * time.Hour) },
	}
	return f, out
}

func runRoot(f *Factory, args ...string) error {
	root := NewRoot(f, BuildInfo{Version: "test"})
	root.SetArgs(args)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	return root.ExecuteContext(context.Background())
}

func TestTuneReportsThePlantedProblemsWithReadyCommands(t *testing.T) {
	f, out := plantedFactory(t)
	if err := runRoot(f, "tune", "--since", "30d"); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"false_positive  cpu alert of backend fired 4 times; 4 needed no action",
		"thrashing  ai-data-labs/backend reversed its replica count",
		"suggest: ops-skill --update-threshold scale_up.cpu=85 --update-threshold scale_down.cpu=25 --update-threshold scale_down.duration=30m",
		"self_heal_loop  ai-data-labs/frontend was restarted 6 times",
		"suggest: ops-skill --update-threshold self_healing.replacement_threshold=4",
		"cpu ", "threshold 80% (scale_up.cpu)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("tune output lacks %q:\n%s", want, text)
		}
	}
}

func TestTuneJSONHasEachFindingWithItsEvidence(t *testing.T) {
	f, out := plantedFactory(t)
	if err := runRoot(f, "tune", "--since", "30d", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var rep tune.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 3 {
		t.Fatalf("%d findings, want 3: %+v", len(rep.Findings), rep.Findings)
	}
	for _, fd := range rep.Findings {
		if len(fd.Evidence) == 0 || fd.Evidence[0].At.IsZero() {
			t.Errorf("%s %s: evidence %+v", fd.Problem, fd.Service, fd.Evidence)
		}
	}
}

func TestReplayShowsWhatAChangedPolicyWouldHaveDone(t *testing.T) {
	for _, c := range []struct {
		set, want string
	}{
		{"", "0 of "},
		{"scale_up.cpu=99", "refused"},
	} {
		f, out := plantedFactory(t)
		args := []string{"replay", "--since", "30d"}
		if c.set != "" {
			args = append(args, "--set", c.set)
		}
		if err := runRoot(f, args...); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("replay --set %q lacks %q:\n%s", c.set, c.want, out.String())
		}
	}
}

func TestReplayNeedsAnIncidentOrAPeriod(t *testing.T) {
	f, _ := plantedFactory(t)
	if err := runRoot(f, "replay"); err == nil || !strings.Contains(err.Error(), "--since, e.g. --since 7d") || strings.Contains(err.Error(), "not both") {
		t.Errorf("replay without a subject: %v", err)
	}
	if err := runRoot(f, "replay", "INC-2026-01-01-001", "--since", "7d"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("replay with both an incident and a period: %v", err)
	}
}
