package tools

import (
	"fmt"
	"strings"
	"sync"

	"github.com/duet-company/ops-skill/internal/guard"
)

// Run is the per-run state the gate keeps: the mode, the approver, the write
// budget and the writes already done, so the same write twice is refused.
type Run struct {
	AlertID  int64
	Mode     guard.Mode
	Approver Approver
	Budget   guard.RunBudget
	// Subject is the correlation key of the run's alert, set by code (never
	// by a planner): createIncident joins the subject's open incident.
	// Empty: incidents of the run are never joined.
	Subject string

	mu      sync.Mutex
	notes   int // notify messages the planner sent in this run
	writes  int
	pending map[string]bool // writes between reserve and commit/release
	done    map[string]bool
}

// NewRun prepares the gate's state for one agent run.
func NewRun(alertID int64, mode guard.Mode, approver Approver, maxWrites int) *Run {
	return &Run{AlertID: alertID, Mode: mode, Approver: approver, Budget: guard.RunBudget{MaxWrites: maxWrites}, done: map[string]bool{}}
}

// MaxNotifyPerRun bounds the messages a planner sends with notify in one
// run (code notifies once by itself): a model looping on notify would
// otherwise flood the channel.
const MaxNotifyPerRun = 3

// takeNotify counts one notify message against the run's budget, or
// refuses it.
func (run *Run) takeNotify() error {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.notes >= MaxNotifyPerRun {
		return &guard.Violation{Rule: guard.RuleNotifyBudget, Reason: fmt.Sprintf("%d messages were sent in this run, the most a run may send; the run's own notification follows its end", MaxNotifyPerRun)}
	}
	run.notes++
	return nil
}

// reserve checks the run's write budget and duplicate writes before a write
// is planned, and holds a slot of the budget until commit or release, so
// concurrent calls cannot together exceed the budget or make the same write twice.
func (run *Run) reserve(key string) guard.Decision {
	run.mu.Lock()
	defer run.mu.Unlock()
	what := strings.SplitN(key, "|", 2)[1]
	switch {
	case run.done[key]:
		return guard.Decision{Verdict: guard.Refuse, Rule: guard.RuleWritesDuplicate,
			Reason: "the same write was already made in this run; verify its effect before changing " + what + " again"}
	case run.pending[key]:
		return guard.Decision{Verdict: guard.Refuse, Rule: guard.RuleWritesDuplicate,
			Reason: "the same write to " + what + " is already in progress in this run"}
	}
	d := run.Budget.DecideWrite(run.writes + len(run.pending) + 1)
	if d.Allowed() {
		if run.pending == nil {
			run.pending = map[string]bool{}
		}
		run.pending[key] = true
	}
	return d
}

// commit ends a reserved write: applied writes count against the budget, and
// remembered ones (applied, or dry-run in observe mode) refuse a repeat.
func (run *Run) commit(key string, applied, remember bool) {
	run.mu.Lock()
	defer run.mu.Unlock()
	delete(run.pending, key)
	if remember {
		if run.done == nil {
			run.done = map[string]bool{}
		}
		run.done[key] = true
	}
	if applied {
		run.writes++
	}
}

// release frees the slot of a reserved write that was not committed.
func (run *Run) release(key string) {
	run.mu.Lock()
	defer run.mu.Unlock()
	delete(run.pending, key)
}

// Writes returns how many writes the run has applied.
func (run *Run) Writes() int {
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.writes
}
