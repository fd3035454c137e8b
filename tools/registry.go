package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
)

// ErrUnknownTool marks a call to a tool that does not exist.
var ErrUnknownTool = errors.New("unknown tool")

// CallRecord is what the registry records of every call, whatever its outcome.
type CallRecord struct {
	AlertID int64
	At      time.Time
	Tool    string
	Target  string
	Args    string
	Status  Status
	Rule    string
	Reason  string
	Result  string
	Write   bool
	// Intent is the ID RecordIntent returned for this call: the record
	// completes that row. 0: the call had no intent row (reads, records,
	// refusals and dry runs), and the record is a new row.
	Intent int64
}

// Recorder keeps the history of calls. Arguments never carry secrets: tools
// take none.
type Recorder interface {
	// RecordIntent durably records a write before it runs and returns the
	// row's ID; when it fails the gate refuses the write (audit.unrecorded).
	RecordIntent(ctx context.Context, rec CallRecord) (int64, error)
	// RecordCall records a call's outcome: a new row, or the completion of
	// the intent row rec.Intent.
	RecordCall(ctx context.Context, rec CallRecord) error
	RecordScale(ctx context.Context, alertID int64, ref platform.WorkloadRef, from, to int32, rule, reason string) error
}

// IncidentStore opens incidents (createIncident).
type IncidentStore interface {
	OpenIncident(ctx context.Context, title, service, severity string, alertID int64) (string, error)
	AddTimeline(ctx context.Context, id, kind, text string) error
}

// StateStore keeps the guard's per-workload state between runs and processes.
// Update runs fn on the current state and saves the result atomically.
type StateStore interface {
	Load(ctx context.Context, ref platform.WorkloadRef) (guard.WorkloadState, error)
	Update(ctx context.Context, ref platform.WorkloadRef, fn func(*guard.WorkloadState) error) error
}

// Policy is what the gate enforces: the one guardrail policy (guard.Policy).
type Policy = guard.Policy

// Deps are the registry's dependencies; nil backends make their tools fail
// with a clear "not configured" error.
type Deps struct {
	Cluster   platform.Cluster
	Metrics   platform.Metrics
	Storage   platform.Storage
	Health    platform.Health
	Notifier  platform.Notifier
	Incidents IncidentStore
	State     StateStore
	Recorder  Recorder
	History   HistoryReader
	Clock     clock.PassiveClock
	Policy    Policy
	// DryRunReads makes nothing different today; reserved for backends that bill per read.
}

// Registry holds the tools and gates every call.
type Registry struct {
	deps  Deps
	tools []Tool
	by    map[Name]Tool
}

// NewRegistry builds the registry with every tool of ops-skill.
func NewRegistry(d Deps) *Registry {
	r := &Registry{deps: d, by: map[Name]Tool{}}
	for _, t := range []Tool{
		queryMetricsTool(), getServiceStatusTool(), getLogsTool(), checkStorageTool(), checkHealthTool(), queryHistoryTool(),
		scaleDeploymentTool(), restartPodsTool(), updateResourcesTool(), dropPartitionsTool(),
		notifyTool(), createIncidentTool(),
	} {
		r.tools = append(r.tools, t)
		r.by[t.Spec().Name] = t
	}
	return r
}

// Specs lists the tools in a stable order.
func (r *Registry) Specs() []Spec {
	out := make([]Spec, 0, len(r.tools))
	for _, t := range r.tools {
		out = append(out, t.Spec())
	}
	return out
}

// Names lists the tool names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.tools))
	for _, t := range r.tools {
		names = append(names, string(t.Spec().Name))
	}
	sort.Strings(names)
	return names
}

// Lookup returns a tool by name.
func (r *Registry) Lookup(name Name) (Tool, bool) {
	t, ok := r.by[name]
	return t, ok
}

// Policy returns the guardrails in force.
func (r *Registry) Policy() Policy { return r.deps.Policy }

// Invoke runs one call through the gate and records it. It never panics on bad
// input and never returns an error: everything is in the Outcome.
func (r *Registry) Invoke(ctx context.Context, run *Run, c Call) Outcome {
	start := r.now()
	t, ok := r.by[c.Tool]
	var out Outcome
	if !ok {
		out = Outcome{Status: StatusInvalid, Error: fmt.Sprintf("%v %q (available: %s)", ErrUnknownTool, c.Tool, strings.Join(r.Names(), ", "))}
		out.Summary = "unknown tool " + string(c.Tool)
	} else {
		out = t.invoke(ctx, r, run, c.Args)
		out.Risk = t.Risk()
	}
	if ctx.Err() != nil && out.Status == StatusFailed {
		out.Status = StatusCanceled
	}
	out.CallID, out.Tool, out.Args = c.ID, c.Tool, c.Args
	out.Duration = r.now().Sub(start)
	if err := r.record(ctx, run, out); err != nil {
		out.AuditErrors = append(out.AuditErrors, AuditFailure{What: strings.TrimSpace("record " + string(out.Tool) + " " + out.Target), Err: err.Error()})
	}
	return out
}

func (r *Registry) now() time.Time {
	if r.deps.Clock == nil {
		return time.Now()
	}
	return r.deps.Clock.Now()
}

// record writes a call's outcome to the history (completing its intent row,
// if any). Without a Recorder (no history configured) nothing is promised.
func (r *Registry) record(ctx context.Context, run *Run, o Outcome) error {
	if r.deps.Recorder == nil {
		return nil
	}
	res, err := json.Marshal(o.Result)
	if err != nil {
		res, _ = json.Marshal("unrecordable result: " + err.Error()) // a string always marshals
	}
	rec := CallRecord{
		AlertID: run.AlertID, At: r.now(), Tool: string(o.Tool), Target: o.Target, Args: string(o.Args),
		Status: o.Status, Rule: o.Rule, Reason: firstNonEmpty(o.Reason, o.Error, decisionReason(o)), Result: string(res),
		Write: o.Risk.ChangesPlatform(), Intent: o.intent,
	}
	// Recording must not be lost to a cancelled run: use a context that outlives it briefly.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return r.deps.Recorder.RecordCall(rctx, rec)
}

// recordIntent records a write before it runs. Without a Recorder (no
// history configured) nothing is promised and it returns 0.
func (r *Registry) recordIntent(ctx context.Context, run *Run, name string, o Outcome) (int64, error) {
	if r.deps.Recorder == nil {
		return 0, nil
	}
	rec := CallRecord{AlertID: run.AlertID, At: r.now(), Tool: name, Target: o.Target, Args: string(o.Args),
		Status: StatusExecuted, Rule: o.Rule, Reason: o.Reason, Write: true}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return r.deps.Recorder.RecordIntent(rctx, rec)
}

// Run is the per-run state the gate keeps: the mode, the approver, the write
// budget and the writes already done, so the same write twice is refused.
type Run struct {
	AlertID  int64
	Mode     guard.Mode
	Approver Approver
	Budget   guard.RunBudget

	mu      sync.Mutex
	writes  int
	pending map[string]bool // writes between reserve and commit/release
	done    map[string]bool
}

// NewRun prepares the gate's state for one agent run.
func NewRun(alertID int64, mode guard.Mode, approver Approver, maxWrites int) *Run {
	return &Run{AlertID: alertID, Mode: mode, Approver: approver, Budget: guard.RunBudget{MaxWrites: maxWrites}, done: map[string]bool{}}
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

// decisionReason is the guard's reason for an outcome, for history.
func decisionReason(o Outcome) string {
	if o.Decision == nil {
		return ""
	}
	return o.Decision.Reason
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
