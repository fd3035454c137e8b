//go:build integration

package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/store/pgtest"
)

// stoppingWaiter stops PostgreSQL at the run's first wait (after its
// write, before its verification), then waits as the platform does.
type stoppingWaiter struct {
	agent.Waiter
	stop    func()
	stopped bool
}

func (w *stoppingWaiter) Wait(ctx context.Context, d time.Duration) error {
	if !w.stopped {
		w.stopped = true
		w.stop()
	}
	return w.Waiter.Wait(ctx, d)
}

// TestPostgresRestartedMidRun: the history's PostgreSQL (a server of this
// test's own) stops in the settle wait after a scale. The run ends failed
// with a clear error about the history and the password shows nowhere; what
// was committed is whole (the scale's call is recorded executed, the alert
// pending, no intent left); once PostgreSQL is back, the next run past the
// run timeout resumes it — verified, told, finished — and scales nothing more.
func TestPostgresRestartedMidRun(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.StartServer(t)
	const password = "restart-s3cret-pw"
	p := sim.New(loadScenario(t, "high-cpu"), fixedStart)
	st, err := store.Open(ctx, pg.URL(password), p.Clock())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	policy := &agent.ResumePolicy{After: 15 * time.Minute} // a shared store: only the age proves a run dead
	w := &stoppingWaiter{stop: pg.Stop}
	first := newHarness(t, setup{scenario: "high-cpu", notify: true, resume: policy, platform: p, store: st,
		waiter: func(inner agent.Waiter) agent.Waiter { w.Waiter = inner; return w }})
	s := first.run()
	if s.Resolution != agent.Failed || len(s.AuditErrors) == 0 || !strings.Contains(s.Error, "history incomplete") {
		t.Errorf("the run with its history gone: %s, %q, audit %q; want failed, saying the history is incomplete", s.Resolution, s.Error, s.AuditErrors)
	}
	for _, e := range first.events.all() {
		if b, _ := agent.MarshalEvent(e); strings.Contains(string(b), password) {
			t.Fatalf("an event shows the store's password: %s", b)
		}
	}
	scaled := p.Snapshot().Services["backend"].Replicas

	pg.Start()
	poll(t, func() bool { _, err := st.SchemaVersion(ctx); return err == nil })
	calls, err := st.ListToolCalls(ctx, s.AlertID)
	if err != nil {
		t.Fatal(err)
	}
	executed := 0
	for _, c := range calls {
		if c.Verdict == store.VerdictIntent {
			t.Errorf("an intent was left half-written: %+v", c)
		}
		if c.Write && c.Verdict == store.VerdictExecuted {
			executed++
		}
	}
	if a, err := st.GetAlert(ctx, s.AlertID); err != nil || a.Outcome != store.OutcomePending || executed != 1 {
		t.Fatalf("after the restart: alert %+v, %v, %d executed writes; want pending with the one scale", a, err, executed)
	}

	p.Advance(policy.After)
	next := newHarness(t, setup{scenario: "high-cpu", notify: true, resume: policy, platform: p, state: first.state, store: st})
	next.run()
	res := of[agent.Resumed](next.events)
	if len(res) != 1 || res[0].AlertID != s.AlertID || res[0].Verification == nil || res[0].Verification.Result != platform.VerifyResolved {
		t.Fatalf("resumed %+v; want the first run's alert, verified resolved", res)
	}
	if a, _ := st.GetAlert(ctx, s.AlertID); a.Outcome != store.OutcomeResolved {
		t.Errorf("the first run's alert is %q after the resume, want resolved", a.Outcome)
	}
	if got := p.Snapshot().Services["backend"].Replicas; got != scaled {
		t.Errorf("replicas %d after the resume, want %d: no second scale", got, scaled)
	}
}

// poll checks cond every 50ms for up to 30s (PostgreSQL coming back).
func poll(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("PostgreSQL did not answer within 30s of its restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
