// Package tune learns from history: over a period it counts, per alert and
// service, how often the alert fired and how often it needed no action (likely
// false positives); finds scale reversals within the scale-down window
// (thrashing) and workloads restarted again and again (self-healing loops);
// counts the guard's cooldown and budget hits; and for each finding gives its
// evidence (incidents, alerts, times) and a suggested change in the keys of
// --update-threshold, or none. It is pure: the caller reads the history.
package tune

import (
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/store"
)

// Problem is the kind of a finding.
type Problem string

// The problems tune looks for (the spec's troubleshooting section).
const (
	FalsePositive Problem = "false_positive"
	Thrashing     Problem = "thrashing"
	SelfHealLoop  Problem = "self_heal_loop"
)

// History is what tune reads: every record of the period, oldest first.
type History struct {
	Alerts []store.AlertRecord
	Scales []store.ScaleEvent
	// Calls are the writes and refusals of the period (store.WritesInPeriod).
	Calls []store.ToolCallRecord
	// Decisions are the guard's recorded decisions (optional): with them,
	// a thrashing suggestion is checked by replaying them under it.
	Decisions []store.DecisionRecord
}

// Options are the period and the thresholds of the analysis.
type Options struct {
	Since, Until time.Time
	Service      string
	// Policy is the policy in force: its cooldowns and windows define the
	// problems, and the suggestions start from its values.
	Policy guard.Policy
	// ThrashWindow is how soon a reversed scale counts as thrashing; zero:
	// twice scale_down.duration (the scale-down window).
	ThrashWindow time.Duration
	// MinEvents is how many occurrences make a finding; zero: 3.
	MinEvents int
}

func (o Options) window() time.Duration {
	if o.ThrashWindow > 0 {
		return o.ThrashWindow
	}
	return 2 * o.Policy.Scaling.Down.Sustain
}

func (o Options) min() int {
	if o.MinEvents > 0 {
		return o.MinEvents
	}
	return 3
}

// Report is the analysis of one period.
type Report struct {
	Since    time.Time     `json:"since"`
	Until    time.Time     `json:"until"`
	Service  string        `json:"service,omitempty"`
	Alerts   []AlertStat   `json:"alerts"`
	Services []ServiceStat `json:"services"`
	Findings []Finding     `json:"findings"`
}

// AlertStat is what became of one alert (kind) of one service.
type AlertStat struct {
	Kind    string `json:"kind"`
	Service string `json:"service"`
	Fired   int    `json:"fired"`
	// NoAction counts the firings that needed no action; SelfCleared those
	// resolved without any write (the signal was back when verified).
	NoAction     int `json:"noAction"`
	SelfCleared  int `json:"selfCleared"`
	Acted        int `json:"acted"`
	CooldownHits int `json:"cooldownHits"` // fired again within alerting.cooldown of an acted firing
}

// ServiceStat counts one workload's writes and the guard's hits on it.
type ServiceStat struct {
	Service            string `json:"service"`
	ScaleUps           int    `json:"scaleUps"`
	ScaleDowns         int    `json:"scaleDowns"`
	Reversals          int    `json:"reversals"`
	Restarts           int    `json:"restarts"`
	Replacements       int    `json:"replacements"`
	MaxRestartsPerHour int    `json:"maxRestartsPerHour"`
	// Ladder is the highest rung of the self-healing ladder a restart
	// decision of the workload reached (restart, replace, escalate; from
	// the recorded failure counts), "" when none was judged; Escalated
	// counts its alerts that ended escalated.
	Ladder    string `json:"ladder,omitempty"`
	Escalated int    `json:"escalated"`
	// Hits counts refusals by rule: cooldowns, stabilisation, budgets.
	Hits map[string]int `json:"hits,omitempty"`
}

// Finding is one problem with its evidence and what to change.
type Finding struct {
	Problem    Problem    `json:"problem"`
	Service    string     `json:"service"`
	Kind       string     `json:"kind,omitempty"` // the alert's, for false positives
	Summary    string     `json:"summary"`
	Evidence   []Evidence `json:"evidence"`
	Suggestion Suggestion `json:"suggestion"`
}

// Evidence is one record that shows the problem.
type Evidence struct {
	At       time.Time `json:"at"`
	Incident string    `json:"incident,omitempty"`
	AlertID  int64     `json:"alertId,omitempty"`
	Detail   string    `json:"detail"`
}

// Suggestion is a change of thresholds (key=value in the keys of
// --update-threshold), or none with a note saying what else to do.
type Suggestion struct {
	Updates []string `json:"updates,omitempty"`
	Note    string   `json:"note"`
}

// Command is the suggestion as one ops-skill command line, or "no change".
func (s Suggestion) Command() string {
	if len(s.Updates) == 0 {
		return "no change"
	}
	cmd := "ops-skill"
	for _, u := range s.Updates {
		cmd += " --update-threshold " + u
	}
	return cmd
}

// Analyse builds the report of h.
func Analyse(h History, o Options) Report {
	rep := Report{Since: o.Since, Until: o.Until, Service: o.Service, Alerts: []AlertStat{}, Findings: []Finding{}}
	idx := indexCalls(h.Calls)
	alerts, fps := alertFindings(h.Alerts, idx, o)
	rep.Alerts = append(rep.Alerts, alerts...)
	services := serviceStats(h, alerts, o)
	rep.Findings = append(rep.Findings, fps...)
	rep.Findings = append(rep.Findings, thrashFindings(h.Scales, h.Decisions, incidentsOf(h.Alerts), o)...)
	rep.Findings = append(rep.Findings, loopFindings(h, services, o)...)
	rep.Services = sortedStats(services)
	sortFindings(rep.Findings)
	return rep
}
