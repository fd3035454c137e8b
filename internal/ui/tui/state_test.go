package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/tools"
)

func TestPhaseTimeIsTheTimeSpentInIt(t *testing.T) {
	r := newRun(agent.RunStarted{At: sec(0)}, at)
	for _, e := range []agent.Event{
		agent.PhaseStarted{At: sec(0), Phase: agent.PhaseAnalys},
		agent.ToolCalled{At: sec(10), Phase: agent.PhaseNotify, ID: "1", Tool: "createIncident"}, // a record call while planning
		agent.PhaseStarted{At: sec(12), Phase: agent.PhaseVerify},
		agent.PhaseStarted{At: sec(132), Phase: agent.PhaseNotify},
		agent.Summary{At: sec(135)},
	} {
		r.apply(e, at)
	}
	tests := map[agent.Phase]time.Duration{agent.PhaseAnalys: 10 * time.Second, agent.PhaseNotify: 5 * time.Second, agent.PhaseVerify: 2 * time.Minute}
	for p, want := range tests {
		if got, ok := r.elapsed(p, at.Add(time.Hour)); !ok || got != want {
			t.Errorf("%s: elapsed %v, %v; want %v", p, got, ok, want)
		}
	}
	if _, ok := r.elapsed(agent.PhaseAction, at); ok {
		t.Error("a phase that never ran has an elapsed time")
	}
}

func TestRunningPhaseTicksOnTheViewsClock(t *testing.T) {
	r := newRun(agent.RunStarted{At: sec(0)}, at)
	r.apply(agent.PhaseStarted{At: sec(0), Phase: agent.PhaseVerify}, at)
	r.apply(agent.ToolCalled{At: sec(3), Phase: agent.PhaseVerify, ID: "1", Tool: "queryMetrics"}, at)
	if got, _ := r.elapsed(agent.PhaseVerify, at.Add(40*time.Second)); got != 43*time.Second {
		t.Errorf("elapsed = %v, want 43s (3s reported, 40s waited since)", got)
	}
}

func TestAResultWithoutItsCallIsStillShown(t *testing.T) {
	r := newRun(agent.RunStarted{At: sec(0)}, at)
	r.apply(agent.ToolDone{At: sec(1), Phase: agent.PhaseCheck, ID: "x", Outcome: tools.Outcome{Tool: "getLogs", Status: tools.StatusOK}}, at)
	if len(r.calls) != 1 || !r.calls[0].done || r.calls[0].tool != "getLogs" {
		t.Errorf("calls = %+v", r.calls)
	}
}

func TestAOneShotRequestIsShownAsATurn(t *testing.T) {
	m, _ := newIncident(t)
	feed(m, agent.RunStarted{At: sec(0), Alert: alert.Alert{Source: "chat", Text: "show ClickHouse disk growth"}, Planner: "rules", Mode: "auto"},
		agent.Reported{At: sec(1), Phase: agent.PhaseNotify, Final: true, Report: plan.Report{Text: "Disk at 85%, growing 10GB/day: full in 15 days."}},
		agent.Summary{At: sec(1), Resolution: agent.NoAction, Actions: []agent.Action{}, Refusals: []agent.Refusal{}})
	v := m.View()
	for _, want := range []string{"› show ClickHouse disk growth", "Disk at 85%, growing 10GB/day: full in 15 days."} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "1. Check current state") {
		t.Errorf("a request is shown as an incident:\n%s", v)
	}
}
