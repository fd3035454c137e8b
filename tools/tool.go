// Package tools holds the typed tool contract of ops-skill, the registry that
// gates every call (decode strictly → validate → scope → guard → mode → execute
// → record), and the tools themselves.
//
// Tools are the only way the planner (an LLM or the rules planner) can touch the
// platform, and every guardrail is enforced here, in code, whatever the caller
// asks. A refusal is a normal Outcome the planner sees, never a crash.
package tools

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
)

// Risk is declared by each tool in code; the model's opinion is never asked.
type Risk int

// Risk levels, from harmless to irreversible.
const (
	// RiskRead only reads.
	RiskRead Risk = iota
	// RiskRecord tells people or writes history (notify, createIncident); allowed in every mode.
	RiskRecord
	// RiskWrite changes the platform reversibly (scale, restart, resources).
	RiskWrite
	// RiskDestructive changes the platform irreversibly (drop partitions).
	RiskDestructive
)

// String names the risk level.
func (r Risk) String() string {
	switch r {
	case RiskRead:
		return "read"
	case RiskRecord:
		return "record"
	case RiskWrite:
		return "write"
	case RiskDestructive:
		return "destructive"
	}
	return "unknown"
}

// ChangesPlatform reports whether the mode (observe/approve/auto) governs the tool.
func (r Risk) ChangesPlatform() bool { return r >= RiskWrite }

// Status is the outcome class of one call.
type Status string

// Call outcome statuses.
const (
	StatusOK       Status = "ok"        // a read or record call succeeded
	StatusExecuted Status = "executed"  // a write was applied
	StatusDryRun   Status = "dry_run"   // observe mode: validated and guarded, not applied
	StatusRefused  Status = "refused"   // a guardrail, the scope, the mode or the operator said no
	StatusInvalid  Status = "invalid"   // the call itself was malformed (unknown tool, bad arguments)
	StatusFailed   Status = "failed"    // the backend failed
	StatusCanceled Status = "cancelled" // the run was cancelled before the call finished
)

// Call is one tool invocation as the planner produced it; Args is untrusted JSON.
type Call struct {
	ID   string          `json:"id"`
	Tool Name            `json:"tool"`
	Args json.RawMessage `json:"args"`
}

