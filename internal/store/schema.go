package store

import (
	"context"
	"fmt"
)

// migrations returns the schema changes in order; migration i (0-based) brings
// the schema to version i+1. Append new migrations; never edit applied ones.
func migrations() []string {
	return []string{
		// Version 1: the first schema.
		`
CREATE TABLE alerts (
	id          INTEGER PRIMARY KEY,
	received_at INTEGER NOT NULL,
	source      TEXT NOT NULL,
	fingerprint TEXT NOT NULL DEFAULT '',
	service     TEXT NOT NULL DEFAULT '',
	namespace   TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL DEFAULT '',
	summary     TEXT NOT NULL DEFAULT '',
	env         TEXT NOT NULL DEFAULT '',
	outcome     TEXT NOT NULL DEFAULT '',
	planner     TEXT NOT NULL DEFAULT '',
	incident_id TEXT NOT NULL DEFAULT '',
	error       TEXT NOT NULL DEFAULT '',
	finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alerts_by_time ON alerts(received_at);
CREATE INDEX alerts_by_service ON alerts(service, received_at);
CREATE INDEX alerts_by_env ON alerts(env, received_at);
CREATE INDEX alerts_by_fingerprint ON alerts(fingerprint, env, received_at);

CREATE TABLE tool_calls (
	id       INTEGER PRIMARY KEY,
	alert_id INTEGER REFERENCES alerts(id),
	at       INTEGER NOT NULL,
	tool     TEXT NOT NULL,
	target   TEXT NOT NULL DEFAULT '',
	args     TEXT NOT NULL DEFAULT '',
	verdict  TEXT NOT NULL,
	rule     TEXT NOT NULL DEFAULT '',
	reason   TEXT NOT NULL DEFAULT '',
	result   TEXT NOT NULL DEFAULT '',
	is_write INTEGER NOT NULL DEFAULT 0,
	env      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tool_calls_by_alert ON tool_calls(alert_id, at);

CREATE TABLE scale_events (
	id            INTEGER PRIMARY KEY,
	at            INTEGER NOT NULL,
	namespace     TEXT NOT NULL,
	name          TEXT NOT NULL,
	from_replicas INTEGER NOT NULL,
	to_replicas   INTEGER NOT NULL,
	reason        TEXT NOT NULL DEFAULT '',
	rule          TEXT NOT NULL DEFAULT '',
	alert_id      INTEGER REFERENCES alerts(id),
	env           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scale_events_by_time ON scale_events(at);
CREATE INDEX scale_events_by_name ON scale_events(name, at);
CREATE INDEX scale_events_by_env ON scale_events(env, at);

CREATE TABLE incidents (
	id         TEXT PRIMARY KEY,
	opened_at  INTEGER NOT NULL,
	title      TEXT NOT NULL,
	service    TEXT NOT NULL DEFAULT '',
	severity   TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL,
	alert_id   INTEGER REFERENCES alerts(id),
	updated_at INTEGER NOT NULL,
	env        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incidents_by_time ON incidents(opened_at, id);

CREATE TABLE incident_days (
	day  TEXT PRIMARY KEY,
	last INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE incident_timeline (
	id          INTEGER PRIMARY KEY,
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	at          INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	text        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_timeline_by_incident ON incident_timeline(incident_id, at);

CREATE TABLE guard_state (
	env        TEXT NOT NULL,
	key        TEXT NOT NULL,
	value      BLOB NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (env, key)
) WITHOUT ROWID;

CREATE TABLE threshold_changes (
	id  INTEGER PRIMARY KEY,
	at  INTEGER NOT NULL,
	key TEXT NOT NULL,
	old TEXT NOT NULL DEFAULT '',
	new TEXT NOT NULL DEFAULT '',
	who TEXT NOT NULL DEFAULT ''
);
CREATE INDEX threshold_changes_by_time ON threshold_changes(at);
`,
		// Version 2: recent writes by time and by target, for "why did you …?".
		`
CREATE INDEX tool_calls_writes_by_time ON tool_calls(is_write, at);
CREATE INDEX tool_calls_by_target ON tool_calls(target, at);
`,
		// Version 3: chat conversations, so that `chat --resume` continues the last one.
		`
CREATE TABLE conversations (
	id         INTEGER PRIMARY KEY,
	env        TEXT NOT NULL,
	started_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	turns      INTEGER NOT NULL DEFAULT 0,
	transcript TEXT NOT NULL
);
CREATE INDEX conversations_by_env ON conversations(env, updated_at);
`,
		// Version 4: incidents correlated by subject. At most one incident of
		// a subject is open (not resolved) per environment and scope; older
		// incidents have no subject and are never joined.
		`
ALTER TABLE incidents ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN scope TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX incidents_open_by_subject ON incidents(env, scope, subject)
	WHERE subject != '' AND status != 'resolved';
`,
		// Version 5: the guard's replayable decisions with their whole input
		// (the basis: workload, samples, guard state, time), one row per
		// tool call that a scale or restart decision judged, for replay and
		// tune.
		`
CREATE TABLE guard_decisions (
	id           INTEGER PRIMARY KEY,
	tool_call_id INTEGER NOT NULL REFERENCES tool_calls(id),
	alert_id     INTEGER REFERENCES alerts(id),
	at           INTEGER NOT NULL,
	kind         TEXT NOT NULL,
	target       TEXT NOT NULL DEFAULT '',
	verdict      TEXT NOT NULL,
	rule         TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT '',
	from_value   INTEGER NOT NULL DEFAULT 0,
	to_value     INTEGER NOT NULL DEFAULT 0,
	requested    INTEGER NOT NULL DEFAULT 0,
	basis        TEXT NOT NULL,
	env          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX guard_decisions_by_time ON guard_decisions(at);
CREATE INDEX guard_decisions_by_alert ON guard_decisions(alert_id, at);
CREATE UNIQUE INDEX guard_decisions_by_call ON guard_decisions(tool_call_id);
`,
		// Version 6: facts about the database itself, one row each: its
		// identity (a random UUID written once, on first open; see
		// Store.Identity), which keeps what is derived from its counters
		// (the pager's dedup key) unique across stores.
		`
CREATE TABLE store_meta (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	created_at INTEGER NOT NULL
) WITHOUT ROWID;
`,
		// Version 7: the fleet view: incidents listed by cluster (env) in
		// opened_at order, as alerts and scale events already are.
		`
CREATE INDEX incidents_by_env ON incidents(env, opened_at, id);
`,
		// Version 8: the unfinished alerts of a subject (outcome still
		// pending), which a later run of the subject resumes when the run
		// that recorded them died (ListUnfinished).
		`
CREATE INDEX alerts_unfinished ON alerts(env, outcome, namespace, service, received_at);
`,
	}
}

