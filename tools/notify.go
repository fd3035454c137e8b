package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

type notifyArgs struct {
	Message  string `json:"message"`
	Severity string `json:"severity,omitempty" enum:"info,warning,critical"`
	Service  string `json:"service,omitempty"`
}

func (a notifyArgs) Validate() error {
	errs := []error{checkLen("message", a.Message, 3000)}
	if strings.TrimSpace(a.Message) == "" {
		errs = append(errs, errors.New(`field "message" is required`))
	}
	if a.Severity != "" {
		errs = append(errs, checkEnum("severity", a.Severity, "info", "warning", "critical"))
	}
	if a.Service != "" {
		errs = append(errs, checkName("service", a.Service, 253))
	}
	return errors.Join(errs...)
}

func (a notifyArgs) target() string { return "team" }

// NotifyResult says where a message went.
type NotifyResult struct {
	Delivered bool   `json:"delivered"`
	Channel   string `json:"channel"`
}

// notifier sends notify's messages with the backend it uses.
type notifier struct {
	enabled bool
	send    func(ctx context.Context, n platform.Notification) (Answer, error)
}

// NewNotify builds notify: it sends through n when notifications are enabled.
// Without n (no webhook) a message stays in the transcript and history.
func NewNotify(n platform.Notifier, enabled bool) Tool {
	t := notifier{enabled: enabled, send: keepInTranscript}
	if n != nil {
		t.send = webhook(n)
	}
	return reader[notifyArgs]{about: about{Notify, RiskRecord, "Message the team; writes are notified anyway."},
		read:    t.notify,
		preview: func(a notifyArgs) string { return "message the team: " + text.Clip(a.Message, 120) }}
}

func (t notifier) notify(ctx context.Context, run *Run, a notifyArgs) (Answer, error) {
	if !t.enabled {
		return Answer{}, &guard.Violation{Rule: guard.RuleDisabledAlerting, Reason: "notifications are switched off (ALERT_ENABLED=false)"}
	}
	if run != nil {
		if err := run.takeNotify(); err != nil {
			return Answer{}, err
		}
	}
	return t.send(ctx, platform.Notification{Severity: firstNonEmpty(a.Severity, "info"), Title: "ops-skill", Text: a.Message, Service: a.Service})
}

func keepInTranscript(context.Context, platform.Notification) (Answer, error) {
	return Answer{NotifyResult{Channel: "transcript"}, "no webhook configured (ALERT_WEBHOOK): message kept in the transcript and history"}, nil
}

func webhook(n platform.Notifier) func(context.Context, platform.Notification) (Answer, error) {
	return func(ctx context.Context, msg platform.Notification) (Answer, error) {
		if err := n.Notify(ctx, msg); err != nil {
			return Answer{}, fmt.Errorf("notify: %w", err)
		}
		return Answer{NotifyResult{Delivered: true, Channel: "webhook"}, "team notified"}, nil
	}
}

type incidentArgs struct {
	Title    string `json:"title"`
	Service  string `json:"service"`
	Severity string `json:"severity,omitempty" enum:"low,high,critical"`
	Summary  string `json:"summary,omitempty"`
}

func (a incidentArgs) Validate() error {
	errs := []error{checkLen("title", a.Title, 200), checkLen("summary", a.Summary, 3000), checkName("service", a.Service, 253)}
	if strings.TrimSpace(a.Title) == "" {
		errs = append(errs, errors.New(`field "title" is required`))
	}
	if a.Severity != "" {
		errs = append(errs, checkEnum("severity", a.Severity, "low", "high", "critical"))
	}
	return errors.Join(errs...)
}

func (a incidentArgs) target() string { return a.Service }

// IncidentResult names the incident opened, or joined.
type IncidentResult struct {
	ID string `json:"id"`
	// Joined says the subject had an open incident: the call added its alert
	// to that incident's timeline instead of opening another.
	Joined bool `json:"joined,omitempty"`
}

// IncidentRequest is what createIncident asks of the incident store.
type IncidentRequest struct {
	Title    string
	Service  string
	Severity string
	AlertID  int64
	// Subject is the correlation key (Run.Subject): an open incident of the
	// subject is joined, not opened again. Empty: always a new incident.
	Subject string
}

