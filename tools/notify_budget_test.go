package tools_test

import (
	"testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// A planner may message the team a few times in a run, not flood the
// channel: past the budget notify is refused with its rule.
func TestNotifyHasAPerRunBudget(t *testing.T) {
	e := newEnv(t, "high-cpu")
	run := autoRun()
	for i := range tools.MaxNotifyPerRun {
		if o := e.call(run, "notify", `{"message":"update"}`); o.Status != tools.StatusOK {
			t.Fatalf("message %d: %s %s", i+1, o.Status, o.Error)
		}
	}
	o := e.call(run, "notify", `{"message":"one more"}`)
	mustStatus(t, o, tools.StatusRefused)
	if o.Rule != guard.RuleNotifyBudget {
		t.Errorf("rule %q, want %s", o.Rule, guard.RuleNotifyBudget)
	}
	if o := e.call(autoRun(), "notify", `{"message":"a new run"}`); o.Status != tools.StatusOK {
		t.Errorf("a new run's message: %s, want ok", o.Status)
	}
}
