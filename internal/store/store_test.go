package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	testclock "k8s.io/utils/clock/testing"
)

// t0 is the fake clock's start: the date of the spec's example incident.
var t0 = time.Date(2026, 2, 16, 10, 30, 0, 0, time.UTC)

func newClock() *testclock.FakePassiveClock { return testclock.NewFakePassiveClock(t0) }

// openMem opens a new, empty store of the engine under test (see
// newLocation), closed at the end of the test.
func openMem(t testing.TB, clk *testclock.FakePassiveClock) *Store {
	t.Helper()
	return openFile(t, newLocation(t, MemoryPath), clk)
}

// openSQLiteMem opens an in-memory SQLite store whatever the engine under
// test, for the tests of SQLite's own behaviour.
func openSQLiteMem(t testing.TB, clk *testclock.FakePassiveClock) *Store {
	t.Helper()
	return openFile(t, MemoryPath, clk)
}

// openFile opens a store on path, closed at the end of the test.
func openFile(t testing.TB, path string, clk *testclock.FakePassiveClock) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, clk)
	if err != nil {
		t.Fatalf("Open(%s): %v", RedactURL(path), err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOpenCreatesPrivateDirAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "ops skill?#%20") // space, ?, # and % must survive the DSN
	path := filepath.Join(dir, "history.db")
	s := openFile(t, path, newClock())
	var seq int
	var name, file string
	if err := s.db.db.QueryRow("PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	if file != path {
		t.Errorf("SQLite opened %q, want %q", file, path)
	}

	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatalf("stat %s: %v", c.path, err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s mode = %o, want %o", c.path, got, c.want)
		}
	}
}

func TestOpenUsesWALAndBusyTimeout(t *testing.T) {
	s := openFile(t, filepath.Join(t.TempDir(), "h.db"), newClock())
	ctx := context.Background()
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	var timeout int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != busyTimeout.Milliseconds() {
		t.Errorf("busy_timeout = %d, want %d", timeout, busyTimeout.Milliseconds())
	}
}

func TestOpenRejectsBadArguments(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "", newClock()); err == nil {
		t.Error("Open with empty path: want error")
	}
	if _, err := Open(ctx, MemoryPath, nil); err == nil {
		t.Error("Open with nil clock: want error")
	}
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, filepath.Join(blocker, "h.db"), newClock()); err == nil {
		t.Error("Open under a regular file: want error")
	}
}

func TestReopenKeepsDataAndSchemaVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	clk := newClock()
	s, err := Open(ctx, path, clk)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText, Service: "backend", Summary: "cpu 85%"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordToolCall(ctx, ToolCallRecord{AlertID: id, Tool: "scaleDeployment", Verdict: VerdictExecuted}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordScaleEvent(ctx, ScaleEvent{Namespace: "ai-data-labs", Name: "backend", From: 3, To: 4}); err != nil {
		t.Fatal(err)
	}
	inc, err := s.CreateIncident(ctx, Incident{Title: "backend cpu"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateState(ctx, "simulated", "ai-data-labs/backend", func([]byte) ([]byte, error) {
		return []byte(`{"n":1}`), nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordThresholdChange(ctx, ThresholdChange{Key: "scale_up.cpu", Old: "80", New: "85"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	r := openFile(t, path, clk)
	if v, err := r.SchemaVersion(ctx); err != nil || v != len(migrations()) {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, len(migrations()))
	}
	var applied int
	if err := r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&applied); err != nil || applied != len(migrations()) {
		t.Errorf("schema_migrations rows = %d, %v; want %d (migrations applied once)", applied, err, len(migrations()))
	}
	if a, err := r.GetAlert(ctx, id); err != nil || a.Summary != "cpu 85%" {
		t.Errorf("GetAlert after reopen = %+v, %v", a, err)
	}
	if calls, err := r.ListToolCalls(ctx, id); err != nil || len(calls) != 1 {
		t.Errorf("ListToolCalls after reopen = %d calls, %v; want 1", len(calls), err)
	}
	if ev, err := r.ListScaleEvents(ctx, ScaleFilter{}); err != nil || len(ev) != 1 {
		t.Errorf("ListScaleEvents after reopen = %d, %v; want 1", len(ev), err)
	}
	if _, _, err := r.GetIncident(ctx, inc.ID); err != nil {
		t.Errorf("GetIncident after reopen: %v", err)
	}
	if st, err := r.LoadState(ctx, "simulated", "ai-data-labs/backend"); err != nil || string(st) != `{"n":1}` {
		t.Errorf("LoadState after reopen = %q, %v", st, err)
	}
	if ch, err := r.ListThresholdChanges(ctx, 0); err != nil || len(ch) != 1 {
		t.Errorf("ListThresholdChanges after reopen = %d, %v; want 1", len(ch), err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(ctx, path, newClock())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO schema_migrations(version, applied_at) VALUES (999, 0)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path, newClock())
	if err == nil {
		_ = s2.Close()
	}
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a database with a newer schema: error = %v, want ErrNewerSchema", err)
	}
}

func TestConcurrentOpenOfNewFileMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	const n = 4
	errs := make(chan error, n)
	stores := make(chan *Store, n)
	for range n {
		go func() {
			s, err := Open(ctx, path, newClock())
			errs <- err
			stores <- s
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
		if s := <-stores; s != nil {
			t.Cleanup(func() { _ = s.Close() })
		}
	}
	s := openFile(t, path, newClock())
	var applied int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(migrations()) {
		t.Errorf("schema_migrations rows = %d, want %d", applied, len(migrations()))
	}
}

func TestClampLimit(t *testing.T) {
	for _, c := range []struct{ in, want int }{
		{-1, defaultLimit}, {0, defaultLimit}, {1, 1}, {maxLimit, maxLimit}, {maxLimit + 1, maxLimit},
	} {
		if got := clampLimit(c.in); got != c.want {
			t.Errorf("clampLimit(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestUnsetTimesRoundTripAsZero(t *testing.T) {
	if got := fromNanos(nanos(time.Time{})); !got.IsZero() {
		t.Errorf("zero time round trip = %v", got)
	}
	local := time.Date(2026, 2, 16, 12, 0, 0, 123, time.FixedZone("CET", 3600))
	got := fromNanos(nanos(local))
	if !got.Equal(local) || got.Location() != time.UTC {
		t.Errorf("round trip of %v = %v, want same instant in UTC", local, got)
	}
}
