package agent_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
	"k8s.io/utils/clock"
)

func TestResumePolicySaysWhichPendingRunIsDead(t *testing.T) {
	now := fixedStart
	wrote := []agent.RecordedWrite{{Tool: tools.ScaleDeployment, Target: "shop/backend", Done: true}}
	tests := []struct {
		name string
		p    agent.ResumePolicy
		u    agent.Unfinished
		want bool
	}{
		{"turns span writers, it wrote", agent.ResumePolicy{TurnsSpanWriters: true, After: time.Hour},
			agent.Unfinished{ReceivedAt: now.Add(-time.Second), Writes: wrote}, true},
		{"turns span writers, it wrote nothing yet: waiting for its turn", agent.ResumePolicy{TurnsSpanWriters: true, After: time.Hour},
			agent.Unfinished{ReceivedAt: now.Add(-time.Second)}, false},
		{"shared store, young: its process may live on another machine", agent.ResumePolicy{After: time.Hour},
			agent.Unfinished{ReceivedAt: now.Add(-59 * time.Minute), Writes: wrote}, false},
		{"shared store, past the run timeout", agent.ResumePolicy{After: time.Hour},
			agent.Unfinished{ReceivedAt: now.Add(-time.Hour), Writes: wrote}, true},
		{"past the run timeout, nothing written", agent.ResumePolicy{After: time.Hour},
			agent.Unfinished{ReceivedAt: now.Add(-2 * time.Hour)}, true},
		{"no run timeout on a shared store: never", agent.ResumePolicy{},
			agent.Unfinished{ReceivedAt: now.Add(-1000 * time.Hour), Writes: wrote}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Dead(tt.u, now); got != tt.want {
				t.Errorf("Dead = %v, want %v", got, tt.want)
			}
		})
	}
}

// dyingWaiter ends the goroutine that waits (the run's) at its first wait,
// as a process killed during the settle wait ends: nothing after the wait
// runs, the deferred release of the subject's turn does (the file lock dies
// with its process).
type dyingWaiter struct{ died chan struct{} }

func (w dyingWaiter) Wait(context.Context, time.Duration) error {
	close(w.died)
	runtime.Goexit()
	return nil
}

func TestARunKilledDuringTheSettleWaitIsResumedByTheNext(t *testing.T) {
	ctx := context.Background()
	policy := &agent.ResumePolicy{TurnsSpanWriters: true, After: 15 * time.Minute}
	died := make(chan struct{})
	first := newHarness(t, setup{scenario: "high-cpu", notify: true, resume: policy,
		waiter: func(agent.Waiter) agent.Waiter { return dyingWaiter{died: died} }})
	go first.run()
	<-died
	want := first.after().Services["backend"].Replicas
	if want == first.start.Services["backend"].Replicas {
		t.Fatalf("the first run did not scale before its wait: %d replicas", want)
	}
	if n := len(first.p.Notifications()); n != 0 {
		t.Fatalf("the dead run sent %d notifications", n)
	}

	next := newHarness(t, setup{scenario: "high-cpu", notify: true, resume: policy, platform: first.p, state: first.state, store: first.st})
	s := next.run()

	res := of[agent.Resumed](next.events)
	if len(res) != 1 {
		t.Fatalf("%d Resumed events, want 1 (summary %+v)", len(res), s)
	}
	r := res[0]
	if len(r.Actions) != 1 || r.Actions[0].Tool != tools.ScaleDeployment || r.Actions[0].Target != "ai-data-labs/backend" {
		t.Errorf("resumed actions = %+v, want the scale of ai-data-labs/backend", r.Actions)
	}
	if r.Verification == nil || r.Verification.Result != platform.VerifyResolved {
		t.Errorf("resumed verification = %+v, want resolved", r.Verification)
	}
	if r.Notified == nil || !r.Notified.Delivered {
		t.Errorf("resumed notification = %+v, want delivered", r.Notified)
	}
	if got := next.after().Services["backend"].Replicas; got != want {
		t.Errorf("replicas after the next run = %d, want %d: one scale in all", got, want)
	}
	dead, err := first.st.GetAlert(ctx, r.AlertID)
	if err != nil || dead.Outcome != store.OutcomeResolved {
		t.Errorf("the dead run's alert: %+v, %v; want resolved", dead, err)
	}
	scales, err := first.st.ListScaleEvents(ctx, store.ScaleFilter{})
	if err != nil || len(scales) != 1 {
		t.Errorf("scale events = %+v, %v; want exactly one", scales, err)
	}
	notes := next.p.Notifications()
	if len(notes) == 0 || len(notes[0].Actions) != 1 || notes[0].Actions[0].Tool != string(tools.ScaleDeployment) {
		t.Errorf("notifications = %+v, want the scale told", notes)
	} else if want := fmt.Sprintf("alert %d", r.AlertID); notes[0].Fields["resumed"] != want || !strings.Contains(notes[0].Text, "this may repeat a message") {
		t.Errorf("resumed notification: field resumed %q, text %q; want %q and the warning of a repeat", notes[0].Fields["resumed"], notes[0].Text, want)
	}
	if s.AlertID == r.AlertID || r.By != s.AlertID {
		t.Errorf("resumed by alert %d, the next run's is %d", r.By, s.AlertID)
	}
}

