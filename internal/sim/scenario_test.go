package sim_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/duet-company/ops-skill/internal/sim"
)

func TestEveryScenarioFileLoadsAndValidates(t *testing.T) {
	infos, err := sim.ListScenarios(scenarios)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"clickhouse-oom", "disk-space", "health-check-failing", "healthy", "high-cpu"}
	if len(infos) < len(want) {
		t.Fatalf("scenarios %+v, want at least %v", infos, want)
	}
	have := map[string]sim.ScenarioInfo{}
	for _, info := range infos {
		have[info.Name] = info
		if info.Description == "" || info.Alert == "" {
			t.Errorf("%s: empty description or alert", info.Name)
		}
		sc, err := sim.LoadScenario(scenarios, info.Name)
		if err != nil {
			t.Errorf("%s: %v", info.Name, err)
			continue
		}
		if err := sc.Validate(); err != nil {
			t.Errorf("%s: %v", info.Name, err)
		}
	}
	for _, n := range want {
		if _, ok := have[n]; !ok {
			t.Errorf("scenario %s missing", n)
		}
	}
	if a := have["clickhouse-oom"].Alert; a != "ClickHouse database connection failed (3 attempts)" {
		t.Errorf("clickhouse-oom alert %q", a)
	}
}

func TestUnknownScenarioListsTheAvailableOnes(t *testing.T) {
	_, err := sim.LoadScenario(scenarios, "nope")
	if !errors.Is(err, sim.ErrUnknownScenario) || !strings.Contains(err.Error(), "high-cpu") {
		t.Fatalf("unknown scenario: %v, want ErrUnknownScenario listing high-cpu", err)
	}
	if _, err := sim.LoadScenario(scenarios, "../go"); !errors.Is(err, sim.ErrUnknownScenario) {
		t.Errorf("path in name: %v", err)
	}
}

const minimal = `name: mini
description: d
alert: a
services:
  - name: backend
    containers: [{name: backend, memory_limit: 1Gi}]
`

func TestParseRejectsUnknownFieldsAndBadValues(t *testing.T) {
	cases := map[string]string{
		"unknown top-level field": minimal + "colour: red\n",
		"unknown service field":   strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    replica: 3\n", 1),
		"unknown container field": strings.Replace(minimal, "memory_limit: 1Gi", "memory_limit: 1Gi, mem: 1", 1),
		"unknown field in signal": strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    load: {demand: {value: 1, stepz: []}}\n", 1),
		"unknown field in step":   strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    load: {demand: {value: 1, steps: [{at: -1m, value: 2, x: 1}]}}\n", 1),
		"bad quantity":            strings.Replace(minimal, "1Gi", "1Gx", 1),
		"bad kind":                strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    kind: DaemonSet\n", 1),
		"bad health":              strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    health: ping\n", 1),
		"unknown metric override": strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    metrics: {gpu: [{at: -1m, gap: true}]}\n", 1),
		"unordered steps":         strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    load: {demand: {value: 1, steps: [{at: -1m, value: 2}, {at: -2m, value: 3}]}}\n", 1),
		"unknown dependency":      strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    depends_on: [kafka]\n", 1),
		"storage service missing": minimal + "storage: {service: clickhouse, disk: {total: 1TB, used: 1GB}}\n",
		"predicate field":         minimal + "expect: {state: [{service: backend, field: colour, max: 1}]}\n",
		"two documents":           minimal + "---\n" + minimal,
		"missing alert":           strings.Replace(minimal, "alert: a\n", "", 1),
	}
	for name, doc := range cases {
		if _, err := sim.ParseScenario([]byte(doc)); !errors.Is(err, sim.ErrInvalidScenario) {
			t.Errorf("%s: %v, want ErrInvalidScenario", name, err)
		}
	}
	if _, err := sim.ParseScenario([]byte(minimal)); err != nil {
		t.Fatalf("minimal scenario: %v", err)
	}
}

func TestParseAppliesDefaults(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	sv := sc.Services[0]
	if sc.Namespace != "ai-data-labs" || sc.Step != sim.DefaultStep || sc.History != sim.DefaultHistory ||
		sv.Kind != "Deployment" || sv.Startup != sim.DefaultStartup || sv.Health != "http /health" || sv.Memory.Container != "backend" {
		t.Errorf("defaults not applied: %+v %+v", sc, sv)
	}
}

func TestScenarioNameMustMatchFile(t *testing.T) {
	fsys := fstest.MapFS{"other.yaml": {Data: []byte(minimal)}}
	if _, err := sim.LoadScenario(fsys, "other"); !errors.Is(err, sim.ErrInvalidScenario) {
		t.Errorf("mismatched name: %v, want ErrInvalidScenario", err)
	}
}

func TestMatchScenarioPicksMostKeywords(t *testing.T) {
	cases := []struct {
		alert string
		want  string
		ok    bool
	}{
		{"Alert: Backend service CPU at 85% for 5 minutes", "high-cpu", true},
		{"Alert: High CPU usage on backend service", "high-cpu", true},
		{"ClickHouse database connection failed (3 attempts)", "clickhouse-oom", true},
		{"Alert: Database disk usage at 85%", "disk-space", true},
		{"ClickHouse disk usage at 85%", "disk-space", true},
		{"Frontend health check failed: GET /health returned 503", "health-check-failing", true},
		{"Kafka consumer lag", "", false},
	}
	for _, c := range cases {
		got, ok := sim.MatchScenario(scenarios, c.alert)
		if got != c.want || ok != c.ok {
			t.Errorf("MatchScenario(%q) = %q, %v; want %q, %v", c.alert, got, ok, c.want, c.ok)
		}
	}
}

func TestQuantities(t *testing.T) {
	bytesCases := map[string]sim.Bytes{"4Gi": 4 << 30, "6.2Gi": 6657199309, "850GB": 850e9, "1TB": 1e12, "1e12": 1e12, "512Mi": 512 << 20, "100": 100}
	for in, want := range bytesCases {
		if got, err := sim.ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "Gi", "-1Gi", "4Gx", "1.2.3"} {
		if _, err := sim.ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) succeeded", bad)
		}
	}
	milliCases := map[string]sim.Millis{"500m": 500, "2": 2000, "0.5": 500}
	for in, want := range milliCases {
		if got, err := sim.ParseMillis(in); err != nil || got != want {
			t.Errorf("ParseMillis(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if got := sim.Bytes(6657199309).GiB(); got != "6.20 GiB" {
		t.Errorf("GiB = %q", got)
	}
}

func TestExpectCheckState(t *testing.T) {
	p := load(t, "high-cpu")
	exp := p.Scenario().Expect
	err := exp.CheckState(p.Snapshot())
	if err == nil || !strings.Contains(err.Error(), "backend.replicas is 3") || !strings.Contains(err.Error(), "backend.cpu is 85") {
		t.Errorf("before acting: %v, want replicas and cpu failures", err)
	}
}
