package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

func notifyTool() Tool {
	return directTool[notifyArgs]{
		name: Notify, risk: RiskRecord,
		desc:    "Message the team (writes are notified automatically).",
		preview: func(a notifyArgs) string { return "message the team: " + text.Clip(a.Message, 120) },
		run: func(ctx context.Context, r *Registry, _ *Run, a notifyArgs) (any, string, error) {
			if !r.deps.Policy.NotifyEnabled {
				return nil, "", &guard.Violation{Rule: guard.RuleDisabledAlerting, Reason: "notifications are switched off (ALERT_ENABLED=false)"}
			}
			if r.deps.Notifier == nil {
				return NotifyResult{Channel: "transcript"}, "no webhook configured (ALERT_WEBHOOK): message kept in the transcript and history", nil
			}
			n := platform.Notification{Severity: firstNonEmpty(a.Severity, "info"), Title: "ops-skill", Text: a.Message, Service: a.Service}
			if err := r.deps.Notifier.Notify(ctx, n); err != nil {
				return nil, "", fmt.Errorf("notify: %w", err)
			}
			return NotifyResult{Delivered: true, Channel: "webhook"}, "team notified", nil
		},
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

// IncidentResult names the incident opened.
type IncidentResult struct {
	ID string `json:"id"`
}

func createIncidentTool() Tool {
	return directTool[incidentArgs]{
		name: CreateIncident, risk: RiskRecord,
		desc:    "Open an incident for engineers.",
		preview: func(a incidentArgs) string { return "open an incident: " + text.Clip(a.Title, 120) },
		run: func(ctx context.Context, r *Registry, run *Run, a incidentArgs) (any, string, error) {
			if r.deps.Incidents == nil {
				return nil, "", errNotConfigured("incident store", "history is not open")
			}
			id, err := r.deps.Incidents.OpenIncident(ctx, a.Title, a.Service, firstNonEmpty(a.Severity, "high"), run.AlertID)
			if err != nil {
				return nil, "", fmt.Errorf("open incident: %w", err)
			}
			res := IncidentResult{ID: id}
			if a.Summary != "" {
				if err := r.deps.Incidents.AddTimeline(ctx, id, "summary", a.Summary); err != nil {
					// The incident is open: say so, and that its timeline is incomplete.
					return res, "opened incident " + id, &auditError{what: "add the summary to incident " + id, err: err}
				}
			}
			return res, "opened incident " + id, nil
		},
	}
}

type checkHealthArgs struct {
	Service string `json:"service,omitempty" desc:"default: all"`
}

func (a checkHealthArgs) Validate() error {
	if a.Service == "" {
		return nil
	}
	return checkName("service", a.Service, 253)
}

func checkHealthTool() Tool {
	return directTool[checkHealthArgs]{
		name: CheckHealth, risk: RiskRead,
		desc: "Run the health checks (HTTP /health, TCP).",
		run:  runCheckHealth,
	}
}

func runCheckHealth(ctx context.Context, r *Registry, _ *Run, a checkHealthArgs) (any, string, error) {
	if r.deps.Health == nil {
		return nil, "", errNotConfigured("health checks", "configure the health matrix or use --simulate")
	}
	services := r.deps.Health.Services()
	if a.Service != "" {
		if !contains(services, a.Service) {
			return nil, "", fmt.Errorf("service %q: %w (checked services: %s)", a.Service, platform.ErrNotFound, strings.Join(services, ", "))
		}
		services = []string{a.Service}
	}
	var out []platform.HealthResult
	failing := 0
	for _, s := range services {
		res, err := r.deps.Health.Check(ctx, s)
		if err != nil {
			res = platform.HealthResult{Service: s, OK: false, Detail: err.Error(), At: r.now()}
		}
		if !res.OK {
			failing++
		}
		out = append(out, res)
	}
	return out, fmt.Sprintf("%d of %d health checks failing", failing, len(out)), nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