func TestAPendingRunWithoutWritesIsNotResumedWhileYoung(t *testing.T) {
	ctx := context.Background()
	policy := &agent.ResumePolicy{TurnsSpanWriters: true, After: 15 * time.Minute}
	h := newHarness(t, setup{scenario: "high-cpu", resume: policy})
	waiting, err := h.st.RecordAlert(ctx, store.AlertRecord{Source: store.SourceText, Service: "backend", Namespace: "ai-data-labs", Env: store.EnvSimulated})
	if err != nil {
		t.Fatal(err)
	}
	h.run()
	if n := len(of[agent.Resumed](h.events)); n != 0 {
		t.Errorf("%d Resumed events, want none: a run waiting for its turn is alive", n)
	}
	if a, _ := h.st.GetAlert(ctx, waiting); a.Outcome != store.OutcomePending {
		t.Errorf("the waiting run's alert is %q, want still pending", a.Outcome)
	}
}

// takeoverWaiter claims the waiting run's own alert at its first wait, as a
// replica does that takes a run past its deadline for a dead one, then waits
// as inner does.
type takeoverWaiter struct {
	inner   agent.Waiter
	st      *store.Store
	claimed *int64
}

func (w takeoverWaiter) Wait(ctx context.Context, d time.Duration) error {
	if *w.claimed == 0 {
		pending, err := w.st.ListUnfinished(ctx, store.UnfinishedFilter{Env: store.EnvSimulated, Namespace: "ai-data-labs", Service: "backend"})
		if err != nil || len(pending) != 1 {
			return fmt.Errorf("pending alerts %+v, %v; want the run's own", pending, err)
		}
		if ok, err := w.st.ClaimUnfinished(ctx, pending[0].ID, "interrupted: resumed by another replica"); !ok || err != nil {
			return fmt.Errorf("claim: %v, %v", ok, err)
		}
		*w.claimed = pending[0].ID
	}
	return w.inner.Wait(ctx, d)
}

func TestALateRunLeavesTheOutcomeOfTheRunThatResumedIt(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.MemoryPath, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var claimed int64
	h := newHarness(t, setup{scenario: "high-cpu", store: st,
		waiter: func(in agent.Waiter) agent.Waiter { return takeoverWaiter{inner: in, st: st, claimed: &claimed} }})
	s := h.run()
	if claimed == 0 || claimed != s.AlertID {
		t.Fatalf("claimed alert %d, the run's is %d", claimed, s.AlertID)
	}
	if len(s.AuditErrors) != 0 || s.Resolution == agent.Failed {
		t.Errorf("resolution %q, audit errors %q: a taken-over alert is not a gap in the history", s.Resolution, s.AuditErrors)
	}
	if !strings.Contains(s.Headline, "another run resumed this alert") {
		t.Errorf("headline %q does not say another run resumed the alert", s.Headline)
	}
	a, err := st.GetAlert(ctx, s.AlertID)
	if err != nil || a.Outcome != store.OutcomeInterrupted {
		t.Errorf("the alert: %+v, %v; want the claim kept (interrupted) for its resumer", a, err)
	}
}
