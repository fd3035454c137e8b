package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Tool-call verdicts: the guard's decision, or what became of the call.
const (
	VerdictAllow    = "allow"
	VerdictClamp    = "clamp"
	VerdictRefuse   = "refuse"
	VerdictError    = "error"
	VerdictDryRun   = "dry_run"
	VerdictExecuted = "executed"
	// VerdictIntent marks a write recorded before it runs (RecordIntent); its
	// result completes the row (CompleteToolCall). A row still "intent" is a
	// write whose outcome was never recorded: the process died, or the
	// history failed, after the write may have been made.
	VerdictIntent = "intent"
)

// ToolCallRecord is one tool call with its guard decision.
type ToolCallRecord struct {
	ID      int64     `json:"id"`
	AlertID int64     // 0 when the call belongs to no alert (e.g. `tools call`)
	At      time.Time `json:"at"` // the clock's time when zero
	Tool    string    `json:"tool,omitempty"`
	Target  string    `json:"target,omitempty"`  // e.g. "ai-data-labs/backend"
	Args    string    `json:"args,omitempty"`    // the call's arguments as JSON, redacted by the caller
	Verdict string    `json:"verdict,omitempty"` // one of the Verdict constants
	Rule    string    `json:"rule,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Result  string    `json:"result,omitempty"`
	Write   bool      `json:"write"`
	Env     string    `json:"env,omitempty"`
}

// ScaleEvent is one change of a workload's replica count.
type ScaleEvent struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"` // the clock's time when zero
	Namespace string    `json:"namespace,omitempty"`
	Name      string    `json:"name,omitempty"`
	From      int32     `json:"from"`
	To        int32     `json:"to"`
	Reason    string    `json:"reason,omitempty"`
	Rule      string    `json:"rule,omitempty"`
	AlertID   int64     `json:"alertId,omitempty"` // 0 when no alert caused it
	Env       string    `json:"env"`               // the cluster; always in JSON
}

// ScaleFilter selects scale events for ListScaleEvents. Zero fields do not filter.
type ScaleFilter struct {
	Since   time.Time
	Service string // exact workload name
	Limit   int    // default 50, at most 10000
	Env     string
}

const listToolCallsQuery = `SELECT id, COALESCE(alert_id, 0), at, tool, target, args,
	verdict, rule, reason, result, is_write, env FROM tool_calls
	WHERE alert_id = ? ORDER BY at, id`

// listUnattachedToolCallsQuery is listToolCallsQuery for the calls of no alert.
const listUnattachedToolCallsQuery = `SELECT id, COALESCE(alert_id, 0), at, tool, target, args,
	verdict, rule, reason, result, is_write, env FROM tool_calls
	WHERE alert_id IS NULL ORDER BY at, id`

// RecordToolCall writes a tool call and returns its ID.
func (s *Store) RecordToolCall(ctx context.Context, c ToolCallRecord) (int64, error) {
	if c.Tool == "" {
		return 0, fmt.Errorf("record tool call: %w: empty tool", ErrInvalid)
	}
	if !knownVerdict(c.Verdict) {
		return 0, fmt.Errorf("record tool call: %w: unknown verdict %q", ErrInvalid, c.Verdict)
	}
	id, err := insertID(ctx, s.db, `INSERT INTO tool_calls
		(alert_id, at, tool, target, args, verdict, rule, reason, result, is_write, env)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nullID(c.AlertID), nanos(s.orNow(c.At)), c.Tool, c.Target, c.Args, c.Verdict,
		c.Rule, c.Reason, c.Result, boolInt(c.Write), c.Env)
	return wrapID(id, err, "record tool call")
}

// RecordIntent writes a tool call before it runs, with verdict "intent", and
// returns its ID for CompleteToolCall. It is committed before it returns: a
// write whose intent cannot be recorded must not run.
func (s *Store) RecordIntent(ctx context.Context, c ToolCallRecord) (int64, error) {
	c.Verdict = VerdictIntent
	id, err := s.RecordToolCall(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("record intent: %w", err)
	}
	return id, nil
}

// CompleteToolCall replaces the intent row id with the call's result (verdict,
// rule, reason, result, time). ErrNotFound when no intent row has that ID.
func (s *Store) CompleteToolCall(ctx context.Context, id int64, c ToolCallRecord) error {
	if !knownVerdict(c.Verdict) || c.Verdict == VerdictIntent {
		return fmt.Errorf("complete tool call: %w: verdict %q", ErrInvalid, c.Verdict)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE tool_calls SET at = ?, verdict = ?, rule = ?, reason = ?, result = ?
		WHERE id = ? AND verdict = ?`,
		nanos(s.orNow(c.At)), c.Verdict, c.Rule, c.Reason, c.Result, id, VerdictIntent)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("complete tool call %d: %w", id, err)
	}
	return nil
}

