// Package store keeps the history of ops-skill in a database: alerts and
// their outcome, every tool call with its guard decision, scale events,
// incidents with their timeline, threshold changes, the guard state that
// concurrent invocations share, and chat conversations (for chat --resume).
//
// Two engines sit behind the one Store: SQLite, the embedded default, and
// PostgreSQL, a database that several replicas share (see Open). What differs
// between them (placeholders, DDL, locks, snapshots) is a dialect inside this
// package; callers never know which engine they use. Both run the same
// versioned migrations and return the same results.
//
// The SQLite database uses the pure-Go driver modernc.org/sqlite (no cgo) in WAL mode
// with a busy timeout, so several processes may use the same file at once:
// readers never block, writers queue. Every record is committed as it is
// written, never batched into one long transaction, so a crash mid-run leaves a
// readable database that holds every record written before it. Times are stored
// as UTC Unix nanoseconds (0 means unset) and come back in UTC.
//
// The store writes what it is given. It never inspects values for secrets:
// callers must redact tokens, webhook URLs and keys before recording them.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"k8s.io/utils/clock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// MemoryPath opens a private in-memory database (for tests).
const MemoryPath = ":memory:"

const (
	busyTimeout  = 10 * time.Second
	maxOpenConns = 4
	defaultLimit = 50
	maxLimit     = 10000
)

var (
	// ErrNotFound means the alert, incident or other record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means a record was rejected before it was written, for
	// example an unknown outcome, verdict or status, or a missing field.
	ErrInvalid = errors.New("invalid record")
	// ErrNewerSchema means the database was migrated by a newer ops-skill; Open
	// refuses it rather than guess at its schema.
	ErrNewerSchema = errors.New("database schema is newer than this binary")
	// ErrUnsupported means the operation does not exist on this engine.
	ErrUnsupported = errors.New("not supported by this engine")
	// ErrTakenOver means a run's alert is no longer its own to finish: it
	// was claimed (ClaimUnfinished) by a run that resumed it, whose outcome
	// stands.
	ErrTakenOver = errors.New("taken over by a run that resumed it")
)

// Store is a handle on one history database. It is safe for concurrent use by
// many goroutines, and several Stores (in one or many processes) may share a
// file.
type Store struct {
	db  conn
	clk clock.PassiveClock
	id  string // Identity, read once at open
}

// Open opens the history at location and migrates its schema to the newest
// version. A postgres:// or postgresql:// URL opens that PostgreSQL database
// (its schema from the URL's search_path, else the user's default); anything
// else is the path of a SQLite file, whose directory (mode 0700) and file
// (mode 0600) are created when missing, and ":memory:" a private in-memory
// SQLite database. clk supplies the time for records that carry none and for
// incident IDs. Errors never show a URL's password.
func Open(ctx context.Context, location string, clk clock.PassiveClock) (*Store, error) {
	if clk == nil {
		return nil, errors.New("open: nil clock")
	}
	if location == "" {
		return nil, errors.New("open: empty path")
	}
	if IsPostgresURL(location) {
		return openPostgres(ctx, location, clk)
	}
	return openSQLite(ctx, location, clk)
}

// openSQLite opens the SQLite file at path (or MemoryPath).
func openSQLite(ctx context.Context, path string, clk clock.PassiveClock) (*Store, error) {
	conns := 1 // every connection to ":memory:" would be a different database
	if path != MemoryPath {
		abs, err := prepareFile(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		path, conns = abs, maxOpenConns
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	return start(ctx, conn{db: db, d: sqliteDialect{}}, clk, path)
}

// start migrates a newly opened database and returns its Store; name (never
// a password) names it in errors.
func start(ctx context.Context, c conn, clk clock.PassiveClock, name string) (*Store, error) {
	s := &Store{db: c, clk: clk}
	err := s.migrateRetrying(ctx)
	if err == nil {
		err = s.loadIdentity(ctx)
	}
	if err != nil {
		_ = c.db.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return s, nil
}

// Engine names the database engine of s: "sqlite" or "postgres".
func (s *Store) Engine() string { return s.db.d.name() }

// migrateRetrying migrates, retrying a few times when the engine reports a
// race it does not wait out itself (SQLite: SQLITE_BUSY).
func (s *Store) migrateRetrying(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		if err = s.migrate(ctx); err == nil || !s.db.d.retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 25 * time.Millisecond):
		}
	}
	return err
}

// prepareFile makes path absolute and creates its directory and an empty file
// with private permissions, so that SQLite (which would use the umask) never
// creates a world-readable history.
func prepareFile(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", err
	}
	return abs, f.Close()
}

// dsn builds the driver connection string. Every connection gets the busy
// timeout first, foreign keys on, WAL journal and NORMAL sync (a process crash
// loses no committed transaction; a power loss may lose the last few but never
// corrupts the file). _txlock=immediate makes every read-write transaction
// BEGIN IMMEDIATE, so read-modify-write sequences cannot interleave.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	if path == MemoryPath {
		return MemoryPath + "?" + q.Encode()
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the database. Records are already committed; Close only
// releases the connections (and lets SQLite checkpoint the WAL).
func (s *Store) Close() error {
	if err := s.db.db.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// CapSize limits the database to the pages it has now (PRAGMA
// max_page_count), so that a write needing a new page fails with
// SQLITE_FULL, as on a full disk. The limit holds for one connection, so it
// caps a MemoryPath store (one connection) only: it lets tests make the real
// store fail the way a full state directory does.
func (s *Store) CapSize(ctx context.Context) error {
	if _, ok := s.db.d.(sqliteDialect); !ok {
		return fmt.Errorf("cap size: %w: only on SQLite", ErrUnsupported)
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA max_page_count = 1`); err != nil { // never below the current size
		return fmt.Errorf("cap size: %w", err)
	}
	return nil
}

// writeTx runs fn in one read-write transaction (SQLite: BEGIN IMMEDIATE)
// and commits it, or rolls it back when fn fails.
func (s *Store) writeTx(ctx context.Context, fn func(*txn) error) error {
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&txn{tx: tx, d: s.db.d}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// readTx runs fn in one read-only (deferred) transaction, so that several
// queries see the same snapshot.
func (s *Store) readTx(ctx context.Context, fn func(*txn) error) error {
	tx, err := s.db.db.BeginTx(ctx, s.db.d.readOptions())
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(&txn{tx: tx, d: s.db.d})
}

// now returns the injected clock's time in UTC.
func (s *Store) now() time.Time { return s.clk.Now().UTC() }

// orNow returns t, or the clock's time when t is zero.
func (s *Store) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t.UTC()
}

// nanos converts t to stored form: UTC Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos converts a stored time back; 0 gives the zero time.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullID stores a zero reference as NULL (no parent record).
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// clampLimit applies the default (50) and the maximum (10000) to a limit.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	default:
		return n
	}
}

// oneOf reports whether v is one of allowed.
func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// mustAffect turns an UPDATE that touched no row into ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
