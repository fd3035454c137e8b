package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestIntentRowIsCompletedByItsResult(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteMem(t, newClock())
	id, err := s.RecordIntent(ctx, ToolCallRecord{Tool: "scaleDeployment", Target: "ai-data-labs/backend", Args: `{"replicas":5}`, Write: true})
	if err != nil {
		t.Fatal(err)
	}
	calls, err := s.ListToolCalls(ctx, 0)
	if err != nil || len(calls) != 1 || calls[0].Verdict != VerdictIntent {
		t.Fatalf("before the result: %+v, %v; want one intent row", calls, err)
	}
	if err := s.CompleteToolCall(ctx, id, ToolCallRecord{Verdict: VerdictExecuted, Rule: "scale_up.cpu", Result: `{"to":5}`}); err != nil {
		t.Fatal(err)
	}
	calls, _ = s.ListToolCalls(ctx, 0)
	if len(calls) != 1 || calls[0].Verdict != VerdictExecuted || calls[0].Rule != "scale_up.cpu" || calls[0].Args != `{"replicas":5}` {
		t.Fatalf("after the result: %+v; want the intent row completed", calls)
	}
	if err := s.CompleteToolCall(ctx, id, ToolCallRecord{Verdict: VerdictExecuted}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("completing twice: %v, want ErrNotFound", err)
	}
	if err := s.CompleteToolCall(ctx, id, ToolCallRecord{Verdict: VerdictIntent}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("completing with an intent: %v, want ErrInvalid", err)
	}
}

// FillToolCalls caps s at its size and fills the tool call table with the
// smallest rows until the database is full, so that any real tool call
// record then fails with SQLITE_FULL.
func FillToolCalls(t testing.TB, s *Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.CapSize(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100000; i++ {
		if _, err := s.RecordToolCall(ctx, ToolCallRecord{Tool: "x", Verdict: VerdictAllow}); err != nil {
			if !strings.Contains(err.Error(), "full") {
				t.Fatalf("filling the database: %v, want a full database", err)
			}
			return
		}
	}
	t.Fatal("the capped database never filled up")
}

func TestFullDatabaseRefusesAnIntent(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteMem(t, newClock())
	FillToolCalls(t, s)
	_, err := s.RecordIntent(ctx, ToolCallRecord{Tool: "scaleDeployment", Target: "ai-data-labs/backend", Args: `{"replicas":5}`, Write: true})
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("intent on a full database: %v, want SQLITE_FULL", err)
	}
}