// Outcome is what a call did. It is sent back to the planner as JSON and rendered
// in the transcript.
type Outcome struct {
	CallID   string          `json:"-"`
	Tool     Name            `json:"tool"`
	Risk     Risk            `json:"-"`
	Target   string          `json:"target,omitempty"`
	Status   Status          `json:"status"`
	Summary  string          `json:"summary"`
	Rule     string          `json:"rule,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Params   map[string]any  `json:"params,omitempty"`
	Result   any             `json:"result,omitempty"`
	Error    string          `json:"error,omitempty"`
	Decision *guard.Decision `json:"-"`
	Args     json.RawMessage `json:"-"`
	Duration time.Duration   `json:"-"`
	// AuditErrors lists the history writes of this call that failed (its
	// record, its scale event, its guard state): the audit trail is
	// incomplete, and the run must say so.
	AuditErrors []AuditFailure `json:"-"`

	intent int64 // the history row recorded before the write ran; its result completes it
}

// AuditFailure is one history write of a call that failed.
type AuditFailure struct {
	What string `json:"what"` // e.g. "record scaleDeployment ai-data-labs/backend"
	Err  string `json:"error"`
}

// String is the failure in one line.
func (f AuditFailure) String() string { return f.What + ": " + f.Err }

// Wrote reports whether the call changed the platform.
func (o Outcome) Wrote() bool { return o.Status == StatusExecuted && o.Risk.ChangesPlatform() }

// Spec is the description of a tool given to planners.
type Spec struct {
	Name        Name            `json:"name"`
	Description string          `json:"description"`
	Risk        string          `json:"risk"`
	Parameters  json.RawMessage `json:"parameters"`
	// Required lists the fields a call must give: the decoder rejects a call
	// without any of them, naming each. Parameters leaves them out to keep
	// the prompt small (schemaOf); planners send only name, description and
	// parameters.
	Required []string `json:"required,omitempty"`
}

// Plan is what a write tool intends to do once the guard has decided. The
// registry applies the mode to it: observe applies it as a dry run, approve asks
// the operator, auto applies it.
type Plan struct {
	Target   string
	Decision guard.Decision
	Summary  string         // e.g. "scale ai-data-labs/backend from 3 to 4 replicas"
	Params   map[string]any // what will change, e.g. {"from": 3, "to": 4}
	// Partitions lists the IDs of the partitions a drop removes, oldest first
	// (dropPartitions), so that an approval shows each one, not a count.
	Partitions []string
	// Apply performs the change (or a server-side dry run) and returns the typed result.
	Apply func(ctx context.Context, dryRun bool) (any, error)
	// Next is the change the write makes to its workload's guard state,
	// decided once, when the write is planned: the state annotation written
	// with the change is Next of the state the guard judged, and Applied
	// stores Next of the stored state. nil: the write keeps no guard state.
	Next StateChange
	// Applied keeps the trail of a change once it is applied, never after a
	// dry run: it stores Next, records the scale event, emits the Kubernetes
	// event. Its failure is an audit failure; the change stands. nil: nothing to keep.
	Applied func(ctx context.Context, result any) error
	// DryRunOnly is set when the caller asked only to see what would happen.
	DryRunOnly bool
}

// StateChange is the change a write makes to a workload's guard state. It is
// a function, not a state, so that it is applied to the stored state inside
// the store's atomic update: what another call stored meanwhile is kept.
type StateChange func(guard.WorkloadState) guard.WorkloadState

// Approver asks an operator to confirm a write (approve mode).
type Approver interface {
	// Interactive reports whether a person can answer.
	Interactive() bool
	Approve(ctx context.Context, p Plan) (bool, error)
}

// Validator is implemented by every args struct.
type Validator interface {
	Validate() error
}

// Tool is one typed tool as the gate sees it: what it is, its risk (declared
// in code, never taken from a model), and how a call's untrusted arguments
// become a request it can run. Each tool is a value built with exactly the
// backends it uses (NewScaleDeployment, NewGetLogs, …); one built without a
// backend it needs still exists, and its calls fail with a NotConfiguredError.
type Tool interface {
	Spec() Spec
	Risk() Risk
	// Decode decodes a call's arguments strictly and validates them; its
	// errors wrap ErrInvalidArgs. The request is a ReadRequest for RiskRead
	// and RiskRecord, a WriteRequest for RiskWrite and RiskDestructive.
	Decode(raw json.RawMessage) (Request, error)
}

// Request is one call a tool has decoded: typed, validated arguments bound to
// their tool.
type Request interface {
	// Target names what the call acts on ("ai-data-labs/backend", "analytics.events", "team").
	Target() string
	// Namespace is the namespace the scope must allow; ok is false when the
	// call names none to check (raw PromQL without one, which a Confiner
	// confines instead; storage; notifications).
	Namespace() (ns string, ok bool)
}

// Confiner is implemented by a request the scope confines rather than only
// checks (raw PromQL, which reads every namespace its selectors reach):
// Confine returns the request confined to s, or a *guard.Violation when it
// asks for more than s allows, or an error wrapping ErrInvalidArgs.
type Confiner interface {
	Confine(s guard.Scope) (Request, error)
}

// ReadRequest runs as soon as the gate admits it: a read, or a record
// (notify, createIncident).
type ReadRequest interface {
	Request
	Read(ctx context.Context, run *Run) (Answer, error)
}

// Previewer is implemented by the request of a record: what it would do, for
// its dry run in observe mode, where a record tells nobody and opens nothing.
type Previewer interface {
	Preview() string
}

// WriteRequest plans a change to the platform; the gate applies the plan by mode.
type WriteRequest interface {
	Request
	Plan(ctx context.Context, run *Run) (Plan, error)
}

// Answer is what a read or a record returned: the typed result sent to the
// planner, and one line for the transcript.
type Answer struct {
	Result  any
	Summary string
}

// AuditError is returned by a read or a record that did its work but could
// not record all of it in the history: the call succeeded, its trail is
// incomplete, and the outcome says so.
type AuditError struct {
	What string // e.g. "add the summary to incident INC-2026-11-20-001"
	Err  error
}

func (e *AuditError) Error() string { return e.What + ": " + e.Err.Error() }
func (e *AuditError) Unwrap() error { return e.Err }

// ErrNotConfigured is matched (errors.Is) by the failure of a tool built
// without a backend it needs.
var ErrNotConfigured = errors.New("not configured")

// NotConfiguredError says which backend a tool lacks and how to configure it.
type NotConfiguredError struct {
	Backend string // e.g. "kubernetes"
	How     string // e.g. "set KUBECONFIG or use --simulate"
}

func (e *NotConfiguredError) Error() string { return e.Backend + " is not configured: " + e.How }

// Is makes every NotConfiguredError match ErrNotConfigured.
func (e *NotConfiguredError) Is(target error) bool { return target == ErrNotConfigured }

// Condenser is a result that has a shorter form for a model's budget (a
// workload's first pods, not all fifty). The LLM planner sends the condensed
// form; the agent, the rules planner and the history keep the whole result.
type Condenser interface {
	Condensed() any
}
