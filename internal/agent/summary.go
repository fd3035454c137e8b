package agent

import (
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// Resolution is how a run ended.
type Resolution string

// Resolutions, with their exit codes in the CLI: resolved and no_action 0,
// failed 1, unresolved and escalated 3, cancelled 130. A run whose audit
// trail is incomplete (a history write failed) is failed, whatever it did,
// unless it was cancelled.
const (
	Resolved   Resolution = "resolved"
	Unresolved Resolution = "unresolved"
	Escalated  Resolution = "escalated"
	NoAction   Resolution = "no_action"
	Failed     Resolution = "failed"
	// Cancelled: the run's context was cancelled (Ctrl-C, SIGTERM, q in the
	// view). What was done until then is in Actions; nothing was verified
	// after it.
	Cancelled Resolution = "cancelled"
)

// Action is one executed (or, in observe mode, dry-run) write.
type Action struct {
	Tool   tools.Name     `json:"tool"`
	Target string         `json:"target"`
	Params map[string]any `json:"params,omitempty"`
	Result string         `json:"result"`
	Status string         `json:"status"`
	Rule   string         `json:"rule,omitempty"`
	// Recycled names the pods a template change of a StatefulSet deleted
	// because they were not ready on the old revision (they block its roll).
	Recycled []string `json:"recycledPods,omitempty"`
}

// Refusal is one call the guard, scope, mode or operator refused.
type Refusal struct {
	Tool   tools.Name `json:"tool"`
	Target string     `json:"target"`
	Rule   string     `json:"rule"`
	Reason string     `json:"reason"`
}

// Summary closes a run.
type Summary struct {
	At               time.Time      `json:"at"`
	Alert            string         `json:"alert"`
	Target           string         `json:"target,omitempty"`
	Resolution       Resolution     `json:"resolution"`
	Headline         string         `json:"headline"`
	Planner          string         `json:"planner"`
	PlannerNote      string         `json:"plannerNote,omitempty"`
	Mode             guard.Mode     `json:"mode"`
	Platform         platform.Where `json:"platform"`
	Actions          []Action       `json:"actions"`
	Refusals         []Refusal      `json:"refusals"`
	Verification     *Verified      `json:"verification,omitempty"`
	Incident         string         `json:"incident,omitempty"`
	Escalated        bool           `json:"escalated,omitempty"`
	TimeToResolution units.Seconds  `json:"timeToResolutionSeconds,omitempty"`
	Explanation      string         `json:"explanation,omitempty"`
	LLMCalls         int            `json:"llmCalls"`
	TokensIn         int            `json:"tokensIn"`
	TokensOut        int            `json:"tokensOut"`
	ToolCalls        int            `json:"toolCalls"`
	// Redacted counts the credentials taken out of what was sent to a model.
	Redacted int    `json:"redactedToModel,omitempty"`
	Error    string `json:"error,omitempty"`
	AlertID  int64  `json:"alertId,omitempty"`
	// AuditErrors lists the history writes that failed (one HistoryFailed
	// event each): the audit trail is incomplete, and the run is failed.
	AuditErrors []string `json:"auditErrors,omitempty"`
}

func actionOf(o tools.Outcome) Action {
	a := Action{Tool: o.Tool, Target: o.Target, Params: o.Params, Result: o.Summary, Status: string(o.Status), Rule: o.Rule}
	switch r := o.Result.(type) {
	case tools.ResourcesResult:
		a.Recycled = r.Recycled
	case tools.RestartResult:
		a.Recycled = r.Recycled
	}
	return a
}

func refusalOf(o tools.Outcome) Refusal {
	return Refusal{Tool: o.Tool, Target: o.Target, Rule: o.Rule, Reason: o.Reason}
}
