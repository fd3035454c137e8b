package eval_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/eval"
)

// A recorded summary line as ops-skill -o json writes it on a cluster
// (trimmed to the fields parity reads, plus one it ignores).
const recordedHighCPU = `{"type":"run_started","alert":"x"}
{"type":"summary","alert":"Alert: Backend service CPU at 85% for 5 minutes","resolution":"resolved","planner":"rules",` +
	`"platform":{"kind":"cluster","cluster":"ops-skill-test","namespace":"e2e-cpu-1"},` +
	`"actions":[{"tool":"scaleDeployment","target":"e2e-cpu-1/backend","params":{"from":3,"to":4},"status":"executed"}],` +
	`"refusals":[],"verification":{"signal":"CPU","result":"resolved"},"timeToResolutionSeconds":6.1}
`

func writeRecorded(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDecisionsDifferInWhatParityCompares(t *testing.T) {
	base := agent.Summary{Resolution: agent.Resolved,
		Actions:      []agent.Action{{Tool: "scaleDeployment", Status: "executed", Params: map[string]any{"from": 3, "to": 4}}},
		Refusals:     []agent.Refusal{{Tool: "restartPods", Rule: "restart.budget"}},
		Verification: &agent.Verified{Result: "resolved"}}
	tests := []struct {
		name   string
		change func(*agent.Summary)
		differ string // "" when the decisions agree
	}{
		{"the same", func(*agent.Summary) {}, ""},
		{"another refusal rule is the same decision", func(s *agent.Summary) { s.Refusals[0].Rule = "metric_unknown" }, ""},
		{"another target replica count", func(s *agent.Summary) { s.Actions[0].Params["to"] = 5 }, "actions"},
		{"a write refused instead of executed", func(s *agent.Summary) { s.Actions[0].Status = "refused" }, "actions"},
		{"a refusal missing", func(s *agent.Summary) { s.Refusals = nil }, "refused"},
		{"another resolution", func(s *agent.Summary) { s.Resolution = agent.Escalated }, "resolution"},
		{"no verification", func(s *agent.Summary) { s.Verification = nil }, "verification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := base
			other.Actions = []agent.Action{base.Actions[0]}
			other.Actions[0].Params = map[string]any{"from": 3, "to": 4}
			other.Refusals = slices.Clone(base.Refusals)
			tt.change(&other)
			diff := eval.DecisionOf(base).Differences(eval.DecisionOf(other))
			switch {
			case tt.differ == "" && len(diff) != 0:
				t.Errorf("differences %v, want none", diff)
			case tt.differ != "" && (len(diff) != 1 || !strings.HasPrefix(diff[0], tt.differ)):
				t.Errorf("differences %v, want one about %s", diff, tt.differ)
			}
		})
	}
	if got := eval.DecisionOf(base).String(); got != "resolved scaleDeployment:executed:3->4 restartPods:refused verified=resolved" {
		t.Errorf("decision %q", got)
	}
}

// A run recorded on a cluster is replayed on its scenario: the high-CPU
// scale agrees; the same recording filed under a scenario where nothing is
// wrong does not, and says how.
func TestParityReplaysRecordedRunsOnTheirScenarios(t *testing.T) {
	dir := writeRecorded(t, map[string]string{"high-cpu.json": recordedHighCPU, "healthy.jsonl": recordedHighCPU, "notes.txt": "ignored"})
	recs, err := eval.ReadRecorded(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Scenario != "healthy" || recs[1].Scenario != "high-cpu" {
		t.Fatalf("recorded %+v, want healthy and high-cpu", recs)
	}
	if one, err := eval.ReadRecorded(filepath.Join(dir, "high-cpu.json"), ""); err != nil || len(one) != 1 || one[0].Scenario != "high-cpu" {
		t.Errorf("one file: %+v (%v), want its run", one, err)
	}
	res, err := runner().Parity(context.Background(), eval.RulesModel(), suite(t), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[1].Scenario != "high-cpu" || !res[1].Same {
		t.Fatalf("high-cpu: %+v, want the same decision", res)
	}
	if res[0].Same || res[0].Simulated.Resolution != "no_action" || len(res[0].Differences) == 0 {
		t.Errorf("healthy: %+v, want a difference: nothing to do there", res[0])
	}
	if !strings.Contains(res[1].Where, "e2e-cpu-1") {
		t.Errorf("recorded on %q, want the cluster and namespace", res[1].Where)
	}
	if n := eval.Diverged(res); n != 1 {
		t.Errorf("diverged %d, want 1", n)
	}
	var text strings.Builder
	if err := eval.WriteParityText(&text, "rules", res); err != nil || !strings.Contains(text.String(), "1 of 2 recorded runs decided the same") ||
		!strings.Contains(text.String(), "healthy: DIFFERENT") {
		t.Errorf("text report (%v):\n%s", err, text.String())
	}
}

func TestRecordedRunsThatCannotBeComparedAreUsageErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  error
		text  string
	}{
		{"an empty directory", map[string]string{}, eval.ErrNoScenario, "no <scenario>.json file"},
		{"no summary line", map[string]string{"high-cpu.json": `{"type":"run_started"}`}, eval.ErrNotRecorded, "record the run with -o json"},
		{"a summary without its alert", map[string]string{"high-cpu.json": `{"type":"summary","resolution":"resolved"}`}, eval.ErrNotRecorded, "names no alert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eval.ReadRecorded(writeRecorded(t, tt.files), "")
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %v, want %v saying %q", err, tt.want, tt.text)
			}
		})
	}
	recs, err := eval.ReadRecorded(writeRecorded(t, map[string]string{"no-such-scenario.json": recordedHighCPU}), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner().Parity(context.Background(), eval.RulesModel(), suite(t), recs); !errors.Is(err, eval.ErrNoScenario) ||
		!strings.Contains(err.Error(), "ops-skill scenarios") {
		t.Errorf("error %v, want an unknown scenario naming how to list them", err)
	}
}