// IncidentStore opens incidents (createIncident). OpenIncident must be
// atomic: of concurrent requests for one subject, one opens the incident
// and the others join it.
type IncidentStore interface {
	OpenIncident(ctx context.Context, req IncidentRequest) (IncidentResult, error)
	AddTimeline(ctx context.Context, id, kind, text string) error
}

// NewCreateIncident builds createIncident: it opens incidents in s. Without s
// its calls fail (not configured).
func NewCreateIncident(s IncidentStore) Tool {
	t := reader[incidentArgs]{about: about{CreateIncident, RiskRecord, "Open an incident for engineers."},
		read:    unavailable[incidentArgs](errNoIncidents),
		preview: func(a incidentArgs) string { return "open an incident: " + text.Clip(a.Title, 120) }}
	if s != nil {
		t.read = incidentOpener{s}.open
	}
	return t
}

// incidentOpener answers createIncident with the backend it uses.
type incidentOpener struct{ store IncidentStore }

func (o incidentOpener) open(ctx context.Context, run *Run, a incidentArgs) (Answer, error) {
	res, err := o.store.OpenIncident(ctx, IncidentRequest{Title: a.Title, Service: a.Service,
		Severity: firstNonEmpty(a.Severity, "high"), AlertID: run.AlertID, Subject: run.Subject})
	if err != nil {
		return Answer{}, fmt.Errorf("open incident: %w", err)
	}
	ans := Answer{res, "opened incident " + res.ID}
	type entry struct{ kind, text string }
	var entries []entry
	if res.Joined {
		ans.Summary = "joined incident " + res.ID
		entries = append(entries, entry{"alert", joinedText(run, a.Title)})
	}
	if a.Summary != "" {
		entries = append(entries, entry{"summary", a.Summary})
	}
	for _, e := range entries {
		if err := o.store.AddTimeline(ctx, res.ID, e.kind, e.text); err != nil {
			// The incident is open: say so, and that its timeline is incomplete.
			return ans, &AuditError{What: "add the " + e.kind + " to incident " + res.ID, Err: err}
		}
	}
	return ans, nil
}

// joinedText is the timeline entry of an alert that joined an open incident.
func joinedText(run *Run, title string) string {
	s := "alert joined: " + title
	if run.AlertID != 0 {
		s += fmt.Sprintf(" (alert #%d)", run.AlertID)
	}
	return s
}

type checkHealthArgs struct {
	Service string `json:"service,omitempty"`
}

func (a checkHealthArgs) Validate() error {
	if a.Service == "" {
		return nil
	}
	return checkName("service", a.Service, 253)
}

// NewCheckHealth builds checkHealth: it runs the checks of h. Without h its
// calls fail (not configured).
func NewCheckHealth(h platform.Health, clk clock.PassiveClock) Tool {
	t := reader[checkHealthArgs]{about: about{CheckHealth, RiskRead, "Run the health checks."},
		read: unavailable[checkHealthArgs](errNoHealth)}
	if h != nil {
		t.read = healthChecker{h, realIfNil(clk)}.check
	}
	return t
}

// healthChecker answers checkHealth with the backend it uses.
type healthChecker struct {
	health platform.Health
	clock  clock.PassiveClock
}

func (hc healthChecker) check(ctx context.Context, _ *Run, a checkHealthArgs) (Answer, error) {
	services := hc.health.Services()
	if a.Service != "" {
		if !contains(services, a.Service) {
			return Answer{}, fmt.Errorf("service %q: %w (checked services: %s)", a.Service, platform.ErrNotFound, strings.Join(services, ", "))
		}
		services = []string{a.Service}
	}
	var out []platform.HealthResult
	failing := 0
	for _, s := range services {
		res, err := hc.health.Check(ctx, s)
		if err != nil {
			res = platform.HealthResult{Service: s, OK: false, Detail: err.Error(), At: hc.clock.Now()}
		}
		if !res.OK {
			failing++
		}
		out = append(out, res)
	}
	return Answer{out, fmt.Sprintf("%d of %d health checks failing", failing, len(out))}, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
