package tools_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	testclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// storeRecorder records calls in the real SQLite store, as app does.
type storeRecorder struct {
	s *store.Store
	// onIntent runs when an intent is recorded (to look at the platform then).
	onIntent func()
	// failCalls makes every RecordCall fail, as a history that breaks
	// between a write's intent and its result.
	failCalls bool
}

func verdict(s tools.Status) string {
	switch s {
	case tools.StatusOK:
		return store.VerdictAllow
	case tools.StatusExecuted:
		return store.VerdictExecuted
	case tools.StatusDryRun:
		return store.VerdictDryRun
	case tools.StatusRefused:
		return store.VerdictRefuse
	}
	return store.VerdictError
}

func (r *storeRecorder) row(c tools.CallRecord) store.ToolCallRecord {
	return store.ToolCallRecord{AlertID: c.AlertID, At: c.At, Tool: c.Tool, Target: c.Target, Args: c.Args,
		Verdict: verdict(c.Status), Rule: c.Rule, Reason: c.Reason, Result: c.Result, Write: c.Write}
}

func (r *storeRecorder) RecordIntent(ctx context.Context, c tools.CallRecord) (int64, error) {
	if r.onIntent != nil {
		r.onIntent()
	}
	return r.s.RecordIntent(ctx, r.row(c))
}

func (r *storeRecorder) RecordCall(ctx context.Context, c tools.CallRecord) error {
	if r.failCalls {
		return errors.New("database or disk is full")
	}
	if c.Intent != 0 {
		return r.s.CompleteToolCall(ctx, c.Intent, r.row(c))
	}
	_, err := r.s.RecordToolCall(ctx, r.row(c))
	return err
}

