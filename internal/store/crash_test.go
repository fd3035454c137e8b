package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// crashChildEnv, when set to a database path, turns the test binary into the
// crashing writer of TestKilledWriterLeavesReadableDatabase.
const crashChildEnv = "OPS_SKILL_STORE_CRASH_CHILD"

const committedBeforeCrash = 5

// TestMain lets the test binary act as a writer process that is killed
// mid-transaction.
func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashingWriter(path) // never returns
	}
	os.Exit(m.Run())
}

// crashingWriter commits a few alerts one by one, as a run does, then starts a
// large transaction whose pages spill into the WAL, and kills itself with
// SIGKILL before committing.
func crashingWriter(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path, newClock())
	if err != nil {
		os.Exit(10)
	}
	for range committedBeforeCrash {
		if _, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText, Summary: "committed"}); err != nil {
			os.Exit(11)
		}
	}
	conn, err := s.db.db.Conn(ctx)
	if err != nil {
		os.Exit(12)
	}
	// A tiny page cache forces the uncommitted pages out to the WAL file.
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = 2"); err != nil {
		os.Exit(13)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		os.Exit(14)
	}
	big := strings.Repeat("x", 2000)
	for range 2000 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alerts(received_at, source, summary) VALUES (1, 'text', ?)`, big); err != nil {
			os.Exit(15)
		}
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // wait for the signal
}

func TestKilledWriterLeavesReadableDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "h.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child: %v, want killed", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL (exit codes 10-15 mark setup failures)", exit)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() < 1<<20 {
		t.Fatalf("WAL after crash: %v, %v; want uncommitted pages spilled to it (> 1 MiB)", fi, err)
	}

	ctx := context.Background()
	s := openFile(t, path, newClock())
	var check string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	got, err := s.ListAlerts(ctx, AlertFilter{Limit: maxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != committedBeforeCrash {
		t.Fatalf("alerts after crash = %d, want the %d committed before it", len(got), committedBeforeCrash)
	}
	for _, a := range got {
		if a.Summary != "committed" {
			t.Errorf("uncommitted alert visible after crash: %+v", a)
		}
	}
	if _, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText}); err != nil {
		t.Errorf("write after crash: %v", err)
	}
}

// TestOpenWriteTransactionDoesNotBlockReaders holds a write transaction open on
// one handle, never committed, as a hung or dying writer would, and reads
// through another handle: readers see every committed record and nothing else.
func TestOpenWriteTransactionDoesNotBlockReaders(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	writer := openFile(t, path, newClock())
	if _, err := writer.RecordAlert(ctx, AlertRecord{Source: SourceText, Summary: "committed"}); err != nil {
		t.Fatal(err)
	}
	tx, err := writer.db.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO alerts(received_at, source, summary) VALUES (1, 'text', 'pending')`); err != nil {
		t.Fatal(err)
	}

	reader := openFile(t, path, newClock()) // opening (and migrating) must not need the write lock
	got, err := reader.ListAlerts(ctx, AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Summary != "committed" {
		t.Errorf("reader sees %+v, want only the committed alert", got)
	}

	if err := tx.Rollback(); err != nil { // the writer goes away without committing
		t.Fatal(err)
	}
	if _, err := reader.RecordAlert(ctx, AlertRecord{Source: SourceText}); err != nil {
		t.Errorf("write after the writer went away: %v", err)
	}
}
