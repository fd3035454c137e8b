package store

import (
	"context"
	"errors"
	"fmt"
)

// UnfinishedFilter selects the unfinished alerts of one subject (ListUnfinished):
// a workload, by Namespace and Service, or, when Service is empty, an alert
// fingerprint.
type UnfinishedFilter struct {
	Env         string
	Namespace   string
	Service     string
	Fingerprint string // the subject when Service is empty
	Except      int64  // the asking run's own alert
	Limit       int    // default 50, at most 10000
}

// ListUnfinished returns the alerts of f's subject whose outcome is still
// pending, oldest first: alerts being handled now, or whose run died.
func (s *Store) ListUnfinished(ctx context.Context, f UnfinishedFilter) ([]AlertRecord, error) {
	q := "SELECT " + alertColumns + ` FROM alerts WHERE env = ? AND outcome = ? AND id != ?`
	args := []any{f.Env, OutcomePending, f.Except}
	switch {
	case f.Service != "":
		q, args = q+` AND namespace = ? AND service = ?`, append(args, f.Namespace, f.Service)
	case f.Fingerprint != "":
		q, args = q+` AND service = '' AND fingerprint = ?`, append(args, f.Fingerprint)
	default:
		return nil, fmt.Errorf("list unfinished alerts: %w: no subject", ErrInvalid)
	}
	q += ` ORDER BY received_at, id LIMIT ?`
	out, err := s.queryAlerts(ctx, q, append(args, clampLimit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("list unfinished alerts: %w", err)
	}
	return out, nil
}

// ClaimUnfinished marks the pending alert id interrupted, with errText as its
// error, for the run that resumes it. Of any number of runs, processes or
// replicas claiming one alert, exactly one gets true; false when the alert
// is no longer pending (claimed, or finished by its own run).
func (s *Store) ClaimUnfinished(ctx context.Context, id int64, errText string) (bool, error) {
	err := mustAffect(s.db.ExecContext(ctx, `UPDATE alerts SET outcome = ?, error = ?, finished_at = ?
		WHERE id = ? AND outcome = ?`, OutcomeInterrupted, errText, nanos(s.now()), id, OutcomePending))
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("claim unfinished alert %d: %w", id, err)
	}
	return true, nil
}

// FinishResumed sets the outcome of an alert claimed by ClaimUnfinished, as
// FinishAlert does, but only while it is still interrupted: ErrNotFound
// (wrapped) otherwise.
func (s *Store) FinishResumed(ctx context.Context, id int64, outcome, planner, incidentID, errText string) error {
	if outcome == OutcomePending || !validOutcome(outcome) {
		return fmt.Errorf("finish resumed alert %d: %w: unknown outcome %q", id, ErrInvalid, outcome)
	}
	err := mustAffect(s.db.ExecContext(ctx, `UPDATE alerts
		SET outcome = ?, planner = ?, incident_id = ?, error = ?, finished_at = ? WHERE id = ? AND outcome = ?`,
		outcome, planner, incidentID, errText, nanos(s.now()), id, OutcomeInterrupted))
	if err != nil {
		return fmt.Errorf("finish resumed alert %d: %w", id, err)
	}
	return nil
}
