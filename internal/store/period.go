package store

import (
	"context"
	"fmt"
	"time"
)

// PeriodFilter selects every record of a period, without a limit, for the
// analyses over history (ops-skill tune). Zero fields do not filter.
type PeriodFilter struct {
	Since   time.Time
	Service string // exact workload name
	Env     string
}

// AlertsInPeriod returns every alert matching f, oldest first.
func (s *Store) AlertsInPeriod(ctx context.Context, f PeriodFilter) ([]AlertRecord, error) {
	q := "SELECT " + alertColumns + " FROM alerts WHERE received_at >= ?"
	args := []any{nanos(f.Since)}
	if f.Service != "" {
		q, args = q+" AND service = ?", append(args, f.Service)
	}
	if f.Env != "" {
		q, args = q+" AND env = ?", append(args, f.Env)
	}
	out, err := s.queryAlerts(ctx, q+" ORDER BY received_at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("alerts in period: %w", err)
	}
	return out, nil
}

// ScaleEventsInPeriod returns every scale event matching f, oldest first.
func (s *Store) ScaleEventsInPeriod(ctx context.Context, f PeriodFilter) ([]ScaleEvent, error) {
	q := `SELECT id, at, namespace, name, from_replicas, to_replicas, reason, rule,
		COALESCE(alert_id, 0), env FROM scale_events WHERE at >= ?`
	args := []any{nanos(f.Since)}
	if f.Service != "" {
		q, args = q+" AND name = ?", append(args, f.Service)
	}
	if f.Env != "" {
		q, args = q+" AND env = ?", append(args, f.Env)
	}
	out, err := s.queryScaleEvents(ctx, q+" ORDER BY at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("scale events in period: %w", err)
	}
	return out, nil
}

// WritesInPeriod returns every write tool call (executed, dry run, refused,
// failed) and every refused call
// matching f, oldest first; Service matches the target's workload.
func (s *Store) WritesInPeriod(ctx context.Context, f PeriodFilter) ([]ToolCallRecord, error) {
	q := `SELECT id, COALESCE(alert_id, 0), at, tool, target, args, verdict, rule, reason, result, is_write, env
		FROM tool_calls WHERE (is_write = 1 OR verdict = 'refuse') AND at >= ?`
	args := []any{nanos(f.Since)}
	if f.Service != "" {
		q, args = q+" AND target LIKE ?", append(args, "%/"+f.Service)
	}
	if f.Env != "" {
		q, args = q+" AND env = ?", append(args, f.Env)
	}
	out, err := s.queryToolCalls(ctx, q+" ORDER BY at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("writes in period: %w", err)
	}
	return out, nil
}

// AlertIDsOfIncident returns the IDs of the alerts handled as part of
// incident id (the one that opened it and those joined to it), oldest first.
func (s *Store) AlertIDsOfIncident(ctx context.Context, id string) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM alerts WHERE incident_id = ?
		UNION SELECT alert_id FROM incidents WHERE id = ? AND alert_id IS NOT NULL ORDER BY 1`, id, id)
	if err != nil {
		return nil, fmt.Errorf("alerts of incident %s: %w", id, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("alerts of incident %s: %w", id, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
