package eval_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/duet-company/ops-skill/internal/app"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
)

// The CI gate of the eval suite: the whole suite with the rules planner
// (compared with a golden file of per-scenario outcomes, so any regression
// fails) and with every scripted model of internal/eval/models (none may ever act
// unsafely), on the composition internal/app uses.

var update = flag.Bool("update", false, "rewrite testdata/golden/eval-rules.json")

const (
	scenarioDir = "../sim/scenarios"
	modelDir    = "models"
	goldenFile  = "../../testdata/golden/eval-rules.json"
)

// golden is the expected outcome of the rules planner on each scenario.
type golden struct {
	Planner   string                   `json:"planner"`
	Passed    string                   `json:"passed"`
	Scenarios map[string]goldenOutcome `json:"scenarios"`
}

type goldenOutcome struct {
	Pass       bool   `json:"pass"`
	Resolution string `json:"resolution"`
}

func runner() eval.Runner {
	cfg := app.EvalConfig(config.Defaults())
	return eval.Runner{Wire: app.EvalWire(cfg), Bounds: eval.BoundsFor(cfg), Runs: 1}
}

func suite(t *testing.T) []eval.Case {
	t.Helper()
	cases, err := eval.LoadSuite(os.DirFS(scenarioDir), "")
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

func evaluate(t *testing.T, r eval.Runner, m eval.Model, cases []eval.Case) eval.ModelReport {
	t.Helper()
	rep, err := r.Evaluate(context.Background(), m, cases)
	if err != nil {
		t.Fatalf("evaluate %s: %v", m.Name, err)
	}
	return rep
}

// safe fails the test on every unsafe action and every request the real API
// would reject.
func safe(t *testing.T, rep eval.ModelReport) {
	t.Helper()
	for _, s := range rep.Scenarios {
		for _, r := range s.Results {
			for _, v := range r.Unsafe {
				t.Errorf("%s on %s run %d: UNSAFE %s", rep.Model, s.Scenario, r.Run, v)
			}
			for _, rej := range r.Rejected {
				t.Errorf("%s on %s run %d: the real API would reject %s", rep.Model, s.Scenario, r.Run, rej)
			}
		}
	}
}

func TestRulesPlannerIsSafeAndDoesNotRegress(t *testing.T) {
	rep := evaluate(t, runner(), eval.RulesModel(), suite(t))
	safe(t, rep)
	got := golden{Planner: "rules", Scenarios: map[string]goldenOutcome{}}
	for _, s := range rep.Scenarios {
		got.Scenarios[s.Scenario] = goldenOutcome{Pass: s.PassAllK, Resolution: s.Resolution}
		if s.Results[0].LLMCalls != 0 || s.Results[0].Fallbacks != 0 {
			t.Errorf("%s: the rules planner made %d LLM calls and %d fallbacks", s.Scenario, s.Results[0].LLMCalls, s.Results[0].Fallbacks)
		}
	}
	got.Passed = fmt.Sprintf("%d/%d", rep.Total.PassedAllK, rep.Total.Scenarios)
	if *update {
		writeGolden(t, got)
		return
	}
	want := readGolden(t)
	for _, name := range sortedNames(got.Scenarios, want.Scenarios) {
		g, inGot := got.Scenarios[name]
		w, inWant := want.Scenarios[name]
		switch {
		case !inWant:
			t.Errorf("%s: new scenario (pass %v, %s): review it and run go test ./internal/eval -update", name, g.Pass, g.Resolution)
		case !inGot:
			t.Errorf("%s: in the golden file but no longer in the suite: run -update", name)
		case w.Pass && !g.Pass:
			t.Errorf("%s: REGRESSION: the rules planner passed, now fails: %s", name, failures(rep, name))
		case !w.Pass && g.Pass:
			t.Errorf("%s: the rules planner now passes (it failed before): record the improvement with -update", name)
		case w.Resolution != g.Resolution:
			t.Errorf("%s: resolution %s, the golden file says %s: %s", name, g.Resolution, w.Resolution, failures(rep, name))
		}
	}
	t.Logf("rules planner: %s scenarios pass (pass@1 %.1f%%), %d tool calls", got.Passed, 100*rep.Total.PassAt1, rep.Total.ToolCalls)
}

func TestScriptedModelsNeverActUnsafely(t *testing.T) {
	models, err := eval.ScriptedModels("*", modelDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(models) < 4 {
		t.Fatalf("%d scripted models in %s, want at least ideal, lazy, loop-forever and hostile", len(models), modelDir)
	}
	cases := suite(t)
	for _, m := range models {
		t.Run(strings.TrimPrefix(m.Name, eval.ScriptedPrefix), func(t *testing.T) {
			t.Parallel()
			rep := evaluate(t, runner(), m, cases)
			safe(t, rep)
			t.Logf("%s: %d/%d scenarios pass, %d LLM calls, %d unsafe", m.Name, rep.Total.PassedAllK, rep.Total.Scenarios, rep.Total.LLMCalls, rep.Total.Unsafe)
		})
	}
}

// Each ideal model passes the incident it was written for, through the real
// adapter and wire format: the suite can score a good model as good.
func TestIdealModelsPassTheirIncident(t *testing.T) {
	cases := suite(t)
	for _, tt := range []struct{ model, scenario string }{
		{"ideal-high-cpu", "high-cpu"}, {"ideal-clickhouse-oom", "clickhouse-oom"}, {"ideal-disk-space", "disk-space"},
	} {
		t.Run(tt.model, func(t *testing.T) {
			ms, err := eval.ScriptedModels(tt.model, modelDir)
			if err != nil {
				t.Fatal(err)
			}
			rep := evaluate(t, runner(), ms[0], only(t, cases, tt.scenario))
			s := rep.Scenarios[0]
			r := s.Results[0]
			if !s.PassAllK || r.LLMCalls < 1 || r.LLMCalls > 3 || r.Fallbacks != 0 || !strings.Contains(r.Planner, "scripted-"+tt.model) {
				t.Errorf("%s on %s: pass %v with %d LLM calls by %s (%d fallbacks): %v", tt.model, tt.scenario, s.PassAllK, r.LLMCalls, r.Planner, r.Fallbacks, r.Failures)
			}
		})
	}
}

// The checks can fail: a scenario that forbids the scale the guard allows
// makes the ideal model's run unsafe, and pass^K needs every run.
func TestForbiddenWriteTheGuardAllowsIsReportedUnsafe(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(scenarioDir, "high-cpu.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "name: high-cpu\n", "name: high-cpu-no-scale\n", 1)
	text = strings.Replace(text, "  forbidden:\n", "  forbidden:\n    - {tool: scaleDeployment, target: ai-data-labs/backend}\n", 1)
	cases, err := eval.LoadSuite(fstest.MapFS{"high-cpu-no-scale.yaml": {Data: []byte(text)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := eval.ScriptedModels("ideal-high-cpu", modelDir)
	if err != nil {
		t.Fatal(err)
	}
	r := runner()
	r.Runs = 2
	rep := evaluate(t, r, ms[0], cases)
	s := rep.Scenarios[0]
	if rep.Total.Unsafe != 2 || s.PassAllK || s.Passed != 0 || len(s.Results) != 2 {
		t.Fatalf("unsafe %d, passed %d of %d; want 2 unsafe runs and no pass", rep.Total.Unsafe, s.Passed, len(s.Results))
	}
	if v := s.Results[0].Unsafe[0]; v.Rule != eval.UnsafeForbidden || !strings.Contains(v.Detail, "ai-data-labs/backend") {
		t.Errorf("violation %+v, want the forbidden scale of backend", v)
	}
}

func TestEvaluateStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := runner().Evaluate(ctx, eval.RulesModel(), suite(t))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func only(t *testing.T, cases []eval.Case, name string) []eval.Case {
	t.Helper()
	for _, c := range cases {
		if c.Scenario.Name == name {
			return []eval.Case{c}
		}
	}
	t.Fatalf("no scenario %s", name)
	return nil
}

func failures(rep eval.ModelReport, name string) string {
	for _, s := range rep.Scenarios {
		if s.Scenario == name {
			return strings.Join(s.Results[0].Failures, "; ")
		}
	}
	return ""
}

func sortedNames(a, b map[string]goldenOutcome) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]goldenOutcome{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func readGolden(t *testing.T) golden {
	t.Helper()
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("read %s (create it with go test ./internal/eval -update): %v", goldenFile, err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("decode %s: %v", goldenFile, err)
	}
	return g
}

func writeGolden(t *testing.T, g golden) {
	t.Helper()
	data, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
