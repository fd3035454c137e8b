package main

// End-to-end tests of the built binary: TestMain builds ops-skill once, and
// each test runs it in a clean environment (PATH, HOME and
// OPS_SKILL_STATE_DIR in temporary directories, nothing else), as a user would.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) { os.Exit(buildAndRun(m)) }

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ops-skill-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "ops-skill")
	build := exec.Command(goTool(), "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build ops-skill: %v\n", err)
		return 1
	}
	return m.Run()
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

const (
	highCPUAlert = "Alert: Backend service CPU at 85% for 5 minutes"
	diskAlert    = "Alert: Database disk usage at 85%"
)

// sandbox is one user's machine: a home, a state directory and an environment.
type sandbox struct {
	t     *testing.T
	home  string
	state string
	env   map[string]string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	return &sandbox{t: t, home: t.TempDir(), state: t.TempDir(), env: map[string]string{}}
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// run executes the binary with stdin and args.
func (s *sandbox) run(stdin string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = s.home
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.home, "OPS_SKILL_STATE_DIR=" + s.state}
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		s.t.Fatalf("run ops-skill %q: %v", args, err)
	}
	return r
}

// must runs a command that has to end with the given exit code.
func (s *sandbox) must(code int, stdin string, args ...string) result {
	s.t.Helper()
	r := s.run(stdin, args...)
	if r.code != code {
		s.t.Fatalf("ops-skill %q: want exit %d, got %s", args, code, r)
	}
	return r
}

// alertRow is one alert of --alert-history --output json.
type alertRow struct {
	Source, Service, Kind, Outcome, Planner, IncidentID, Env, Summary, Error string
}

func (s *sandbox) alerts() []alertRow {
	s.t.Helper()
	r := s.must(0, "", "--alert-history", "--output", "json", "--limit", "10000")
	var rows []alertRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		s.t.Fatalf("--alert-history --output json: %v\n%s", err, r)
	}
	return rows
}

func (s *sandbox) scaleEventCount() int {
	s.t.Helper()
	r := s.must(0, "", "--scale-history", "--output", "json", "--limit", "10000")
	var rows []json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		s.t.Fatalf("--scale-history --output json: %v\n%s", err, r)
	}
	return len(rows)
}

func alertFile(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "alerts", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// freshAlertFile copies an Alertmanager fixture with every alert's startsAt
// set to ten minutes ago, so the binary (which runs on the wall clock) sees an
// alert that has not outlived ESCALATION_HOURS.
func freshAlertFile(t *testing.T, name string) string {
	t.Helper()
	var payload map[string]any
	if err := json.Unmarshal([]byte(readFile(t, alertFile(t, name))), &payload); err != nil {
		t.Fatal(err)
	}
	alerts, _ := payload["alerts"].([]any)
	for _, a := range alerts {
		if m, ok := a.(map[string]any); ok {
			m["startsAt"] = time.Now().UTC().Add(-10 * time.Minute).Format(time.RFC3339)
		}
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// tsv splits tab-separated output into rows of cells.
func tsv(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, "\t"))
		}
	}
	return rows
}

func TestFreeTextAlertScalesTheBackend(t *testing.T) {
	s := newSandbox(t)
	r := s.must(0, "", highCPUAlert)
	wantContains(t, "transcript", r.stdout,
		`Alert: "Backend service CPU at 85% for 5 minutes"`, "Platform: SIMULATED (scenario high-cpu), namespace ai-data-labs",
		"1. Check current state:", "2. Analyse cause:", "3. Action:", "4. Verification:", "5. Notification:",
		"Done: scale ai-data-labs/backend from 3 to 4 replicas", "CPU after 1m30s: 45% (was 85%)", "Waited for: the rollout of ai-data-labs/backend completed after 30s, then 4 fresh CPU samples",
		"Resolution: Scaled ai-data-labs/backend from 3 to 4 replicas\n", "Outcome: resolved\n", "Time to resolution: 1m30s\n")
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
}

func TestAlertmanagerPayloadFromAFile(t *testing.T) {
	s := newSandbox(t)
	r := s.must(0, "", "--alert-file", freshAlertFile(t, "am-high-cpu.json"))
	wantContains(t, "transcript", r.stdout, "scenario high-cpu", "Done: scale ai-data-labs/backend from 3 to 4 replicas", "Outcome: resolved")
	rows := s.alerts()
	if len(rows) != 1 || rows[0].Source != "alertmanager" || rows[0].Service != "backend" || rows[0].Outcome != "resolved" {
		t.Errorf("history = %+v", rows)
	}
}

func TestAnAlertFiringLongerThanEscalationHoursIsEscalated(t *testing.T) {
	s := newSandbox(t)
	// The fixture's alert started on 2026-02-16, long before the wall clock's now.
	r := s.must(3, "", "--alert-file", alertFile(t, "am-high-cpu.json"))
	wantContains(t, "transcript", r.stdout, "Done: scale ai-data-labs/backend from 3 to 4 replicas", "it would have paged engineering", "Outcome: escalated", "Incident: INC-")
}

