package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Alert sources.
const (
	SourceText         = "text"
	SourceAlertmanager = "alertmanager"
	SourceWebhook      = "webhook"
	SourceChat         = "chat"
)

// Alert outcomes. An alert is recorded with OutcomePending and finished with
// one of the others.
const (
	OutcomePending    = ""
	OutcomeResolved   = "resolved"
	OutcomeUnresolved = "unresolved"
	OutcomeEscalated  = "escalated"
	OutcomeNoAction   = "no_action"
	OutcomeFailed     = "failed"
	OutcomeRejected   = "rejected"
	OutcomeCancelled  = "cancelled" // stopped by a signal or the operator
	// OutcomeInterrupted marks the alert of a run whose process died before
	// it finished: a later run claimed it (ClaimUnfinished) to verify and
	// tell what it had done, and finishes it with what it found.
	OutcomeInterrupted = "interrupted"
)

// EnvSimulated is the Env of records made against the simulated platform;
// real runs use the cluster context name.
const EnvSimulated = "simulated"

// AlertRecord is one alert received and what became of it.
type AlertRecord struct {
	ID          int64     `json:"id"`
	ReceivedAt  time.Time `json:"receivedAt"`       // the clock's time when zero at record time
	Source      string    `json:"source,omitempty"` // SourceText, SourceAlertmanager, SourceWebhook or SourceChat
	Fingerprint string    `json:"fingerprint,omitempty"`
	Service     string    `json:"service,omitempty"`
	Namespace   string    `json:"namespace,omitempty"`
	Kind        string    `json:"kind,omitempty"`
	Summary     string    `json:"summary,omitempty"`
	Env         string    `json:"env"`               // EnvSimulated or the cluster context; always in JSON
	Outcome     string    `json:"outcome,omitempty"` // OutcomePending until finished
	Planner     string    `json:"planner,omitempty"`
	IncidentID  string    `json:"incidentId,omitempty"`
	Error       string    `json:"error,omitempty"`
	FinishedAt  time.Time `json:"finishedAt"` // zero until finished
}

// AlertFilter selects alerts for ListAlerts. Zero fields do not filter.
type AlertFilter struct {
	Since   time.Time // received at or after
	Service string    // exact service name
	Limit   int       // default 50, at most 10000
	Env     string    // exact environment
}

const alertColumns = `id, received_at, source, fingerprint, service, namespace, kind, summary,
	env, outcome, planner, incident_id, error, finished_at`

const lastActedQuery = "SELECT " + alertColumns + ` FROM alerts
	WHERE fingerprint = ? AND env = ? AND outcome IN (?, ?, ?)
	ORDER BY received_at DESC, id DESC LIMIT 1`

func validOutcome(o string) bool {
	return oneOf(o, OutcomePending, OutcomeResolved, OutcomeUnresolved, OutcomeEscalated,
		OutcomeNoAction, OutcomeFailed, OutcomeRejected, OutcomeCancelled, OutcomeInterrupted)
}

func (a AlertRecord) validate() error {
	if !oneOf(a.Source, SourceText, SourceAlertmanager, SourceWebhook, SourceChat) {
		return fmt.Errorf("%w: unknown source %q", ErrInvalid, a.Source)
	}
	if !validOutcome(a.Outcome) {
		return fmt.Errorf("%w: unknown outcome %q", ErrInvalid, a.Outcome)
	}
	return nil
}