func knownVerdict(v string) bool {
	return oneOf(v, VerdictAllow, VerdictClamp, VerdictRefuse, VerdictError, VerdictDryRun, VerdictExecuted, VerdictIntent)
}

// ListToolCalls returns the tool calls of an alert in the order they were made
// (alertID 0: the calls that belong to no alert).
func (s *Store) ListToolCalls(ctx context.Context, alertID int64) ([]ToolCallRecord, error) {
	q, args := listToolCallsQuery, []any{alertID}
	if alertID == 0 {
		q, args = listUnattachedToolCallsQuery, nil
	}
	out, err := s.queryToolCalls(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tool calls: %w", err)
	}
	return out, nil
}

// queryToolCalls runs a query selecting the tool_calls columns in the order
// of listToolCallsQuery and scans the rows.
func (s *Store) queryToolCalls(ctx context.Context, q string, args ...any) ([]ToolCallRecord, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ToolCallRecord
	for rows.Next() {
		var c ToolCallRecord
		var at int64
		if err := rows.Scan(&c.ID, &c.AlertID, &at, &c.Tool, &c.Target, &c.Args, &c.Verdict,
			&c.Rule, &c.Reason, &c.Result, &c.Write, &c.Env); err != nil {
			return nil, err
		}
		c.At = fromNanos(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// CallFilter selects tool calls across alerts for ListRecentToolCalls.
type CallFilter struct {
	Since      time.Time
	Target     string // exact target, e.g. "ai-data-labs/backend"; empty: any
	WritesOnly bool
	Limit      int // default 50, at most 10000
	Env        string
}

// ListRecentToolCalls lists tool calls newest first, across alerts.
func (s *Store) ListRecentToolCalls(ctx context.Context, f CallFilter) ([]ToolCallRecord, error) {
	q := `SELECT id, COALESCE(alert_id, 0), at, tool, target, args, verdict, rule, reason, result, is_write, env
		FROM tool_calls WHERE at >= ?`
	args := []any{nanos(f.Since)}
	if f.WritesOnly {
		q += ` AND is_write = 1`
	}
	if f.Target != "" {
		q += ` AND target = ?`
		args = append(args, f.Target)
	}
	if f.Env != "" {
		q += ` AND env = ?`
		args = append(args, f.Env)
	}
	q += ` ORDER BY at DESC, id DESC LIMIT ?`
	args = append(args, clampLimit(f.Limit))
	out, err := s.queryToolCalls(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list recent tool calls: %w", err)
	}
	return out, nil
}

// RecordScaleEvent writes a scale event and returns its ID.
func (s *Store) RecordScaleEvent(ctx context.Context, e ScaleEvent) (int64, error) {
	if e.Namespace == "" || e.Name == "" {
		return 0, fmt.Errorf("record scale event: %w: empty namespace or name", ErrInvalid)
	}
	if e.From < 0 || e.To < 0 {
		return 0, fmt.Errorf("record scale event: %w: negative replicas %d -> %d", ErrInvalid, e.From, e.To)
	}
	id, err := insertID(ctx, s.db, `INSERT INTO scale_events
		(at, namespace, name, from_replicas, to_replicas, reason, rule, alert_id, env)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nanos(s.orNow(e.At)), e.Namespace, e.Name, e.From, e.To, e.Reason, e.Rule, nullID(e.AlertID), e.Env)
	return wrapID(id, err, "record scale event")
}

// ListScaleEvents returns the scale events matching f, newest first.
func (s *Store) ListScaleEvents(ctx context.Context, f ScaleFilter) ([]ScaleEvent, error) {
	q, args := listScaleEventsQuery(f)
	out, err := s.queryScaleEvents(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list scale events: %w", err)
	}
	return out, nil
}

// queryScaleEvents runs a query selecting the scale_events columns in the
// order Scan reads them.
func (s *Store) queryScaleEvents(ctx context.Context, q string, args ...any) ([]ScaleEvent, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScaleEvent
	for rows.Next() {
		var e ScaleEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Namespace, &e.Name, &e.From, &e.To, &e.Reason, &e.Rule,
			&e.AlertID, &e.Env); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// listScaleEventsQuery builds the query of ListScaleEvents.
func listScaleEventsQuery(f ScaleFilter) (string, []any) {
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, nanos(f.Since))
	}
	if f.Service != "" {
		where, args = append(where, "name = ?"), append(args, f.Service)
	}
	if f.Env != "" {
		where, args = append(where, "env = ?"), append(args, f.Env)
	}
	q := `SELECT id, at, namespace, name, from_replicas, to_replicas, reason, rule,
		COALESCE(alert_id, 0), env FROM scale_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	return q, append(args, clampLimit(f.Limit))
}

// wrapID returns the ID of the row an insert wrote, with its error wrapped as
// "<op>: …".
func wrapID(id int64, err error, op string) (int64, error) {
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return id, nil
}
