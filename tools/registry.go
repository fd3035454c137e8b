package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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
	// Decision is the guard's decision of a write, with its basis when the
	// decision is replayable; nil for reads.
	Decision *guard.Decision
}

// CallRecorder keeps the history of calls: the gate's audit trail.
// Arguments never carry secrets: tools take none.
type CallRecorder interface {
	// RecordIntent durably records a write before it runs and returns the
	// row's ID; when it fails the gate refuses the write (audit.unrecorded).
	RecordIntent(ctx context.Context, rec CallRecord) (int64, error)
	// RecordCall records a call's outcome: a new row, or the completion of
	// the intent row rec.Intent.
	RecordCall(ctx context.Context, rec CallRecord) error
}

// ScaleRecorder keeps the history of replica changes (scaleDeployment).
type ScaleRecorder interface {
	RecordScale(ctx context.Context, alertID int64, ref platform.WorkloadRef, from, to int32, rule, reason string) error
}

// Recorder is the whole history a registry of every tool records in: the
// gate's calls and the scale events.
type Recorder interface {
	CallRecorder
	ScaleRecorder
}

// Policy is what the gate enforces: the one guardrail policy (guard.Policy).
type Policy = guard.Policy

// Gate is what the registry needs of its own: the policy whose scope it
// checks (and which Policy reports), and the recorder and clock of its audit
// trail. The backends belong to the tools.
type Gate struct {
	Policy   Policy
	Recorder CallRecorder       // nil: no history configured, nothing is recorded
	Clock    clock.PassiveClock // nil: the real clock
}

// Registry holds the tools and gates every call: decode → scope → guard →
// mode → execute → record. It never reaches into a backend: each tool owns
// its own.
type Registry struct {
	policy Policy
	rec    CallRecorder
	clock  clock.PassiveClock
	tools  []Tool
	by     map[Name]Tool
}

// ErrDuplicateTool marks two tools of one name given to New.
var ErrDuplicateTool = errors.New("duplicate tool")

// New builds a registry that gates calls to the given tools, listed in that order.
func New(g Gate, ts ...Tool) (*Registry, error) {
	seen := map[Name]bool{}
	for _, t := range ts {
		n := t.Spec().Name
		if seen[n] {
			return nil, fmt.Errorf("%w %q", ErrDuplicateTool, n)
		}
		seen[n] = true
	}
	return newRegistry(g, ts), nil
}

func newRegistry(g Gate, ts []Tool) *Registry {
	r := &Registry{policy: g.Policy, rec: g.Recorder, clock: g.Clock, by: map[Name]Tool{}}
	if r.rec == nil {
		r.rec = unrecorded{}
	}
	if r.clock == nil {
		r.clock = clock.RealClock{}
	}
	for _, t := range ts {
		r.tools = append(r.tools, t)
		r.by[t.Spec().Name] = t
	}
	return r
}

// unrecorded is the CallRecorder of a registry without history: nothing is
// promised, nothing recorded.
type unrecorded struct{}

func (unrecorded) RecordIntent(context.Context, CallRecord) (int64, error) { return 0, nil }
func (unrecorded) RecordCall(context.Context, CallRecord) error            { return nil }

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
func (r *Registry) Policy() Policy { return r.policy }

// record writes a call's outcome to the history (completing its intent row,
// if any).
func (r *Registry) record(ctx context.Context, run *Run, o Outcome) error {
	res, err := json.Marshal(o.Result)
	if err != nil {
		res, _ = json.Marshal("unrecordable result: " + err.Error()) // a string always marshals
	}
	rec := CallRecord{
		AlertID: run.AlertID, At: r.clock.Now(), Tool: string(o.Tool), Target: o.Target, Args: string(o.Args),
		Status: o.Status, Rule: o.Rule, Reason: firstNonEmpty(o.Reason, o.Error, decisionReason(o)), Result: string(res),
		Write: o.Risk.ChangesPlatform(), Intent: o.intent, Decision: o.Decision,
	}
	// Recording must not be lost to a cancelled run: use a context that outlives it briefly.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return r.rec.RecordCall(rctx, rec)
}

// recordIntent records a write before it runs; 0 without history.
func (r *Registry) recordIntent(ctx context.Context, run *Run, name string, o Outcome) (int64, error) {
	rec := CallRecord{AlertID: run.AlertID, At: r.clock.Now(), Tool: name, Target: o.Target, Args: string(o.Args),
		Status: StatusExecuted, Rule: o.Rule, Reason: o.Reason, Write: true}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return r.rec.RecordIntent(rctx, rec)
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
