package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// IncidentStatus is the status of an incident.
type IncidentStatus = platform.IncidentStatus

// Incident statuses.
const (
	StatusOpen      = platform.IncidentOpen
	StatusMitigated = platform.IncidentMitigated
	StatusResolved  = platform.IncidentResolved
	StatusEscalated = platform.IncidentEscalated
)

// Incident is an incident opened by ops-skill.
type Incident struct {
	ID        string         `json:"id"`       // INC-YYYY-MM-DD-NNN, assigned by CreateIncident
	OpenedAt  time.Time      `json:"openedAt"` // the clock's time when zero
	Title     string         `json:"title,omitempty"`
	Service   string         `json:"service,omitempty"`
	Severity  string         `json:"severity,omitempty"`
	Status    IncidentStatus `json:"status,omitempty"`  // StatusOpen (the default), StatusMitigated, StatusResolved or StatusEscalated
	AlertID   int64          `json:"alertId,omitempty"` // 0 when no recorded alert opened it
	UpdatedAt time.Time      `json:"updatedAt"`
	Env       string         `json:"env"` // the cluster: its context, "in-cluster" or EnvSimulated; always in JSON
	// Subject is the correlation key of what the incident is about (a
	// workload's namespace/name); empty: never joined (see OpenIncident).
	Subject string `json:"subject,omitempty"`
	// Scope separates correlation domains sharing an environment: empty for
	// a platform every process shares; a simulated platform's own token.
	Scope string `json:"-"`
}

// TimelineResolved is the kind of the timeline entry that says why an
// incident was resolved (its alert cleared, or by hand).
const TimelineResolved = "resolved"

// TimelineEntry is one step of an incident's timeline.
type TimelineEntry struct {
	At   time.Time `json:"at"`             // the clock's time when zero
	Kind string    `json:"kind,omitempty"` // e.g. "step", "action", "verification", "notification", "status"
	Text string    `json:"text,omitempty"`
}

const incidentColumns = `id, opened_at, title, service, severity, status,
	COALESCE(alert_id, 0), updated_at, env, subject, scope`

func validStatus(s IncidentStatus) bool {
	return s.Valid()
}

// CreateIncident records a new incident and returns it with its ID. The ID is
// INC-YYYY-MM-DD-NNN from the clock's UTC date, NNN counting from 001 each
// day. The counter and the incident are written in one IMMEDIATE transaction,
// so IDs are unique across goroutines and processes sharing the file. An
// incident with a Subject that already has an open one is refused (a unique
// index): OpenIncident joins that one instead.
func (s *Store) CreateIncident(ctx context.Context, in Incident) (Incident, error) {
	in, err := s.prepareIncident(in)
	if err != nil {
		return Incident{}, fmt.Errorf("create incident: %w", err)
	}
	err = s.writeTx(ctx, func(tx *txn) error {
		var err error
		in, err = s.insertIncident(ctx, tx, in)
		return err
	})
	if err != nil {
		return Incident{}, fmt.Errorf("create incident: %w", err)
	}
	return in, nil
}

// prepareIncident checks a new incident and fills its defaults.
func (s *Store) prepareIncident(in Incident) (Incident, error) {
	if in.Title == "" {
		return Incident{}, fmt.Errorf("%w: empty title", ErrInvalid)
	}
	if in.Status == "" {
		in.Status = StatusOpen
	}
	if !validStatus(in.Status) {
		return Incident{}, fmt.Errorf("%w: unknown status %q", ErrInvalid, in.Status)
	}
	in.OpenedAt = s.orNow(in.OpenedAt)
	in.UpdatedAt = s.now()
	return in, nil
}

// insertIncident numbers the incident from the day's counter and writes it,
// within tx.
func (s *Store) insertIncident(ctx context.Context, tx *txn, in Incident) (Incident, error) {
	day := in.UpdatedAt.Format(time.DateOnly)
	var seq int
	if err := tx.QueryRowContext(ctx, `INSERT INTO incident_days(day, last) VALUES (?, 1)
		ON CONFLICT(day) DO UPDATE SET last = incident_days.last + 1 RETURNING last`, day).Scan(&seq); err != nil {
		return Incident{}, err
	}
	in.ID = fmt.Sprintf("INC-%s-%03d", day, seq)
	_, err := tx.ExecContext(ctx, `INSERT INTO incidents
		(id, opened_at, title, service, severity, status, alert_id, updated_at, env, subject, scope)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.ID, nanos(in.OpenedAt), in.Title, in.Service, in.Severity, in.Status,
		nullID(in.AlertID), nanos(in.UpdatedAt), in.Env, in.Subject, in.Scope)
	return in, err
}

// SetIncidentStatus changes the status of incident id. It returns ErrNotFound
// (wrapped) for an unknown id.
func (s *Store) SetIncidentStatus(ctx context.Context, id string, status IncidentStatus) error {
	if !validStatus(status) {
		return fmt.Errorf("set incident %s status: %w: unknown status %q", id, ErrInvalid, status)
	}
	err := mustAffect(s.db.ExecContext(ctx, `UPDATE incidents SET status = ?, updated_at = ? WHERE id = ?`,
		status, nanos(s.now()), id))
	if err != nil {
		return fmt.Errorf("set incident %s status: %w", id, err)
	}
	return nil
}

// ResolveIncident closes incident id by hand: its status becomes resolved
// and e joins its timeline, in one transaction. It returns the status the
// incident had; one already resolved is left as it is. ErrNotFound
// (wrapped) for an unknown id.
func (s *Store) ResolveIncident(ctx context.Context, id string, e TimelineEntry) (IncidentStatus, error) {
	if e.Kind == "" {
		return "", fmt.Errorf("resolve incident %s: %w: empty kind", id, ErrInvalid)
	}
	var was IncidentStatus
	now := s.now()
	err := s.writeTx(ctx, func(tx *txn) error {
		err := tx.QueryRowContext(ctx, `SELECT status FROM incidents WHERE id = ?`, id).Scan(&was)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || was == StatusResolved {
			return err
		}
		// The status read must still hold: another writer's change wins.
		err = mustAffect(tx.ExecContext(ctx, `UPDATE incidents SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			StatusResolved, nanos(now), id, was))
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("its status changed from %s meanwhile: try again", was)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO incident_timeline(incident_id, at, kind, text) VALUES (?, ?, ?, ?)`,
			id, nanos(s.orNow(e.At)), e.Kind, e.Text)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("resolve incident %s: %w", id, err)
	}
	return was, nil
}

// AppendTimeline adds an entry to the timeline of incident id and marks the
// incident updated. It returns ErrNotFound (wrapped) for an unknown id.
func (s *Store) AppendTimeline(ctx context.Context, id string, e TimelineEntry) error {
	if e.Kind == "" {
		return fmt.Errorf("append timeline %s: %w: empty kind", id, ErrInvalid)
	}
	now := s.now()
	err := s.writeTx(ctx, func(tx *txn) error {
		err := mustAffect(tx.ExecContext(ctx, `UPDATE incidents SET updated_at = ? WHERE id = ?`, nanos(now), id))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO incident_timeline(incident_id, at, kind, text)
			VALUES (?, ?, ?, ?)`, id, nanos(s.orNow(e.At)), e.Kind, e.Text)
		return err
	})
	if err != nil {
		return fmt.Errorf("append timeline %s: %w", id, err)
	}
	return nil
}

