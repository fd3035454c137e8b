package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// OpenIncident opens an incident for in.Subject, or joins the one open: when
// the subject has an incident that is not resolved in the same environment
// and scope, that incident is returned, unchanged, with joined true. Looking
// and opening happen in one IMMEDIATE transaction, and a unique index admits
// one open incident per subject, so of any number of concurrent calls for one
// subject — goroutines or processes sharing the file — one opens it and the
// others join it. An empty Subject always opens a new incident.
func (s *Store) OpenIncident(ctx context.Context, in Incident) (inc Incident, joined bool, err error) {
	in, err = s.prepareIncident(in)
	if err != nil {
		return Incident{}, false, fmt.Errorf("open incident: %w", err)
	}
	err = s.writeTx(ctx, func(tx *txn) error {
		if in.Subject != "" {
			if err := s.db.d.lock(ctx, tx, "incident\x1f"+in.Env+"\x1f"+in.Scope+"\x1f"+in.Subject); err != nil {
				return err
			}
			open, found, err := openIncidentOf(ctx, tx, in.Env, in.Scope, in.Subject)
			if err != nil || found {
				inc, joined = open, found
				return err
			}
		}
		inc, err = s.insertIncident(ctx, tx, in)
		return err
	})
	if err != nil {
		return Incident{}, false, fmt.Errorf("open incident for %q: %w", in.Subject, err)
	}
	return inc, joined, nil
}

// openIncidentOf returns the open (not resolved) incident of a subject, if
// there is one.
func openIncidentOf(ctx context.Context, tx *txn, env, scope, subject string) (Incident, bool, error) {
	in, err := scanIncident(tx.QueryRowContext(ctx, "SELECT "+incidentColumns+` FROM incidents
		WHERE env = ? AND scope = ? AND subject = ? AND status != ?
		ORDER BY opened_at, id LIMIT 1`, env, scope, subject, StatusResolved))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Incident{}, false, nil
	case err != nil:
		return Incident{}, false, err
	}
	return in, true, nil
}