func (r *storeRecorder) RecordScale(context.Context, int64, platform.WorkloadRef, int32, int32, string, string) error {
	return nil
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.MemoryPath, testclock.NewFakePassiveClock(t0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// storeRun is a run of an alert recorded in s (tool calls refer to it).
func storeRun(t *testing.T, s *store.Store, mode guard.Mode) *tools.Run {
	t.Helper()
	id, err := s.RecordAlert(context.Background(), store.AlertRecord{Source: store.SourceText})
	if err != nil {
		t.Fatal(err)
	}
	return tools.NewRun(id, mode, nil, guard.DefaultMaxWrites)
}

func withRecorder(r tools.Recorder) option { return func(d *tools.Deps) { d.Recorder = r } }

// fillUp makes the real store full, as a full state directory does: its size
// is capped (PRAGMA max_page_count) and the tool call table filled with the
// smallest rows, so any real record fails with SQLITE_FULL.
func fillUp(t *testing.T, s *store.Store) {
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

func replicas(t *testing.T, e *env, name string) int32 {
	t.Helper()
	w, err := e.p.Cluster().GetWorkload(context.Background(), ref(name))
	if err != nil {
		t.Fatal(err)
	}
	return w.Replicas
}

func TestWriteWhoseIntentCannotBeRecordedIsRefused(t *testing.T) {
	s := openStore(t)
	run := storeRun(t, s, guard.ModeAuto)
	fillUp(t, s)
	e := newEnv(t, "high-cpu", withRecorder(&storeRecorder{s: s}))
	o := e.call(run, "scaleDeployment", scaleBackendTo4)
	mustStatus(t, o, tools.StatusRefused)
	if o.Rule != guard.RuleAuditUnrecorded || !strings.Contains(o.Reason, "full") {
		t.Errorf("rule %v reason %v, want %s with the store's error", o.Rule, o.Reason, guard.RuleAuditUnrecorded)
	}
	if got := replicas(t, e, "backend"); got != 3 {
		t.Errorf("backend has %d replicas, want 3: the write ran unrecorded", got)
	}
	if len(o.AuditErrors) == 0 {
		t.Error("the refusal's own record failed, but the outcome lists no audit error")
	}
}

func TestReadOnAFullHistoryRunsAndSaysItsRecordFailed(t *testing.T) {
	s := openStore(t)
	run := storeRun(t, s, guard.ModeAuto)
	fillUp(t, s)
	e := newEnv(t, "high-cpu", withRecorder(&storeRecorder{s: s}))
	o := e.call(run, "getServiceStatus", `{"namespace":"ai-data-labs","name":"backend"}`)
	mustStatus(t, o, tools.StatusOK)
	if len(o.AuditErrors) != 1 || !strings.Contains(o.AuditErrors[0].Err, "full") {
		t.Errorf("audit errors %v, want the failed record", o.AuditErrors)
	}
}

func TestDryRunOnAFullHistoryChangesNothingAndSaysItsRecordFailed(t *testing.T) {
	s := openStore(t)
	run := storeRun(t, s, guard.ModeObserve)
	fillUp(t, s)
	e := newEnv(t, "high-cpu", withRecorder(&storeRecorder{s: s}))
	o := e.call(run, "scaleDeployment", scaleBackendTo4)
	mustStatus(t, o, tools.StatusDryRun)
	if got := replicas(t, e, "backend"); got != 3 || len(o.AuditErrors) != 1 {
		t.Errorf("replicas %d, audit errors %v: want 3 and the failed record", got, o.AuditErrors)
	}
}

func TestWriteIsRecordedBeforeItRunsAndItsResultCompletesTheRecord(t *testing.T) {
	s := openStore(t)
	rec := &storeRecorder{s: s}
	e := newEnv(t, "high-cpu", withRecorder(rec))
	var atIntent int32 = -1
	rec.onIntent = func() { atIntent = replicas(t, e, "backend") }
	run := storeRun(t, s, guard.ModeAuto)
	o := e.call(run, "scaleDeployment", scaleBackendTo4)
	mustStatus(t, o, tools.StatusExecuted)
	if atIntent != 3 || replicas(t, e, "backend") != 4 {
		t.Errorf("replicas at the intent %d, after %d: want 3 then 4", atIntent, replicas(t, e, "backend"))
	}
	calls, err := s.ListToolCalls(context.Background(), run.AlertID)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].Verdict != store.VerdictExecuted || calls[0].Rule != guard.RuleScaleUpCPU || !calls[0].Write {
		t.Errorf("history %+v, want one executed write", calls)
	}
	if len(o.AuditErrors) != 0 {
		t.Errorf("audit errors %v", o.AuditErrors)
	}
}

func TestWriteWhoseResultCannotBeRecordedSaysSo(t *testing.T) {
	s := openStore(t)
	e := newEnv(t, "high-cpu", withRecorder(&storeRecorder{s: s, failCalls: true}))
	run := storeRun(t, s, guard.ModeAuto)
	o := e.call(run, "scaleDeployment", scaleBackendTo4)
	mustStatus(t, o, tools.StatusExecuted)
	if len(o.AuditErrors) != 1 || o.AuditErrors[0].What != "record scaleDeployment ai-data-labs/backend" {
		t.Errorf("audit errors %v, want the failed result record", o.AuditErrors)
	}
	// The intent row stays: the history shows a write whose result is unknown.
	calls, _ := s.ListToolCalls(context.Background(), run.AlertID)
	if len(calls) != 1 || calls[0].Verdict != store.VerdictIntent {
		t.Errorf("history %+v, want the intent row", calls)
	}
}

// brokenTimeline opens incidents but cannot add to their timeline.
type brokenTimeline struct{ incidents }

func (*brokenTimeline) AddTimeline(context.Context, string, string, string) error {
	return errors.New("database disk image is malformed")
}

func TestAnIncidentWhoseSummaryCannotBeRecordedIsOpenAndSaysSo(t *testing.T) {
	e := newEnv(t, "high-cpu", func(d *tools.Deps) { d.Incidents = &brokenTimeline{} })
	o := e.call(autoRun(), "createIncident", `{"title":"backend CPU","service":"backend","summary":"scaled 3 to 4"}`)
	mustStatus(t, o, tools.StatusOK)
	if len(o.AuditErrors) != 1 || !strings.HasPrefix(o.AuditErrors[0].What, "add the summary to incident INC-") {
		t.Errorf("audit errors %v, want the failed timeline entry", o.AuditErrors)
	}
}