// GetIncident returns incident id and its timeline in time order. It returns
// ErrNotFound (wrapped) for an unknown id.
func (s *Store) GetIncident(ctx context.Context, id string) (Incident, []TimelineEntry, error) {
	var in Incident
	var timeline []TimelineEntry
	err := s.readTx(ctx, func(tx *txn) error {
		var err error
		in, err = scanIncident(tx.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		timeline, err = queryTimeline(ctx, tx, id)
		return err
	})
	if err != nil {
		return Incident{}, nil, fmt.Errorf("get incident %s: %w", id, err)
	}
	return in, timeline, nil
}

// ListIncidents returns incidents newest first. openOnly keeps those not yet
// resolved (open, mitigated or escalated). limit: default 50, at most 10000.
func (s *Store) ListIncidents(ctx context.Context, openOnly bool, limit int) ([]Incident, error) {
	return s.QueryIncidents(ctx, IncidentFilter{OpenOnly: openOnly, Limit: limit})
}

// IncidentFilter selects incidents for QueryIncidents. Zero fields do not
// filter.
type IncidentFilter struct {
	OpenOnly bool   // only those not yet resolved (open, mitigated or escalated)
	Env      string // exact environment: the cluster's context, "in-cluster" or EnvSimulated
	Limit    int    // default 50, at most 10000
}

// QueryIncidents returns the incidents matching f, newest first.
func (s *Store) QueryIncidents(ctx context.Context, f IncidentFilter) ([]Incident, error) {
	q, args := listIncidentsQuery(f)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

// listIncidentsQuery builds the query of QueryIncidents. Every combination of
// filters is served by an index in opened_at order (see
// TestListQueriesUseIndexes).
func listIncidentsQuery(f IncidentFilter) (string, []any) {
	var where []string
	var args []any
	if f.Env != "" {
		where, args = append(where, "env = ?"), append(args, f.Env)
	}
	if f.OpenOnly {
		where = append(where, "status != '"+string(StatusResolved)+"'")
	}
	q := "SELECT " + incidentColumns + " FROM incidents"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY opened_at DESC, id DESC LIMIT ?"
	return q, append(args, clampLimit(f.Limit))
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanIncident(r scanner) (Incident, error) {
	var in Incident
	var opened, updated int64
	err := r.Scan(&in.ID, &opened, &in.Title, &in.Service, &in.Severity, &in.Status,
		&in.AlertID, &updated, &in.Env, &in.Subject, &in.Scope)
	if err != nil {
		return Incident{}, err
	}
	in.OpenedAt, in.UpdatedAt = fromNanos(opened), fromNanos(updated)
	return in, nil
}

func queryTimeline(ctx context.Context, tx *txn, id string) ([]TimelineEntry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT at, kind, text FROM incident_timeline
		WHERE incident_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TimelineEntry
	for rows.Next() {
		var e TimelineEntry
		var at int64
		if err := rows.Scan(&at, &e.Kind, &e.Text); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// clustersQuery lists the environments of the history listings, each once;
// each part reads the first column of an env index.
const clustersQuery = `SELECT env FROM alerts WHERE env != ''
	UNION SELECT env FROM scale_events WHERE env != ''
	UNION SELECT env FROM incidents WHERE env != ''`

// Clusters lists the environments (clusters' contexts, "in-cluster",
// EnvSimulated) that have alerts, scale events or incidents in the store, in
// name order: what the history listings' cluster filter can select.
func (s *Store) Clusters(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, clustersQuery)
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var env string
		if err := rows.Scan(&env); err != nil {
			return nil, fmt.Errorf("list clusters: %w", err)
		}
		out = append(out, env)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	slices.Sort(out) // byte order on both engines, whatever PostgreSQL's collation
	return out, nil
}
