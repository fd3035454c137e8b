package agent_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// fillToolCalls makes the real history full, as a full state directory does:
// its size is capped (PRAGMA max_page_count) and the tool call table filled
// with the smallest rows, so that every real tool call record fails with
// SQLITE_FULL (the alert's own record still fits).
func fillToolCalls(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.CapSize(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		_, err := s.RecordToolCall(ctx, store.ToolCallRecord{Tool: "x", Verdict: store.VerdictAllow})
		if err != nil && strings.Contains(err.Error(), "full") {
			return
		}
		if err != nil || i > 100000 {
			t.Fatalf("filling the store: %v", err)
		}
	}
}

func TestAFullHistoryRefusesTheWriteAndFailsTheRun(t *testing.T) {
	h := newHarness(t, setup{scenario: "high-cpu"})
	fillToolCalls(t, h.st)
	s := h.run()
	if got, want := h.after().Services["backend"].Replicas, h.start.Services["backend"].Replicas; got != want {
		t.Fatalf("backend has %d replicas, want %d: a write ran unrecorded", got, want)
	}
	refused := false
	for _, r := range s.Refusals {
		refused = refused || (r.Tool == "scaleDeployment" && r.Rule == guard.RuleAuditUnrecorded)
	}
	if !refused || len(s.Actions) != 0 {
		t.Errorf("refusals %+v actions %+v, want the scale refused by %s", s.Refusals, s.Actions, guard.RuleAuditUnrecorded)
	}
	failed := of[agent.HistoryFailed](h.events)
	if len(failed) == 0 || len(s.AuditErrors) != len(failed) {
		t.Errorf("%d HistoryFailed events, audit errors %q: want one for each failed record", len(failed), s.AuditErrors)
	}
	if s.Resolution != agent.Failed || !strings.Contains(s.Error, "history incomplete") {
		t.Errorf("resolution %q error %q, want failed with the incomplete history", s.Resolution, s.Error)
	}
}

// failingResults records intents, and fails every record of an executed
// write's result: the history breaks after the write.
type failingResults struct{ tools.Recorder }

func (f failingResults) RecordCall(ctx context.Context, c tools.CallRecord) error {
	if c.Status == tools.StatusExecuted {
		return errors.New("database disk image is malformed")
	}
	return f.Recorder.RecordCall(ctx, c)
}

func TestAHistoryFailureAfterTheWriteFailsTheRun(t *testing.T) {
	h := newHarness(t, setup{scenario: "high-cpu", wrap: func(d *tools.Deps) { d.Recorder = failingResults{d.Recorder} }})
	s := h.run()
	if got := h.after().Services["backend"].Replicas; got != h.start.Services["backend"].Replicas+1 {
		t.Fatalf("backend has %d replicas, want the scale made", got)
	}
	failed := of[agent.HistoryFailed](h.events)
	if len(failed) != 1 || failed[0].What != "record scaleDeployment ai-data-labs/backend" {
		t.Fatalf("history failures %+v, want the scale's record", failed)
	}
	if s.Resolution != agent.Failed || len(s.AuditErrors) != 1 || len(s.Actions) != 1 {
		t.Errorf("resolution %q audit errors %q actions %+v: want failed, with the scale still reported", s.Resolution, s.AuditErrors, s.Actions)
	}
	if !strings.HasSuffix(s.Headline, "but the history is incomplete") {
		t.Errorf("headline %q", s.Headline)
	}
}
