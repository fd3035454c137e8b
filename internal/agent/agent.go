// Package agent runs the bounded tool-calling loop of ops-skill: it takes an
// alert, gathers a snapshot by code, lets a planner (an LLM or the rules
// planner) call the typed tools through the guarded registry, verifies every
// write by code after the settle time, notifies and escalates by code, and emits
// typed events that renderers consume. It knows nothing about terminals.
package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// Config bounds a run.
type Config struct {
	MaxIterations int           // planner turns; the last one must answer without tools
	TokenBudget   int           // prompt+completion tokens per run; past it the next turn is the final one
	SettleTime    time.Duration // the longest wait after a write before verifying (see settle.go)
	FreshSamples  int           // samples after a rollout that make the evidence; 0: DefaultFreshSamples
	Mode          guard.Mode
	MaxWrites     int
	Env           string // "simulated" or the cluster context
	Where         platform.Where
	// Targets say when a verified signal counts as resolved (from guard.Policy).
	Targets guard.Targets
	// StorageWorkload is the workload whose volume is ClickHouse's: only its
	// disk alerts read the ClickHouse storage.
	StorageWorkload string
	MaxInvalidTurns int // consecutive turns of only invalid calls before falling back
	PlannerTimeout  time.Duration
	// RunTimeout bounds a whole run (agent.run_timeout); 0: none.
	RunTimeout time.Duration
	// Resume says when a pending alert of the subject is a dead run's, which
	// the run holding the subject's turn resumes (Deps.Unfinished).
	Resume       ResumePolicy
	DashboardURL func(service string) string
	// HeldReason says why notifications are not sent although channels may be
	// configured (a simulated run without --notify); empty: send as usual.
	HeldReason string
}

// DefaultConfig returns the bounds used when none are given.
func DefaultConfig() Config {
	return Config{MaxIterations: 6, TokenBudget: 60000, SettleTime: 2 * time.Minute,
		Mode: guard.ModeAuto, MaxWrites: 5, Targets: guard.Targets{CPUPct: 80, ErrorRatePct: 10, LatencyMs: 500, DiskPct: 75},
		MaxInvalidTurns: 2, PlannerTimeout: 90 * time.Second}
}

// Waiter waits for the settle time: the wall clock on a real platform, the
// virtual clock on the simulated one.
type Waiter interface {
	Wait(ctx context.Context, d time.Duration) error
}

// History is what the agent records about alerts and incidents.
type History interface {
	RecordAlert(ctx context.Context, a alert.Alert, env string) (int64, error)
	// FinishAlert records the run's outcome; ErrAlertTakenOver (wrapped)
	// when a resuming run claimed the alert first, whose outcome stands.
	FinishAlert(ctx context.Context, id int64, s Summary) error
	// LastActed returns when an alert with this fingerprint was last acted on.
	LastActed(ctx context.Context, fingerprint, env string) (time.Time, bool, error)
	AddTimeline(ctx context.Context, incident, kind, text string) error
	SetIncidentStatus(ctx context.Context, incident string, status platform.IncidentStatus) error
	// LastNotified returns the last notification about a target.
	LastNotified(ctx context.Context, target, env string) (NotifyRecord, bool, error)
	// ClaimNotify remembers rec as the last notification about a target when
	// allow, given the last one (ok false: none), lets it go out — both in
	// one step, so of runs racing to send the same notification (in this
	// process or another) exactly one claims it. allow must be quick and
	// pure: it runs while the history is locked.
	ClaimNotify(ctx context.Context, target, env string, rec NotifyRecord, allow func(last NotifyRecord, ok bool) bool) (NotifyClaim, error)
	// ReleaseNotify gives back a claim whose notification was not delivered:
	// the last notification is again the one before it, unless a later claim
	// replaced it.
	ReleaseNotify(ctx context.Context, target, env string, c NotifyClaim) error
}

// NotifyClaim is the outcome of ClaimNotify.
type NotifyClaim struct {
	Claimed bool         // rec is now the last notification: send it
	Rec     NotifyRecord // the record claimed (or not)
	Last    NotifyRecord // the last notification before the claim
	HadLast bool         // Last is set
}

// NotifyRecord is what is remembered of the last notification about a target.
type NotifyRecord struct {
	At       time.Time `json:"at"`
	State    string    `json:"state"`
	Incident string    `json:"incident,omitempty"`
	// Observed is when the state told was observed (the verification, else
	// the notification); zero in records of older versions.
	Observed time.Time `json:"observed,omitzero"`
}

