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
}

// Recorder keeps the history of calls. Arguments never carry secrets: tools
// take none.
type Recorder interface {
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

// Policy gathers the guardrails the tools enforce.
type Policy struct {
	Scope      guard.Scope
	Scaling    guard.ScalingPolicy
	Healing    guard.HealingPolicy
	Partitions guard.PartitionPolicy
	Alerting   guard.AlertPolicy
	// NotifyEnabled false refuses the notify tool (ALERT_ENABLED=false).
	NotifyEnabled bool
}

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
	Clock     clock.PassiveClock
	Policy    Policy
	// DryRunReads makes nothing different today; reserved for backends that bill per read.
}

// Registry holds the tools and gates every call.
type Registry struct {
	deps  Deps
	tools []Tool
	by    map[string]Tool
}

// NewRegistry builds the registry with every tool of ops-skill.
func NewRegistry(d Deps) *Registry {
	r := &Registry{deps: d, by: map[string]Tool{}}
	for _, t := range []Tool{
		queryMetricsTool(), getServiceStatusTool(), getLogsTool(), checkStorageTool(), checkHealthTool(),
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
		names = append(names, t.Spec().Name)
	}
	sort.Strings(names)
	return names
}

// Lookup returns a tool by name.
func (r *Registry) Lookup(name string) (Tool, bool) {
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
		out.Summary = "unknown tool " + c.Tool
	} else {
		out = t.invoke(ctx, r, run, c.Args)
		out.Risk = t.Risk()
	}
	if ctx.Err() != nil && out.Status == StatusFailed {
		out.Status = StatusCanceled
	}
	out.CallID, out.Tool, out.Args = c.ID, c.Tool, c.Args
	out.Duration = r.now().Sub(start)
	r.record(ctx, run, out)
	return out
}

func (r *Registry) now() time.Time {
	if r.deps.Clock == nil {
		return time.Now()
	}
	return r.deps.Clock.Now()
}

func (r *Registry) record(ctx context.Context, run *Run, o Outcome) {
	if r.deps.Recorder == nil {
		return
	}
	res, _ := json.Marshal(o.Result)
	rec := CallRecord{
		AlertID: run.AlertID, At: r.now(), Tool: o.Tool, Target: o.Target, Args: string(o.Args),
		Status: o.Status, Rule: o.Rule, Reason: firstNonEmpty(o.Reason, o.Error), Result: string(res),
		Write: o.Risk.ChangesPlatform(),
	}
	// Recording must not be lost to a cancelled run: use a context that outlives it briefly.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = r.deps.Recorder.RecordCall(rctx, rec)
}

// Run is the per-run state the gate keeps: the mode, the approver, the write
// budget and the writes already done, so the same write twice is refused.
type Run struct {
	AlertID  int64
	Mode     guard.Mode
	Approver Approver
	Budget   guard.RunBudget

	mu     sync.Mutex
	writes int
	done   map[string]bool
}

// NewRun prepares the gate's state for one agent run.
func NewRun(alertID int64, mode guard.Mode, approver Approver, maxWrites int) *Run {
	return &Run{AlertID: alertID, Mode: mode, Approver: approver, Budget: guard.RunBudget{MaxWrites: maxWrites}, done: map[string]bool{}}
}

// reserve checks the run's write budget and duplicate writes before a write is planned.
func (run *Run) reserve(key string) guard.Decision {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.done[key] {
		return guard.Decision{Verdict: guard.Refuse, Rule: "writes.duplicate",
			Reason: "the same write was already made in this run; verify its effect before changing " + strings.SplitN(key, "|", 2)[1] + " again"}
	}
	return run.Budget.DecideWrite(run.writes + 1)
}

// commit marks a write as done; applied writes count against the budget.
func (run *Run) commit(key string, applied bool) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.done[key] = true
	if applied {
		run.writes++
	}
}

// Writes returns how many writes the run has made or dry-run.
func (run *Run) Writes() int {
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.writes
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
