package app

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/compose"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/store"
)

// incidentCase is one alert run on the simulated platform, with what its
// summary must say.
type incidentCase struct {
	name       string
	args       []string
	env        map[string]string
	resolution string
	code       int
	actions    []string // tools of the executed (or dry-run) writes, in order
	refusals   []string // rules of the refusals, in order
	incident   string
	escalated  bool
}

const (
	highCPUAlert = "Alert: Backend service CPU at 85% for 5 minutes"
	oomAlert     = "ClickHouse database connection failed (3 attempts)"
	diskAlert    = "Database disk usage at 85%"
	healthAlert  = "Frontend health check failed: GET /health returned 503 for 3 consecutive checks"
)

func incidentCases() []incidentCase {
	return []incidentCase{
		{name: "high-cpu", args: []string{highCPUAlert}, resolution: "resolved", code: cli.ExitOK, actions: []string{"scaleDeployment"}},
		{name: "clickhouse-oom", args: []string{oomAlert}, resolution: "escalated", code: cli.ExitUnresolved,
			actions: []string{"updateResources"}, refusals: []string{"scale_up.cpu"}, incident: "INC-2026-02-16-001", escalated: true},
		{name: "disk-space", args: []string{diskAlert}, resolution: "resolved", code: cli.ExitOK, actions: []string{"dropPartitions"}},
		{name: "health-check-failing", args: []string{healthAlert}, resolution: "resolved", code: cli.ExitOK, actions: []string{"restartPods"}},
		{name: "healthy", args: []string{"--scenario", "healthy", highCPUAlert}, resolution: "no_action", code: cli.ExitOK},
		// Observe mode opens no incident and pages nobody: it says what it would have done.
		{name: "high-cpu-observe", args: []string{"--mode", "observe", highCPUAlert}, resolution: "unresolved", code: cli.ExitUnresolved,
			actions: []string{"scaleDeployment"}},
		{name: "high-cpu-approve-no-terminal", args: []string{"--mode", "approve", highCPUAlert}, resolution: "escalated", code: cli.ExitUnresolved,
			refusals: []string{"mode.approve_no_terminal"}, incident: "INC-2026-02-16-001", escalated: true},
		{name: "high-cpu-at-max-replicas", args: []string{highCPUAlert}, env: map[string]string{"MAX_REPLICAS": "3"},
			resolution: "escalated", code: cli.ExitUnresolved, incident: "INC-2026-02-16-001", escalated: true},
	}
}

func (c incidentCase) harness(t *testing.T) *harness {
	h := newHarness(t)
	for k, v := range c.env {
		h.env[k] = v
	}
	return h
}

func TestIncidentTranscriptGolden(t *testing.T) {
	for _, c := range incidentCases() {
		t.Run(c.name, func(t *testing.T) {
			h := c.harness(t)
			code := h.run(c.args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, c.code, h.errOut.String())
			}
			if h.errOut.Len() != 0 {
				t.Errorf("stderr is not empty: %q", h.errOut.String())
			}
			out := h.out.String()
			if !strings.Contains(out, "Outcome: "+c.resolution+"\n") {
				t.Errorf("transcript does not end with outcome %s", c.resolution)
			}
			if c.incident != "" && !strings.Contains(out, "Incident: "+c.incident+"\n") {
				t.Errorf("transcript does not name incident %s", c.incident)
			}
			checkGolden(t, c.name+".txt", h.out.Bytes())
		})
	}
}

func TestIncidentJSONEventsGolden(t *testing.T) {
	for _, c := range incidentCases() {
		t.Run(c.name, func(t *testing.T) {
			h := c.harness(t)
			code := h.run(append([]string{"--output", "json"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, c.code, h.errOut.String())
			}
			events := decodeLines(t, h.out.Bytes())
			if first := events[0]["type"]; first != "run_started" {
				t.Errorf("first event is %v, want run_started", first)
			}
			c.checkSummary(t, events[len(events)-1])
			checkGolden(t, c.name+".jsonl", h.out.Bytes())
		})
	}
}

// decodeLines parses JSON Lines: every line one object with a "type".
func decodeLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatalf("output does not end with a newline: %q", b)
	}
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, line)
		}
		if _, ok := ev["type"].(string); !ok {
			t.Fatalf("line %d has no type: %s", i+1, line)
		}
		out = append(out, ev)
	}
	return out
}

func (c incidentCase) checkSummary(t *testing.T, s map[string]any) {
	t.Helper()
	if s["type"] != "summary" {
		t.Fatalf("last event is %v, want summary", s["type"])
	}
	if s["resolution"] != c.resolution || s["planner"] != "rules" {
		t.Errorf("resolution/planner = %v/%v, want %s/rules", s["resolution"], s["planner"], c.resolution)
	}
	if got, _ := s["incident"].(string); got != c.incident {
		t.Errorf("incident = %q, want %q", got, c.incident)
	}
	if got, _ := s["escalated"].(bool); got != c.escalated {
		t.Errorf("escalated = %v, want %v", got, c.escalated)
	}
	actions := objects(t, s, "actions")
	if tools := field(actions, "tool"); strings.Join(tools, ",") != strings.Join(c.actions, ",") {
		t.Errorf("actions = %v, want %v", tools, c.actions)
	}
	for _, a := range actions {
		for _, k := range []string{"tool", "target", "params", "result"} {
			if _, ok := a[k]; !ok {
				t.Errorf("action %v has no %q", a, k)
			}
		}
		if tgt, _ := a["target"].(string); tgt == "" {
			t.Errorf("action %v has an empty target", a)
		}
	}
	refusals := objects(t, s, "refusals")
	if rules := field(refusals, "rule"); strings.Join(rules, ",") != strings.Join(c.refusals, ",") {
		t.Errorf("refusals = %v, want %v", rules, c.refusals)
	}
	for _, r := range refusals {
		for _, k := range []string{"tool", "target", "rule", "reason"} {
			if v, _ := r[k].(string); v == "" {
				t.Errorf("refusal %v has no %q", r, k)
			}
		}
	}
}

