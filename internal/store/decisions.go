package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Decision kinds, as guard.BasisKind names them.
const (
	DecisionScale   = "scale"
	DecisionRestart = "restart"
)

// DecisionRecord is one replayable guard decision with its whole input
// (Basis, as guard.Basis.Encode renders it), tied to the tool call it judged.
type DecisionRecord struct {
	ID         int64     `json:"id"`
	ToolCallID int64     `json:"toolCallId"`
	AlertID    int64     `json:"alertId,omitempty"`
	At         time.Time `json:"at"` // the decision's own time (its input's now)
	Kind       string    `json:"kind"`
	Target     string    `json:"target,omitempty"`
	Verdict    string    `json:"verdict"` // the guard's: allow, clamp or refuse
	Rule       string    `json:"rule,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	From       int64     `json:"from"`
	To         int64     `json:"to"`
	Requested  int64     `json:"requested"`
	Basis      string    `json:"-"`
	Env        string    `json:"env,omitempty"`
}

// DecisionFilter selects decisions for ListDecisions. Zero fields do not filter.
type DecisionFilter struct {
	Since    time.Time
	AlertIDs []int64
	Service  string // the workload name of the target (namespace/name)
	Env      string
}

// RecordDecision writes a decision and returns its ID.
func (s *Store) RecordDecision(ctx context.Context, d DecisionRecord) (int64, error) {
	switch {
	case d.ToolCallID == 0:
		return 0, fmt.Errorf("record decision: %w: no tool call", ErrInvalid)
	case !oneOf(d.Kind, DecisionScale, DecisionRestart):
		return 0, fmt.Errorf("record decision: %w: unknown kind %q", ErrInvalid, d.Kind)
	case !oneOf(d.Verdict, VerdictAllow, VerdictClamp, VerdictRefuse):
		return 0, fmt.Errorf("record decision: %w: unknown verdict %q", ErrInvalid, d.Verdict)
	case d.Basis == "":
		return 0, fmt.Errorf("record decision: %w: empty basis", ErrInvalid)
	}
	id, err := insertID(ctx, s.db, `INSERT INTO guard_decisions
		(tool_call_id, alert_id, at, kind, target, verdict, rule, reason, from_value, to_value, requested, basis, env)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(tool_call_id) DO UPDATE SET at = excluded.at, verdict = excluded.verdict, rule = excluded.rule,
			reason = excluded.reason, from_value = excluded.from_value, to_value = excluded.to_value,
			requested = excluded.requested, basis = excluded.basis`,
		d.ToolCallID, nullID(d.AlertID), nanos(s.orNow(d.At)), d.Kind, d.Target, d.Verdict, d.Rule, d.Reason,
		d.From, d.To, d.Requested, d.Basis, d.Env)
	return wrapID(id, err, "record decision")
}

// ListDecisions returns the decisions matching f, oldest first.
func (s *Store) ListDecisions(ctx context.Context, f DecisionFilter) ([]DecisionRecord, error) {
	q := `SELECT id, tool_call_id, COALESCE(alert_id, 0), at, kind, target, verdict, rule, reason,
		from_value, to_value, requested, basis, env FROM guard_decisions WHERE at >= ?`
	args := []any{nanos(f.Since)}
	if len(f.AlertIDs) > 0 {
		q += " AND alert_id IN (?" + strings.Repeat(", ?", len(f.AlertIDs)-1) + ")"
		for _, id := range f.AlertIDs {
			args = append(args, id)
		}
	}
	if f.Service != "" {
		q += " AND target LIKE ?"
		args = append(args, "%/"+f.Service)
	}
	if f.Env != "" {
		q += " AND env = ?"
		args = append(args, f.Env)
	}
	q += " ORDER BY at, id"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	defer rows.Close()
	var out []DecisionRecord
	for rows.Next() {
		var d DecisionRecord
		var at int64
		if err := rows.Scan(&d.ID, &d.ToolCallID, &d.AlertID, &at, &d.Kind, &d.Target, &d.Verdict, &d.Rule, &d.Reason,
			&d.From, &d.To, &d.Requested, &d.Basis, &d.Env); err != nil {
			return nil, fmt.Errorf("list decisions: %w", err)
		}
		d.At = fromNanos(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	return out, nil
}
