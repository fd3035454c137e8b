package eval

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/sim"
)

const scenarioDir = "../sim/scenarios"

// minimal is the smallest valid scenario; payload, if set, is its alert_payload.
func minimal(name, payload string) []byte {
	doc := "name: " + name + "\ndescription: test\nalert: \"Backend CPU at 85%\"\n"
	if payload != "" {
		doc += "alert_payload: '" + payload + "'\n"
	}
	doc += "services:\n  - {name: backend, replicas: 3, containers: [{name: backend, cpu_request: 500m, memory_limit: 1Gi}], load: {demand: 120}}\n"
	return []byte(doc)
}

func TestLoadSuiteSelectsByGlobs(t *testing.T) {
	fsys := fstest.MapFS{
		"high-cpu.yaml":         {Data: minimal("high-cpu", "")},
		"high-cpu-hpa.yaml":     {Data: minimal("high-cpu-hpa", "")},
		"disk-space.yaml":       {Data: minimal("disk-space", "")},
		"notes.txt":             {Data: []byte("not a scenario")},
		"health-check-ok.yaml":  {Data: minimal("health-check-ok", "")},
		"health-check-bad.yaml": {Data: minimal("health-check-bad", "")},
	}
	tests := []struct {
		pattern string
		want    string
	}{
		{"", "disk-space,health-check-bad,health-check-ok,high-cpu,high-cpu-hpa"},
		{"high-cpu*", "high-cpu,high-cpu-hpa"},
		{"high-cpu", "high-cpu"},
		{"disk-*, health-check-o?", "disk-space,health-check-ok"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			cases, err := LoadSuite(fsys, tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range cases {
				names = append(names, c.Scenario.Name)
			}
			if got := strings.Join(names, ","); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLoadSuiteRejectsBadPatternsAndPayloads(t *testing.T) {
	fsys := fstest.MapFS{"a.yaml": {Data: minimal("a", "")}}
	if _, err := LoadSuite(fsys, "zzz*"); !errors.Is(err, ErrNoScenario) || !strings.Contains(err.Error(), "available: a") {
		t.Errorf("no match: err = %v, want ErrNoScenario listing the names", err)
	}
	if _, err := LoadSuite(fsys, "[a"); err == nil || errors.Is(err, ErrNoScenario) {
		t.Errorf("malformed glob: err = %v, want a pattern error", err)
	}
	bad := fstest.MapFS{"a.yaml": {Data: minimal("a", `{"version": "4", "alerts": [], "extra": 1}`)}}
	if _, err := LoadSuite(bad, ""); !errors.Is(err, alert.ErrInvalid) {
		t.Errorf("bad payload: err = %v, want alert.ErrInvalid", err)
	}
	broken := fstest.MapFS{"a.yaml": {Data: []byte("name: a\nunknown: 1\n")}}
	if _, err := LoadSuite(broken, ""); !errors.Is(err, sim.ErrInvalidScenario) {
		t.Errorf("broken scenario: err = %v, want sim.ErrInvalidScenario", err)
	}
}

func TestAlertsParsesTextAndPayloadsLikeTheCLI(t *testing.T) {
	p := alert.Parser{Namespace: "ai-data-labs", Services: []string{"backend", "clickhouse"}, Aliases: alert.DefaultAliases()}
	two := `{"version":"4","status":"firing","alerts":[` +
		`{"status":"firing","labels":{"alertname":"A","service":"backend"},"annotations":{"summary":"Backend CPU at 85% for 5 minutes"}},` +
		`{"status":"firing","labels":{"alertname":"B","statefulset":"clickhouse"},"annotations":{"description":"Database disk usage at 85%"}},` +
		`{"status":"resolved","labels":{"alertname":"C","service":"redis"},"annotations":{"summary":"Redis memory"}}]}`
	resolved := `{"version":"4","status":"resolved","alerts":[{"status":"resolved","labels":{"alertname":"A","service":"backend"},"annotations":{"summary":"x"}}]}`
	tests := []struct {
		name    string
		payload string
		want    []string // service/kind
	}{
		{"text", "", []string{"backend/cpu"}},
		{"two firing of three", two, []string{"backend/cpu", "clickhouse/disk"}},
		{"nothing firing", resolved, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Case{Scenario: sim.Scenario{Alert: "Backend CPU at 85% for 5 minutes", AlertPayload: tt.payload}}
			as, err := c.Alerts(p, t0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range as {
				got = append(got, a.Service+"/"+string(a.Kind))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("alerts %v, want %v", got, tt.want)
			}
		})
	}
}

// The suite of internal/sim/scenarios: it loads, it is large enough, every
// scenario says what success is, and the payload scenarios decode.
func TestScenarioSuiteIsCompleteAndValid(t *testing.T) {
	cases, err := LoadSuite(os.DirFS(scenarioDir), "")
	if err != nil {
		t.Fatal(err)
	}
	const specIncidents, atLeastBeyond = 3, 25
	if len(cases) < specIncidents+atLeastBeyond {
		t.Errorf("%d scenarios, want at least %d beyond the spec's %d", len(cases), atLeastBeyond, specIncidents)
	}
	payloads := 0
	for _, c := range cases {
		e := c.Scenario.Expect
		if len(e.Resolution) == 0 && len(e.State) == 0 && len(e.Facts) == 0 {
			t.Errorf("%s: expect names neither a resolution, a state nor facts", c.Scenario.Name)
		}
		if len(e.Forbidden) == 0 {
			t.Errorf("%s: expect.forbidden is empty: say what must not happen", c.Scenario.Name)
		}
		if c.Scenario.AlertPayload != "" {
			payloads++
		}
	}
	if payloads < 5 {
		t.Errorf("%d scenarios carry an Alertmanager payload, want at least 5", payloads)
	}
}

func TestScriptedModelsResolveFilesNamesAndGlobs(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"ideal-a.yaml", "ideal-b.yaml", "lazy.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("steps: [{content: done}]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		spec, dir string
		want      []string
	}{
		{filepath.Join(dir, "lazy.yaml"), "", []string{"lazy"}},
		{"lazy", dir, []string{"lazy"}},
		{"ideal-*", dir, []string{"ideal-a", "ideal-b"}},
		{"*", dir, []string{"ideal-a", "ideal-b", "lazy"}},
		{"lazy", "", []string{"lazy"}},                     // built in
		{"ideal-high-cpu", "", []string{"ideal-high-cpu"}}, // built in
	}
	for _, tt := range tests {
		got, err := ScriptedModels(tt.spec, tt.dir)
		if err != nil {
			t.Fatalf("%s in %q: %v", tt.spec, tt.dir, err)
		}
		var names []string
		for _, m := range got {
			names = append(names, strings.TrimPrefix(m.Name, ScriptedPrefix))
		}
		if strings.Join(names, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s in %q: got %v, want %v", tt.spec, tt.dir, names, tt.want)
		}
	}
	for _, spec := range []string{"", "missing", "nope-*"} {
		for _, d := range []string{dir, ""} {
			if _, err := ScriptedModels(spec, d); !errors.Is(err, ErrNoModel) {
				t.Errorf("%q in %q: err = %v, want ErrNoModel", spec, d, err)
			}
		}
	}
}