// objects returns a summary list that must be present (possibly empty).
func objects(t *testing.T, s map[string]any, key string) []map[string]any {
	t.Helper()
	raw, ok := s[key].([]any)
	if !ok {
		t.Fatalf("summary %q is %T, want a list (never null)", key, s[key])
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		if out[i], ok = v.(map[string]any); !ok {
			t.Fatalf("summary %s[%d] is %T", key, i, v)
		}
	}
	return out
}

func field(list []map[string]any, key string) []string {
	var out []string
	for _, m := range list {
		v, _ := m[key].(string)
		out = append(out, v)
	}
	return out
}

// TestIncidentOutputIsTheSameOnEveryRun catches ordering that depends on
// goroutine scheduling (parallel reads) or on anything but the fake clock.
func TestIncidentOutputIsTheSameOnEveryRun(t *testing.T) {
	for _, c := range incidentCases() {
		t.Run(c.name, func(t *testing.T) {
			var first []byte
			for i := 0; i < 4; i++ {
				h := c.harness(t)
				h.run(append([]string{"--output", "json"}, c.args...)...)
				if i == 0 {
					first = bytes.Clone(h.out.Bytes())
					continue
				}
				if !bytes.Equal(first, h.out.Bytes()) {
					t.Fatalf("run %d differs from run 1:\n%s", i+1, firstDiff(string(first), h.out.String()))
				}
			}
		})
	}
}

// TestIncidentRunsAreRecorded checks the history a run leaves: the alert with
// its outcome and planner, and the scale event of the high-CPU incident.
func TestIncidentRunsAreRecorded(t *testing.T) {
	h := newHarness(t)
	if code := h.run(highCPUAlert); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, h.errOut.String())
	}
	if code := h.run("--output", "json", "--alert-history"); code != cli.ExitOK {
		t.Fatalf("--alert-history exit %d: %s", code, h.errOut.String())
	}
	var alerts []store.AlertRecord
	if err := json.Unmarshal(h.out.Bytes(), &alerts); err != nil {
		t.Fatalf("--alert-history --output json: %v\n%s", err, h.out.String())
	}
	if len(alerts) != 1 || alerts[0].Service != "backend" || alerts[0].Outcome != "resolved" || alerts[0].Planner != "rules" || alerts[0].Env != store.EnvSimulated {
		t.Fatalf("alert history = %+v", alerts)
	}
	if !alerts[0].ReceivedAt.Equal(goldenStart) {
		t.Errorf("received at %v, want the fake clock's %v", alerts[0].ReceivedAt, goldenStart)
	}
	if code := h.run("--scale-history", "--service", "backend"); code != cli.ExitOK {
		t.Fatalf("--scale-history exit %d: %s", code, h.errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(h.out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("scale history:\n%s", h.out.String())
	}
	cols := strings.Split(lines[1], "\t")
	if len(cols) != 7 || cols[1] != "ai-data-labs/backend" || cols[2] != "3" || cols[3] != "4" || cols[4] != "scale_up.cpu" {
		t.Errorf("scale event row = %q", cols)
	}
}

// renderSystemPrompt renders the system prompt of the config the environment gives.
func renderSystemPrompt(t *testing.T, h *harness) string {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{Env: h.lookup})
	if err != nil {
		t.Fatal(err)
	}
	mode, err := guard.ParseMode(cfg.Agent.Mode)
	if err != nil {
		t.Fatal(err)
	}
	c, err := compose.New(compose.Options{Config: cfg, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	got := c.System
	if strings.Contains(got, "<no value>") || strings.Contains(got, "%!") {
		t.Errorf("the prompt has an unfilled field:\n%s", got)
	}
	return got
}

func TestSystemPromptGolden(t *testing.T) {
	got := renderSystemPrompt(t, newHarness(t))
	for _, want := range []string{"ai-data-labs", "80%", "2-10", "90d", "untrusted"} {
		if !strings.Contains(got, want) {
			t.Errorf("the prompt does not state %q", want)
		}
	}
	checkGolden(t, "system-prompt.txt", []byte(got+"\n"))
}

func TestSystemPromptStatesTheConfiguredGuardrails(t *testing.T) {
	h := newHarness(t)
	h.env["SCALE_UP_THRESHOLD"] = "85"
	h.env["MAX_REPLICAS"] = "7"
	h.env["NAMESPACE"] = "shop"
	got := renderSystemPrompt(t, h)
	for _, want := range []string{"85%", "2-7", "shop"} {
		if !strings.Contains(got, want) {
			t.Errorf("the prompt does not state %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "80%") || strings.Contains(got, "ai-data-labs") {
		t.Errorf("the prompt keeps a default the config replaced:\n%s", got)
	}
}

func TestToolsListGolden(t *testing.T) {
	h := newHarness(t)
	if code := h.run("tools", "list", "--output", "json"); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, h.errOut.String())
	}
	var specs []struct {
		Name       string          `json:"name"`
		Risk       string          `json:"risk"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(h.out.Bytes(), &specs); err != nil {
		t.Fatal(err)
	}
	if len(specs) != 14 {
		t.Errorf("%d tools listed, want 14", len(specs))
	}
	for _, s := range specs {
		if s.Name == "" || s.Risk == "" || !json.Valid(s.Parameters) {
			t.Errorf("tool %q: risk %q, parameters %s", s.Name, s.Risk, s.Parameters)
		}
	}
	checkGolden(t, "tools-list.json", h.out.Bytes())
}
