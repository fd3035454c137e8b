package compose

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// History adapts the SQLite store to what the agent and the tools record and
// read back: alerts, calls (with a write's intent recorded before it runs),
// incidents, scale events and the notification memory.
type History struct {
	s   *store.Store
	env string
	// acrossRuns false skips what earlier runs say (the alert cooldown): the
	// simulated platform is new on every invocation.
	acrossRuns bool
	// scope is where incidents are joined and notifications claimed: empty
	// on a real platform (every process shares it); without acrossRuns, a
	// token of this History, so the runs on one simulated platform correlate
	// with each other and never with another invocation's.
	scope string
}

// NewHistory records into st for the environment env ("simulated" or a
// cluster context). acrossRuns says whether earlier invocations count: true
// on a real platform.
func NewHistory(st *store.Store, env string, acrossRuns bool) History {
	h := History{s: st, env: env, acrossRuns: acrossRuns}
	if !acrossRuns {
		h.scope = newScope()
	}
	return h
}

func (h History) RecordAlert(ctx context.Context, a alert.Alert, env string) (int64, error) {
	return h.s.RecordAlert(ctx, alertRecord(a, env))
}

func alertRecord(a alert.Alert, env string) store.AlertRecord {
	src := string(a.Source)
	if src != store.SourceAlertmanager && src != store.SourceChat && src != store.SourceWebhook {
		src = store.SourceText
	}
	return store.AlertRecord{Source: src, Fingerprint: a.Fingerprint, Service: a.Service, Namespace: a.Namespace,
		Kind: string(a.Kind), Summary: text.Clip(a.Text, 500), Env: env}
}

func (h History) FinishAlert(ctx context.Context, id int64, s agent.Summary) error {
	err := h.s.FinishAlert(ctx, id, string(s.Resolution), s.Planner, s.Incident, s.Error)
	if errors.Is(err, store.ErrTakenOver) {
		return fmt.Errorf("%w: %w", agent.ErrAlertTakenOver, err)
	}
	return err
}

func (h History) LastActed(ctx context.Context, fp, env string) (time.Time, bool, error) {
	if !h.acrossRuns {
		return time.Time{}, false, nil
	}
	rec, ok, err := h.s.LastActedAlert(ctx, fp, env)
	return rec.ReceivedAt, ok, err
}

func (h History) AddTimeline(ctx context.Context, id, kind, text string) error {
	return h.s.AppendTimeline(ctx, id, store.TimelineEntry{Kind: kind, Text: text})
}

func (h History) SetIncidentStatus(ctx context.Context, id string, status platform.IncidentStatus) error {
	return h.s.SetIncidentStatus(ctx, id, status)
}

func (h History) RecordIntent(ctx context.Context, c tools.CallRecord) (int64, error) {
	return h.s.RecordIntent(ctx, h.callRecord(c))
}

func (h History) RecordCall(ctx context.Context, c tools.CallRecord) error {
	id := c.Intent
	if id != 0 {
		if err := h.s.CompleteToolCall(ctx, id, h.callRecord(c)); err != nil {
			return err
		}
	} else {
		var err error
		if id, err = h.s.RecordToolCall(ctx, h.callRecord(c)); err != nil {
			return err
		}
	}
	return h.recordDecision(ctx, id, c)
}

func (h History) callRecord(c tools.CallRecord) store.ToolCallRecord {
	return store.ToolCallRecord{AlertID: c.AlertID, At: c.At, Tool: c.Tool, Target: c.Target,
		Args: text.Clip(text.RedactSecrets(c.Args), 4000), Verdict: verdictOf(c.Status), Rule: c.Rule, Reason: text.Clip(text.RedactSecrets(c.Reason), 1000),
		Result: text.Clip(text.RedactSecrets(c.Result), 4000), Write: c.Write, Env: h.env}
}

func verdictOf(s tools.Status) string {
	switch s {
	case tools.StatusOK:
		return store.VerdictAllow
	case tools.StatusExecuted:
		return store.VerdictExecuted
	case tools.StatusDryRun:
		return store.VerdictDryRun
	case tools.StatusRefused:
		return store.VerdictRefuse
	}
	return store.VerdictError
}

func (h History) RecordScale(ctx context.Context, alertID int64, ref platform.WorkloadRef, from, to int32, rule, reason string) error {
	_, err := h.s.RecordScaleEvent(ctx, store.ScaleEvent{Namespace: ref.Namespace, Name: ref.Name, From: from, To: to, Rule: rule, Reason: text.Clip(reason, 500), AlertID: alertID, Env: h.env})
	return err
}

// RecentActions lists past writes (executed, dry-run or refused), newest first.
func (h History) RecentActions(ctx context.Context, target string, since time.Time, limit int) ([]tools.HistoryEntry, error) {
	calls, err := h.s.ListRecentToolCalls(ctx, store.CallFilter{Since: since, Target: target, WritesOnly: true, Limit: limit, Env: h.env})
	if err != nil {
		return nil, err
	}
	out := make([]tools.HistoryEntry, 0, len(calls))
	for _, c := range calls {
		sum := c.Tool + " " + c.Target + " " + c.Args
		if c.Reason != "" {
			sum += ": " + c.Reason
		}
		out = append(out, tools.HistoryEntry{At: c.At, Kind: c.Tool, Target: c.Target, Summary: sum, Status: c.Verdict, Rule: c.Rule})
	}
	return out, nil
}

// RecentAlerts lists past alerts and their outcome, newest first.
func (h History) RecentAlerts(ctx context.Context, service string, since time.Time, limit int) ([]tools.HistoryEntry, error) {
	recs, err := h.s.ListAlerts(ctx, store.AlertFilter{Since: since, Service: service, Limit: limit, Env: h.env})
	if err != nil {
		return nil, err
	}
	out := make([]tools.HistoryEntry, 0, len(recs))
	for _, a := range recs {
		target := ""
		if a.Service != "" {
			target = a.Namespace + "/" + a.Service
		}
		out = append(out, tools.HistoryEntry{At: a.ReceivedAt, Kind: "alert", Target: target, Summary: a.Summary, Status: a.Outcome})
	}
	return out, nil
}
