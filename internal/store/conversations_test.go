package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestConversationSaveUpdateAndLast(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	if _, err := s.LastConversation(ctx, EnvSimulated); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LastConversation of an empty history: %v, want ErrNotFound", err)
	}
	id, err := s.SaveConversation(ctx, ConversationRecord{Env: EnvSimulated, Turns: 1, Transcript: []byte(`{"version":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	clk.SetTime(t0.Add(time.Minute))
	other, err := s.SaveConversation(ctx, ConversationRecord{Env: "prod-admin", Turns: 1, Transcript: []byte(`{"other":1}`)})
	if err != nil || other == id {
		t.Fatalf("save in another env = %d, %v", other, err)
	}
	clk.SetTime(t0.Add(2 * time.Minute))
	if got, err := s.SaveConversation(ctx, ConversationRecord{ID: id, Env: EnvSimulated, Turns: 2, Transcript: []byte(`{"version":1,"n":2}`)}); err != nil || got != id {
		t.Fatalf("update = %d, %v; want %d", got, err, id)
	}
	got, err := s.LastConversation(ctx, EnvSimulated)
	if err != nil {
		t.Fatal(err)
	}
	want := ConversationRecord{ID: id, Env: EnvSimulated, StartedAt: t0, UpdatedAt: t0.Add(2 * time.Minute), Turns: 2, Transcript: []byte(`{"version":1,"n":2}`)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("last conversation:\n got %+v\nwant %+v", got, want)
	}
	if p, err := s.LastConversation(ctx, "prod-admin"); err != nil || p.ID != other {
		t.Errorf("each environment has its own last conversation: %+v, %v", p, err)
	}
}

func TestConversationValidation(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	for name, c := range map[string]ConversationRecord{
		"no env":        {Turns: 1, Transcript: []byte("{}")},
		"no transcript": {Env: EnvSimulated, Turns: 1},
		"negative":      {Env: EnvSimulated, Turns: -1, Transcript: []byte("{}")},
	} {
		if _, err := s.SaveConversation(ctx, c); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.SaveConversation(ctx, ConversationRecord{ID: 42, Env: EnvSimulated, Turns: 1, Transcript: []byte("{}")}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a conversation that does not exist: %v, want ErrNotFound", err)
	}
}

func TestOnlyTheNewestConversationsAreKept(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	for i := 0; i < KeepConversations+5; i++ {
		clk.SetTime(t0.Add(time.Duration(i) * time.Minute))
		if _, err := s.SaveConversation(ctx, ConversationRecord{Env: EnvSimulated, Turns: i, Transcript: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SaveConversation(ctx, ConversationRecord{Env: "prod-admin", Turns: 1, Transcript: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	var n, oldest int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(turns) FROM conversations WHERE env = ?`, EnvSimulated).Scan(&n, &oldest); err != nil {
		t.Fatal(err)
	}
	if n != KeepConversations || oldest != 5 {
		t.Errorf("kept %d conversations, the oldest with %d turns; want %d from 5", n, oldest, KeepConversations)
	}
	if last, err := s.LastConversation(ctx, EnvSimulated); err != nil || last.Turns != KeepConversations+4 {
		t.Errorf("last = %+v, %v", last, err)
	}
}

// A history written by the previous schema (version 2) gains the
// conversations table and keeps what it held.
func TestMigrationFromVersion2AddsConversations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	if _, err := prepareFile(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	for v, m := range migrations()[:2] {
		mustExec(m)
		mustExec(`INSERT INTO schema_migrations(version, applied_at) VALUES (?, 0)`, v+1)
	}
	mustExec(`INSERT INTO alerts(received_at, source, summary) VALUES (1, 'text', 'cpu 85%')`)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openFile(t, path, newClock())
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations()) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(migrations()))
	}
	if a, err := s.ListAlerts(ctx, AlertFilter{}); err != nil || len(a) != 1 || a[0].Summary != "cpu 85%" {
		t.Errorf("alerts after the migration = %+v, %v", a, err)
	}
	if _, err := s.SaveConversation(ctx, ConversationRecord{Env: EnvSimulated, Turns: 1, Transcript: []byte("{}")}); err != nil {
		t.Errorf("save a conversation after the migration: %v", err)
	}
}