// RecordAlert writes an alert and returns its ID. A zero ReceivedAt takes the
// clock's time; an alert recorded already finished (Outcome set, e.g. a
// rejected input) gets the clock's time as FinishedAt when that is zero.
func (s *Store) RecordAlert(ctx context.Context, a AlertRecord) (int64, error) {
	if err := a.validate(); err != nil {
		return 0, fmt.Errorf("record alert: %w", err)
	}
	a.ReceivedAt = s.orNow(a.ReceivedAt)
	if a.Outcome != OutcomePending {
		a.FinishedAt = s.orNow(a.FinishedAt)
	}
	id, err := insertID(ctx, s.db, `INSERT INTO alerts (received_at, source, fingerprint, service,
		namespace, kind, summary, env, outcome, planner, incident_id, error, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nanos(a.ReceivedAt), a.Source, a.Fingerprint, a.Service, a.Namespace, a.Kind, a.Summary,
		a.Env, a.Outcome, a.Planner, a.IncidentID, a.Error, nanos(a.FinishedAt))
	return wrapID(id, err, "record alert")
}

// FinishAlert sets the outcome of alert id, the planner that acted, the
// incident opened (if any) and the error text (if any), stamped with the
// clock's time. Only a pending alert is finished: ErrTakenOver (wrapped)
// when a resuming run has claimed it since (its outcome is kept), and
// ErrNotFound (wrapped) for an unknown id.
func (s *Store) FinishAlert(ctx context.Context, id int64, outcome, planner, incidentID, errText string) error {
	if outcome == OutcomePending || !validOutcome(outcome) {
		return fmt.Errorf("finish alert %d: %w: unknown outcome %q", id, ErrInvalid, outcome)
	}
	err := mustAffect(s.db.ExecContext(ctx, `UPDATE alerts
		SET outcome = ?, planner = ?, incident_id = ?, error = ?, finished_at = ? WHERE id = ? AND outcome = ?`,
		outcome, planner, incidentID, errText, nanos(s.now()), id, OutcomePending))
	if errors.Is(err, ErrNotFound) {
		if a, gerr := s.GetAlert(ctx, id); gerr == nil {
			return fmt.Errorf("finish alert %d: %w (it is %s now)", id, ErrTakenOver, a.Outcome)
		}
	}
	if err != nil {
		return fmt.Errorf("finish alert %d: %w", id, err)
	}
	return nil
}

// ListAlerts returns the alerts matching f, newest first.
func (s *Store) ListAlerts(ctx context.Context, f AlertFilter) ([]AlertRecord, error) {
	q, args := listAlertsQuery(f)
	out, err := s.queryAlerts(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// listAlertsQuery builds the query of ListAlerts. Every combination of filters
// is served by an index in received_at order (see TestListQueriesUseIndexes).
func listAlertsQuery(f AlertFilter) (string, []any) {
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where, args = append(where, "received_at >= ?"), append(args, nanos(f.Since))
	}
	if f.Service != "" {
		where, args = append(where, "service = ?"), append(args, f.Service)
	}
	if f.Env != "" {
		where, args = append(where, "env = ?"), append(args, f.Env)
	}
	q := "SELECT " + alertColumns + " FROM alerts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY received_at DESC, id DESC LIMIT ?"
	return q, append(args, clampLimit(f.Limit))
}

// LastActedAlert returns the newest alert with this fingerprint in env (exact
// match, "" included) whose outcome shows it was acted on: resolved,
// unresolved or escalated. The bool is false when there is none.
func (s *Store) LastActedAlert(ctx context.Context, fingerprint, env string) (AlertRecord, bool, error) {
	out, err := s.queryAlerts(ctx, lastActedQuery, fingerprint, env, OutcomeResolved, OutcomeUnresolved, OutcomeEscalated)
	if err != nil {
		return AlertRecord{}, false, fmt.Errorf("last acted alert: %w", err)
	}
	if len(out) == 0 {
		return AlertRecord{}, false, nil
	}
	return out[0], true, nil
}

// GetAlert returns alert id, or ErrNotFound (wrapped).
func (s *Store) GetAlert(ctx context.Context, id int64) (AlertRecord, error) {
	out, err := s.queryAlerts(ctx, "SELECT "+alertColumns+" FROM alerts WHERE id = ?", id)
	if err == nil && len(out) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return AlertRecord{}, fmt.Errorf("get alert %d: %w", id, err)
	}
	return out[0], nil
}

func (s *Store) queryAlerts(ctx context.Context, q string, args ...any) ([]AlertRecord, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AlertRecord
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanAlert(rows *sql.Rows) (AlertRecord, error) {
	var a AlertRecord
	var received, finished int64
	err := rows.Scan(&a.ID, &received, &a.Source, &a.Fingerprint, &a.Service, &a.Namespace, &a.Kind,
		&a.Summary, &a.Env, &a.Outcome, &a.Planner, &a.IncidentID, &a.Error, &finished)
	if err != nil {
		return AlertRecord{}, err
	}
	a.ReceivedAt, a.FinishedAt = fromNanos(received), fromNanos(finished)
	return a, nil
}
