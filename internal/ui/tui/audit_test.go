package tui

import (
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
)

func TestAFailedHistoryWriteIsShownUnderItsPhase(t *testing.T) {
	m, _ := newIncident(t)
	feed(m, agent.RunStarted{At: sec(0), Alert: cpuAlert, Planner: "rules", Mode: "auto"},
		agent.PhaseStarted{At: sec(0), Phase: agent.PhaseAction},
		agent.HistoryFailed{At: sec(1), What: "record scaleDeployment ai-data-labs/backend", Err: "database or disk is full"})
	v := strings.Join(strings.Fields(m.View()), " ") // the note wraps at the view's width
	if w := "3. Action 1s History not recorded: record scaleDeployment ai-data-labs/backend: database or disk is full"; !strings.Contains(v, w) {
		t.Errorf("view lacks %q:\n%s", w, v)
	}
}