func TestAlertmanagerPayloadOnStandardInput(t *testing.T) {
	s := newSandbox(t)
	r := s.must(0, readFile(t, freshAlertFile(t, "am-high-cpu.json")), "-", "--output", "json")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var sum struct {
		Type       string `json:"type"`
		Resolution string `json:"resolution"`
		Actions    []struct {
			Tool, Target string
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Type != "summary" || sum.Resolution != "resolved" || len(sum.Actions) != 1 || sum.Actions[0].Tool != "scaleDeployment" || sum.Actions[0].Target != "ai-data-labs/backend" {
		t.Errorf("summary = %+v", sum)
	}
}

func TestFreeTextOnStandardInput(t *testing.T) {
	s := newSandbox(t)
	r := s.must(0, diskAlert+"\n", "-")
	wantContains(t, "transcript", r.stdout, "scenario disk-space", "Outcome: resolved")
}

func TestSimulatedDiskAlertDropsOldPartitions(t *testing.T) {
	s := newSandbox(t)
	r := s.must(0, "", "--simulate", diskAlert)
	wantContains(t, "transcript", r.stdout, "scenario disk-space", "850 GB / 1 TB", "10 GB/day", "15 days",
		"older than 90 days", "200 GB", "Disk usage now: 65%", "the space of the 5 dropped partitions (200 GB) released", "Outcome: resolved")
	if n := s.scaleEventCount(); n != 0 {
		t.Errorf("%d scale events for a disk alert", n)
	}
}

func TestSimulateRunsEvenWithAKubeconfig(t *testing.T) {
	s := newSandbox(t)
	s.env["KUBECONFIG"] = filepath.Join(s.home, "kubeconfig")
	s.must(0, "", "--simulate", highCPUAlert)
}

func TestAlertHistoryListsRunsWithFilters(t *testing.T) {
	s := newSandbox(t)
	s.must(0, "", highCPUAlert)
	s.must(0, "", diskAlert)
	s.must(2, "", "")
	r := s.must(0, "", "--alert-history")
	rows := tsv(r.stdout)
	header := "RECEIVED SERVICE KIND OUTCOME PLANNER INCIDENT ENV ALERT"
	if len(rows) != 4 || strings.Join(rows[0], " ") != header {
		t.Fatalf("want a header and 3 rows:\n%s", r)
	}
	for _, row := range rows[1:] {
		if len(row) != 8 {
			t.Errorf("row has %d columns: %q", len(row), row)
		}
		if _, err := time.Parse(time.RFC3339, row[0]); err != nil {
			t.Errorf("received %q: %v", row[0], err)
		}
	}
	outcomes := map[string]string{}
	for _, row := range rows[1:] {
		outcomes[row[1]] = row[3]
	}
	if outcomes["backend"] != "resolved" || outcomes["clickhouse"] != "resolved" || outcomes["-"] != "rejected" {
		t.Errorf("service → outcome = %v", outcomes)
	}

	r = s.must(0, "", "--alert-history", "--since", "24h", "--service", "backend")
	if rows := tsv(r.stdout); len(rows) != 2 || rows[1][1] != "backend" || rows[1][4] != "rules" || rows[1][6] != "simulated" {
		t.Errorf("--service backend:\n%s", r)
	}
	r = s.must(0, "", "--alert-history", "--limit", "1")
	if rows := tsv(r.stdout); len(rows) != 2 {
		t.Errorf("--limit 1:\n%s", r)
	}
	r = s.must(0, "", "--alert-history", "--service", "redis")
	if rows := tsv(r.stdout); len(rows) != 1 || !strings.Contains(r.stderr, "no entries") {
		t.Errorf("--service redis:\n%s", r)
	}
	if got := len(s.alerts()); got != 3 {
		t.Errorf("--output json lists %d alerts, want 3", got)
	}
}

func TestHistoryFlagsRejectBadValues(t *testing.T) {
	s := newSandbox(t)
	tests := [][]string{
		{"--alert-history", "--since", "yesterday"},
		{"--alert-history", "--since", "-5m"},
		{"--scale-history", "--since", "0d"},
		{"--alert-history", "--limit", "0"},
		{"--alert-history", "--scale-history"},
		{"--alert-history", highCPUAlert},
		{"--output", "yaml", "--alert-history"},
	}
	for _, args := range tests {
		r := s.run("", args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "ops-skill: ") {
			t.Errorf("%q: want exit 2 with a message, got %s", args, r)
		}
	}
}

func TestScaleHistoryShowsTheScaleUp(t *testing.T) {
	s := newSandbox(t)
	s.must(0, "", highCPUAlert)
	r := s.must(0, "", "--scale-history", "--since", "7d", "--service", "backend")
	rows := tsv(r.stdout)
	if len(rows) != 2 || strings.Join(rows[0], " ") != "AT WORKLOAD FROM TO RULE ENV REASON" {
		t.Fatalf("scale history:\n%s", r)
	}
	row := rows[1]
	if row[1] != "ai-data-labs/backend" || row[2] != "3" || row[3] != "4" || row[4] != "scale_up.cpu" || row[5] != "simulated" || row[6] == "" {
		t.Errorf("scale event = %q", row)
	}
	r = s.must(0, "", "--scale-history", "--service", "frontend")
	if rows := tsv(r.stdout); len(rows) != 1 {
		t.Errorf("--service frontend:\n%s", r)
	}
}