// Deps are the agent's collaborators.
type Deps struct {
	Registry *tools.Registry
	Planner  plan.Planner // the configured planner (LLM or rules)
	Fallback plan.Planner // the rules planner, used when Planner fails; nil for none
	Clock    clock.PassiveClock
	Waiter   Waiter
	Rollouts platform.Rollouts   // reads the rollouts of written workloads; nil: the settle maximum is waited
	Fresh    platform.Freshness  // counts the signal's samples after a rollout; nil: the rollout is the evidence
	Disks    platform.DiskReader // reads the disks after a partition drop; nil: the settle maximum is waited
	Notifier platform.Notifier   // nil: notifications stay in the transcript
	History  History
	Approver tools.Approver
	Resolver platform.Resolver // resolves an alert's object to its workload; nil: none
	Subjects Turns             // makes the runs of one subject take turns; nil: none
	// Unfinished finds the runs of a subject that a dead process left
	// unfinished, for the next run to resume (Config.Resume); nil: none.
	Unfinished UnfinishedRuns
	Sink       Sink
	Alerting   guard.AlertPolicy
}

// Turns makes the runs of one subject take turns (in this process and
// across processes sharing a history), so that concurrent alerts about one
// workload do not act on the same symptom at once: the run that waits sees
// the change, the incident and the notification of the one before it.
type Turns interface {
	Lock(ctx context.Context, subject string) (release func(), err error)
}

// Agent handles alerts.
type Agent struct {
	cfg Config
	d   Deps
}

// New builds an agent.
func New(cfg Config, d Deps) *Agent {
	if d.Sink == nil {
		d.Sink = SinkFunc(func(Event) {})
	}
	return &Agent{cfg: cfg, d: d}
}

// NothingToDo closes input that needs no run, such as an Alertmanager payload
// whose alerts are all resolved: it emits and returns the summary a run would
// end with (no_action, no actions), so JSON output still ends with one.
// alertID is the input's history record, 0 for none.
func (a *Agent) NothingToDo(text, reason string, alertID int64) Summary {
	pl := a.d.Planner
	if pl == nil {
		pl = a.d.Fallback
	}
	s := Summary{Alert: text, Resolution: NoAction, Headline: "Nothing to do: " + reason, Mode: a.cfg.Mode,
		Platform: a.cfg.Where, Actions: []Action{}, Refusals: []Refusal{}, AlertID: alertID}
	if a.d.Clock != nil {
		s.At = a.d.Clock.Now()
	}
	if pl != nil {
		s.Planner = pl.Name()
	}
	a.d.Sink.Emit(s)
	return s
}

// Handle runs one alert to its end and returns the summary (also emitted).
func (a *Agent) Handle(ctx context.Context, al alert.Alert) Summary {
	ctx, cancel := a.deadline(ctx)
	defer cancel()
	if c := al.Classification; c.Action == alert.ActionNoOp {
		return a.NothingToDo(al.Text, c.Alertname+" fires by design (it tells that alerting works): no run, no page", 0)
	}
	r := a.newRun(al, plan.Context{}, nil)
	r.start(ctx)
	r.resolve(ctx)
	release, ok := r.takeTurn(ctx)
	if !ok {
		return r.finish(ctx)
	}
	defer release()
	r.resumeUnfinished(ctx)
	if !r.admit(ctx) {
		return r.finish(ctx)
	}
	r.snapshot(ctx)
	r.plan(ctx)
	r.verify(ctx)
	r.escalateIfNeeded(ctx)
	r.notify(ctx)
	return r.finish(ctx)
}

// ErrAlertTakenOver means a run's alert was claimed, while the run was
// still going, by a run that resumed it as a dead run's (past
// agent.run_timeout with PostgreSQL): that run verifies, notifies and
// records the outcome, so the late run leaves it.
var ErrAlertTakenOver = errors.New("the alert was resumed by another run")

// ErrRunDeadline is the cause of a run cancelled by its own deadline.
type ErrRunDeadline struct{ After time.Duration }

func (e ErrRunDeadline) Error() string {
	return fmt.Sprintf("the run took longer than its deadline of %s (agent.run_timeout, OPS_SKILL_RUN_TIMEOUT)", units.Duration(e.After))
}

// ErrPlannerDeadline is the cause of a planner call cancelled by its own
// deadline, every attempt and retry included.
type ErrPlannerDeadline struct{ After time.Duration }

func (e ErrPlannerDeadline) Error() string {
	d := e.After.String()
	if e.After >= time.Second {
		d = units.Duration(e.After)
	}
	return fmt.Sprintf("the planner call took longer than %s (llm.timeout, LLM_TIMEOUT)", d)
}

// deadline bounds the run, so a slow model or backend cannot hold it.
func (a *Agent) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.cfg.RunTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, a.cfg.RunTimeout, ErrRunDeadline{After: a.cfg.RunTimeout})
}
