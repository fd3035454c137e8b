package agent

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// Phase is a step of the incident transcript, as in the spec's examples.
type Phase string

// The phases of a run, in order.
const (
	PhaseCheck  Phase = "check_state"
	PhaseAnalys Phase = "analyse_cause"
	PhaseAction Phase = "action"
	PhaseVerify Phase = "verification"
	PhaseNotify Phase = "notification"
)

// Phases lists the phases in transcript order.
var Phases = []Phase{PhaseCheck, PhaseAnalys, PhaseAction, PhaseVerify, PhaseNotify}

// Event is something that happened during a run. Renderers switch on the concrete type.
type Event interface {
	Kind() string
}

// Sink consumes events. Emit must not block for long: renderers buffer.
type Sink interface {
	Emit(Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

// Emit calls f.
func (f SinkFunc) Emit(e Event) { f(e) }

// Sinks fans events out to several sinks.
type Sinks []Sink

// Emit sends e to every sink.
func (s Sinks) Emit(e Event) {
	for _, x := range s {
		x.Emit(e)
	}
}

// RunStarted opens a run.
type RunStarted struct {
	At      time.Time   `json:"at"`
	Alert   alert.Alert `json:"alert"`
	Planner string      `json:"planner"`
	Mode    guard.Mode  `json:"mode"`
	Env     string      `json:"env"`
	// Where names the platform the run acts on.
	Where platform.Where `json:"platform"`
}

// PhaseStarted marks the start of a phase.
type PhaseStarted struct {
	At    time.Time `json:"at"`
	Phase Phase     `json:"phase"`
}

// SubjectResolved says what the object an alert names belongs to on the platform:
// pod/shop/clickhouse-0 → statefulset/shop/clickhouse. Error says why it
// could not be resolved; the run then goes on with what the alert said.
type SubjectResolved struct {
	At         time.Time           `json:"at"`
	Resolution platform.Resolution `json:"resolution"`
	Error      string              `json:"error,omitempty"`
}

// PlannerSwitched says the run moved to another planner, and why.
type PlannerSwitched struct {
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// Reported is what the planner found and decided at a turn: its reasoning
// beside the calls it asks for, or, when Final, its answer.
type Reported struct {
	At     time.Time   `json:"at"`
	Phase  Phase       `json:"phase"`
	Report plan.Report `json:"report"`
	Final  bool        `json:"final,omitempty"`
}

// ToolCalled is a call about to run.
type ToolCalled struct {
	At    time.Time       `json:"at"`
	Phase Phase           `json:"phase"`
	ID    string          `json:"id"`
	Tool  tools.Name      `json:"tool"`
	Args  json.RawMessage `json:"args"`
	By    string          `json:"by"` // planner name, or "code"
}

// ToolDone is the outcome of a call, with the guard's decision.
type ToolDone struct {
	At      time.Time     `json:"at"`
	Phase   Phase         `json:"phase"`
	ID      string        `json:"id"`
	Outcome tools.Outcome `json:"outcome"`
	Verdict string        `json:"verdict,omitempty"` // allow, clamp, refuse (guard)
	From    int64         `json:"from,omitempty"`
	To      int64         `json:"to,omitempty"`
}

// WaitEvidence is what a run waits for after a write before verifying it.
type WaitEvidence string

// The evidence a wait can be for (see settle.go).
const (
	// WaitSettleTime: nothing to watch, the settle maximum is waited.
	WaitSettleTime WaitEvidence = "settle_time"
	// WaitRollout: the written workloads' rollouts.
	WaitRollout WaitEvidence = "rollout"
	// WaitRolloutAndSamples: the rollouts, then fresh samples of the signal.
	WaitRolloutAndSamples WaitEvidence = "rollout_and_samples"
	// WaitSpaceReleased: the disks' used space to fall by what a partition
	// drop freed.
	WaitSpaceReleased WaitEvidence = "space_released"
)

// Waiting says the run waits before verifying a write: for the evidence
// that the write took effect, at most until Until — on the wall clock on a
// real platform, on the virtual clock on the simulated one (Virtual: it
// passes at once).
type Waiting struct {
	At    time.Time     `json:"at"`
	Until time.Time     `json:"until"`
	For   units.Seconds `json:"forSeconds"` // the settle maximum
	// Reason is what settles, e.g. "the scale of ai-data-labs/backend".
	Reason   string       `json:"reason"`
	Evidence WaitEvidence `json:"evidence,omitempty"` // empty: WaitSettleTime
	Signal   string       `json:"signal,omitempty"`   // whose samples, e.g. "CPU"
	Virtual  bool         `json:"virtual,omitempty"`
}

// Doing is what the run waits for, without the time: "waiting for the
// scale of ai-data-labs/backend to roll out and for fresh CPU samples".
func (w Waiting) Doing() string {
	switch w.Evidence {
	case WaitRollout:
		return fmt.Sprintf("waiting for %s to roll out", w.Reason)
	case WaitRolloutAndSamples:
		return fmt.Sprintf("waiting for %s to roll out and for fresh %s samples", w.Reason, w.Signal)
	case WaitSpaceReleased:
		return fmt.Sprintf("waiting for the disks to show the space %s freed", w.Reason)
	}
	return fmt.Sprintf("waiting for %s to settle", w.Reason)
}

// String is the wait in one line, e.g. "waiting for the scale of
// ai-data-labs/backend to roll out and for 4 fresh CPU samples, verifying by
// 10:02:00 at the latest" (the clock's zone).
func (w Waiting) String() string {
	by := w.Until.Format(time.TimeOnly)
	if w.Evidence != "" && w.Evidence != WaitSettleTime {
		return fmt.Sprintf("%s, verifying by %s at the latest", w.Doing(), by)
	}
	return fmt.Sprintf("%s, verifying at %s", w.Doing(), by)
}

// Verified reports the re-check after the settle time.
type Verified struct {
	At     time.Time             `json:"at"`
	Signal string                `json:"signal"`
	Before string                `json:"before"`
	After  string                `json:"after"`
	Result platform.VerifyResult `json:"result"` // resolved, unresolved, worse, unknown
	Detail string                `json:"detail"`
	// Waited is how long the run waited after a write; zero when nothing was written.
	Waited units.Seconds `json:"waitedSeconds,omitempty"`
	// Evidence says what it waited for, e.g. "the rollout of
	// ai-data-labs/backend completed after 30s, then 4 fresh CPU samples".
	Evidence string `json:"evidence,omitempty"`
}

// Notified reports a notification sent by code.
type Notified struct {
	At        time.Time `json:"at"`
	Channel   string    `json:"channel"`
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	Delivered bool      `json:"delivered"`
	Error     string    `json:"error,omitempty"`
	Escalated bool      `json:"escalated,omitempty"`
	// Suppressed says why nothing was sent (the notification cooldown).
	Suppressed string `json:"suppressed,omitempty"`
	// Held says why nothing left the machine on purpose: observe mode, a
	// declined approval, a simulated run without --notify.
	Held string `json:"held,omitempty"`
}

// HistoryFailed says a write to the history failed: the audit trail of the
// run is incomplete, and the run ends failed (see Summary.AuditErrors).
type HistoryFailed struct {
	At   time.Time `json:"at"`
	What string    `json:"what"` // e.g. "record scaleDeployment ai-data-labs/backend"
	Err  string    `json:"error"`
}

// String is the failure in one line.
func (h HistoryFailed) String() string { return "history not recorded: " + h.What + ": " + h.Err }

// Kind names each event type in JSON output.
func (RunStarted) Kind() string      { return "run_started" }
func (PhaseStarted) Kind() string    { return "phase" }
func (PlannerSwitched) Kind() string { return "planner_switched" }
func (SubjectResolved) Kind() string { return "subject_resolved" }
func (Reported) Kind() string        { return "planner_report" }
func (ToolCalled) Kind() string      { return "tool_called" }
func (ToolDone) Kind() string        { return "tool_result" }
func (Waiting) Kind() string         { return "waiting" }
func (Verified) Kind() string        { return "verification" }
func (Notified) Kind() string        { return "notification" }
func (HistoryFailed) Kind() string   { return "history_failed" }
func (Summary) Kind() string         { return "summary" }

// MarshalEvent renders an event as one JSON object with a "type" field.
func MarshalEvent(e Event) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	t, _ := json.Marshal(e.Kind())
	out := append([]byte(`{"type":`), t...)
	if len(body) > 2 {
		out = append(out, ',')
	}
	return append(out, body[1:]...), nil
}
