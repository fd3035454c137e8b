package tools

import (
	"context"

	"github.com/duet-company/ops-skill/internal/guard"
)

// Preview is a write as the gate would plan it: what an approval asked
// outside the gate (an MCP client's elicitation) names before the call runs.
type Preview struct {
	Tool     Name
	Target   string
	Summary  string // e.g. "scale ai-data-labs/backend from 3 to 4 replicas"
	Decision guard.Decision
	// Partitions lists what a drop would remove, oldest first (dropPartitions).
	Partitions []string
}

// PreviewWrite plans a write call as the gate plans it — strict decoding,
// the namespace scope, the run's budget and duplicate writes, the guard —
// without reserving, asking, applying or recording anything. ok is false
// when the call would not reach the approval step: not a write, invalid, out
// of scope, refused by the budget or the guard, a dry run asked for, or a
// plan that failed. Invoke then decides and records the call as usual; a
// preview never replaces it.
func (r *Registry) PreviewWrite(ctx context.Context, run *Run, c Call) (Preview, bool) {
	t, ok := r.by[c.Tool]
	if !ok || !t.Risk().ChangesPlatform() {
		return Preview{}, false
	}
	req, _, ok := r.admit(t, c)
	if !ok {
		return Preview{}, false
	}
	w, ok := req.(WriteRequest)
	if !ok || !run.wouldReserve(string(c.Tool)+"|"+req.Target()) {
		return Preview{}, false
	}
	p, err := w.Plan(ctx, run)
	if err != nil || !p.Decision.Allowed() || p.DryRunOnly {
		return Preview{}, false
	}
	return Preview{Tool: c.Tool, Target: req.Target(), Summary: p.Summary, Decision: p.Decision, Partitions: p.Partitions}, true
}

// wouldReserve reports whether reserve would admit the write now, without
// holding a slot.
func (run *Run) wouldReserve(key string) bool {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.done[key] || run.pending[key] {
		return false
	}
	return run.Budget.DecideWrite(run.writes + len(run.pending) + 1).Allowed()
}