// migrate applies every migration newer than the database's version, all in
// one write transaction (SQLite: IMMEDIATE; PostgreSQL: under an advisory
// lock of the schema), so two processes opening a new database at once
// cannot both apply them. Each migration's DDL passes through the dialect. An up-to-date database is only read, so opening it
// never waits for another process's write transaction. A database newer than
// this binary is refused.
func (s *Store) migrate(ctx context.Context) error {
	all := migrations()
	current, err := s.version(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current >= len(all) {
		return checkVersion(current, len(all))
	}
	d := s.db.d
	err = s.writeTx(ctx, func(tx *txn) error {
		if err := d.lock(ctx, tx, "schema_migrations"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT PRIMARY KEY,
			applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		var applied int // read again under the lock: another process may have migrated
		if err := tx.QueryRowContext(ctx,
			`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
			return err
		}
		if err := checkVersion(applied, len(all)); err != nil {
			return err
		}
		for v := applied + 1; v <= len(all); v++ {
			if _, err := tx.ExecContext(ctx, d.ddl(all[v-1])); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)`,
				v, nanos(s.now())); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// checkVersion refuses a database migrated by a newer binary.
func checkVersion(current, known int) error {
	if current > known {
		return fmt.Errorf("%w: version %d, this binary knows up to %d", ErrNewerSchema, current, known)
	}
	return nil
}

// SchemaVersion reports the schema version of the open database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	v, err := s.version(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// version reads the schema version without taking the write lock; 0 for a new
// database.
func (s *Store) version(ctx context.Context) (int, error) {
	v := 0
	err := s.readTx(ctx, func(tx *txn) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.db.d.tableExistsQuery(), "schema_migrations").Scan(&n); err != nil || n == 0 {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	})
	return v, err
}
