package agent_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
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
