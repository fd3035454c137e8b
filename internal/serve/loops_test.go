package serve

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/tools"
)

func TestHealthRoundFollowsTheSelfHealingLadder(t *testing.T) {
	tests := []struct {
		failures int
		want     string // the ladder step named by the synthetic alert; "" for none
	}{
		{0, ""}, {2, ""}, {3, "restart"}, {4, "restart"}, {5, "replace"}, {6, "escalate"},
	}
	for _, tt := range tests {
		h := &fakeHealth{}
		h.set(platform.HealthResult{Service: "frontend", OK: tt.failures == 0, ConsecutiveFailures: tt.failures, Detail: "http /health: HTTP 503"})
		h.set(platform.HealthResult{Service: "backend", OK: true})
		// No health loop: the round runs once, here, so no loop's own first
		// round can race with it. The interval still dates the alert's start.
		e := newTestEnv(t, quietConfig(), tools.Deps{Health: h})
		tm := e.lead(t)
		e.s.cfg.HealthInterval = 30 * time.Second
		e.s.healthRound(context.Background(), tm)
		e.drain(t)
		runs := e.runner.handled()
		if tt.want == "" {
			if len(runs) != 0 {
				t.Errorf("%d failures: %d runs, want none", tt.failures, len(runs))
			}
			continue
		}
		if len(runs) != 1 {
			t.Fatalf("%d failures: %d runs, want 1", tt.failures, len(runs))
		}
		a := runs[0]
		if a.Kind != alert.KindHealth || a.Target() != "ai-data-labs/frontend" || a.Attempts != tt.failures ||
			!strings.Contains(a.Text, "ladder: "+tt.want) {
			t.Errorf("%d failures: alert %+v, want a health alert on ai-data-labs/frontend at ladder step %s", tt.failures, a, tt.want)
		}
		if want := testStart.Add(-time.Duration(tt.failures-1) * 30 * time.Second); !a.StartsAt.Equal(want) {
			t.Errorf("%d failures: starts at %s, want the first failure %s", tt.failures, a.StartsAt, want)
		}
	}
}

func TestHealthRoundDoesNotQueueASecondRunForTheSameService(t *testing.T) {
	h := &fakeHealth{}
	h.set(platform.HealthResult{Service: "frontend", ConsecutiveFailures: 3})
	cfg := quietConfig()
	cfg.HealthInterval = 30 * time.Second
	e := newTestEnv(t, cfg, tools.Deps{Health: h})
	tm := e.lead(t)
	e.s.healthRound(context.Background(), tm)
	e.s.healthRound(context.Background(), tm)
	if n := e.s.q.len(); n != 1 {
		t.Fatalf("%d jobs queued by two rounds, want 1", n)
	}
	e.drain(t)
	e.s.healthRound(context.Background(), tm)
	if n := e.s.q.len(); n != 1 {
		t.Fatalf("%d jobs after the first ran, want a new one", n)
	}
}

func TestRestartLadderStepsHaveTheirOwnFingerprints(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	seen := map[string]bool{}
	for _, n := range []int{3, 4, 5, 6} {
		a := e.s.healthAlert(platform.HealthResult{Service: "frontend", ConsecutiveFailures: n}, e.reg.Policy().Healing.Ladder(n))
		seen[a.Fingerprint] = true
	}
	if len(seen) != 3 {
		t.Fatalf("%d fingerprints for restart, restart, replace, escalate; want 3 (one per step)", len(seen))
	}
}

// simDeps are registry dependencies on a simulated platform.
func simDeps(t *testing.T, scenario string) (tools.Deps, *sim.Platform) {
	t.Helper()
	sc, err := sim.LoadScenario(sim.Scenarios(), scenario)
	if err != nil {
		t.Fatal(err)
	}
	p := sim.New(sc, testStart)
	return tools.Deps{Cluster: p.Cluster(), Metrics: p.Metrics(), Health: p.Health(), Notifier: p.Notifier(), Clock: p.Clock(),
		State: tools.NewMemoryState()}, p
}

func TestScalingLoopOnlyProposesAndTheGuardDecides(t *testing.T) {
	tests := []struct {
		scenario     string
		wantReplicas int32
		wantNotes    int
	}{
		{"high-cpu", 4, 1},                // CPU 85% sustained: +1, clamped from the max
		{"healthy", 3, 0},                 // nothing fires: both proposals refused
		{"high-cpu-hpa-owned", 3, 0},      // an HPA owns the replicas: refused at once
		{"low-cpu-at-min-replicas", 2, 0}, // at the minimum: nothing to lower
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			deps, p := simDeps(t, tt.scenario)
			cfg := quietConfig()
			cfg.ScalePeriod = time.Minute
			cfg.ScaleWorkloads = []platform.WorkloadRef{{Namespace: "ai-data-labs", Name: "backend"}}
			e := newTestEnv(t, cfg, deps)
			tm := e.lead(t)
			e.s.scaleRound(tm)
			e.drain(t)
			w, err := p.Cluster().GetWorkload(context.Background(), platform.WorkloadRef{Namespace: "ai-data-labs", Name: "backend"})
			if err != nil {
				t.Fatal(err)
			}
			if w.Replicas != tt.wantReplicas {
				t.Errorf("backend has %d replicas, want %d", w.Replicas, tt.wantReplicas)
			}
			if n := len(p.Notifications()); n != tt.wantNotes {
				t.Errorf("%d notifications, want %d", n, tt.wantNotes)
			}
			if len(e.runner.handled()) != 0 {
				t.Error("the scaling loop ran the agent")
			}
		})
	}
}

func TestEscalationRoundEscalatesFiringAlertsOnce(t *testing.T) {
	ctx := context.Background()
	cfg := quietConfig()
	cfg.EscalationPeriod = time.Minute
	e := newTestEnv(t, cfg, tools.Deps{})
	tm := e.lead(t)
	for fp, age := range map[string]time.Duration{"old": 90 * time.Minute, "young": 20 * time.Minute} {
		e.trackFiring(t, fp, age)
	}
	e.runner.result.Escalated, e.runner.result.Incident = true, "INC-2026-11-26-001"
	e.s.escalationRound(ctx, tm)
	e.drain(t)
	e.s.escalationRound(ctx, tm) // already escalated: nothing more
	e.drain(t)
	runs := e.runner.handled()
	if len(runs) != 1 || runs[0].Fingerprint != "old" {
		t.Fatalf("escalation runs %v, want one for the alert firing past ESCALATION_HOURS", runs)
	}
	if f, _, _ := e.s.led.firing(ctx, "old"); !f.Escalated || f.Incident != "INC-2026-11-26-001" {
		t.Errorf("firing record %+v, want escalated with the incident", f)
	}
}

// An escalation run that did not escalate (skipped by the alert cooldown,
// failed, cancelled) leaves the timer armed for the next round: marking it
// escalated would mean the alert is never escalated.
func TestEscalationRoundRetriesARunThatDidNotEscalate(t *testing.T) {
	ctx := context.Background()
	cfg := quietConfig()
	cfg.EscalationPeriod = time.Minute
	e := newTestEnv(t, cfg, tools.Deps{})
	tm := e.lead(t)
	e.trackFiring(t, "old", 90*time.Minute)
	e.runner.result = agent.Summary{Resolution: agent.NoAction, Headline: "Skipped: the same alert was acted on 2m ago",
		Refusals: []agent.Refusal{{Tool: "alert", Target: "ai-data-labs/backend", Rule: guard.RuleAlertCooldown, Reason: "the same alert was acted on 2m ago"}}}
	e.s.escalationRound(ctx, tm)
	e.drain(t)
	if f, _, _ := e.s.led.firing(ctx, "old"); f.Escalated {
		t.Fatalf("firing record %+v marked escalated by a run that skipped", f)
	}
	e.runner.result = agent.Summary{Resolution: agent.Escalated, Incident: "INC-2026-11-26-002", Escalated: true}
	e.s.escalationRound(ctx, tm)
	e.drain(t)
	e.s.escalationRound(ctx, tm)
	e.drain(t)
	if runs := e.runner.handled(); len(runs) != 2 {
		t.Errorf("%d escalation runs, want 2: the skipped one and the one that escalated", len(runs))
	}
	if f, _, _ := e.s.led.firing(ctx, "old"); !f.Escalated || f.Incident != "INC-2026-11-26-002" {
		t.Errorf("firing record %+v, want escalated with the incident", f)
	}
}

func TestLoopsRunAtOnceThenEveryPeriod(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	rounds := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		e.s.every(ctx, "test", time.Minute, func(context.Context) { rounds <- struct{}{} })
		close(done)
	}()
	waitFor(t, rounds, "the first round")
	waitWaiters(t, e.clock, 1)
	e.clock.Step(59 * time.Second)
	select {
	case <-rounds:
		t.Fatal("a round before the period")
	default:
	}
	e.clock.Step(time.Second)
	waitFor(t, rounds, "the second round")
	cancel()
	waitFor(t, done, "the loop to stop")
}

func TestWatchdogEndsLeadershipWhenRenewalsStop(t *testing.T) {
	fc := clocktesting.NewFakeClock(testStart)
	var lastNanos atomic.Int64
	lastNanos.Store(testStart.UnixNano())
	lastFn := func() time.Time { return time.Unix(0, lastNanos.Load()) }
	ctx, cancel := watchRenewals(context.Background(), fc, lastFn, 9*time.Second, time.Second)
	defer cancel()
	for range 8 { // renewed every 2s: never overdue
		waitWaiters(t, fc, 1)
		fc.Step(time.Second)
		if fc.Now().Sub(lastFn()) >= 2*time.Second {
			lastNanos.Store(fc.Now().UnixNano())
		}
	}
	if ctx.Err() != nil {
		t.Fatal("the leadership ended while renewals succeeded")
	}
	for range 10 { // renewals stop
		waitWaiters(t, fc, 1)
		fc.Step(time.Second)
		if ctx.Err() != nil {
			break
		}
	}
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), errRenewalOverdue) {
		t.Fatalf("ended with %v, want errRenewalOverdue", context.Cause(ctx))
	}
	if overdue := fc.Now().Sub(lastFn()); overdue > 10*time.Second {
		t.Errorf("stopped %s after the last renewal, want within the 10s renew deadline", overdue)
	}
}

func TestLeaseTimingMustStopTheOldLeaderFirst(t *testing.T) {
	tests := []struct {
		t    LeaseTiming
		okay bool
	}{
		{DefaultLeaseTiming(), true},
		{LeaseTiming{LeaseDuration: 6 * time.Second, RenewDeadline: 4 * time.Second, RetryPeriod: time.Second}, true},
		{LeaseTiming{LeaseDuration: 10 * time.Second, RenewDeadline: 9 * time.Second, RetryPeriod: 2 * time.Second}, false},
		{LeaseTiming{LeaseDuration: 15 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 2 * time.Second}, false},
	}
	for _, tt := range tests {
		if err := tt.t.Validate(); (err == nil) != tt.okay || (err != nil && !errors.Is(err, ErrConfig)) {
			t.Errorf("%+v: %v, want ok=%v", tt.t, err, tt.okay)
		}
	}
}

// fakeLeases is a Lease client that accepts every create and update.
type fakeLeases struct {
	coordinationv1client.LeaseInterface
	fail bool
}

func (f *fakeLeases) Leases(string) coordinationv1client.LeaseInterface { return f }

func (f *fakeLeases) Create(_ context.Context, l *coordinationv1.Lease, _ metav1.CreateOptions) (*coordinationv1.Lease, error) {
	if f.fail {
		return nil, errors.New("apiserver unreachable")
	}
	return l, nil
}

func (f *fakeLeases) Update(_ context.Context, l *coordinationv1.Lease, _ metav1.UpdateOptions) (*coordinationv1.Lease, error) {
	if f.fail {
		return nil, errors.New("apiserver unreachable")
	}
	return l, nil
}

func TestLeaseLeadershipIsConfirmedOnlyByRecentRenewals(t *testing.T) {
	fc := clocktesting.NewFakeClock(testStart)
	leases := &fakeLeases{}
	e, err := NewLeaseElector(leases, "ns", "lease", "me", DefaultLeaseTiming(), fc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Confirmed() {
		t.Fatal("confirmed before any renewal")
	}
	mine := resourcelock.LeaderElectionRecord{HolderIdentity: "me", LeaseDurationSeconds: 15}
	if err := e.lock.Create(context.Background(), mine); err != nil {
		t.Fatal(err)
	}
	fc.Step(8 * time.Second)
	if !e.Confirmed() {
		t.Fatal("not confirmed 8s after a renewal (deadline 10s)")
	}
	fc.Step(2 * time.Second) // 10s: past the renew deadline less half a retry period
	if e.Confirmed() {
		t.Fatal("still confirmed at the renew deadline")
	}
	leases.fail = true
	_ = e.lock.Update(context.Background(), mine)
	if e.Confirmed() {
		t.Fatal("a failed renewal confirmed the leadership")
	}
	leases.fail = false
	_ = e.lock.Update(context.Background(), resourcelock.LeaderElectionRecord{HolderIdentity: ""}) // the release
	if e.Confirmed() {
		t.Fatal("releasing the lease confirmed the leadership")
	}
}

// trackFiring records the alert fp of ai-data-labs/backend as firing since age ago.
func (e *testEnv) trackFiring(t *testing.T, fp string, age time.Duration) {
	t.Helper()
	a := alert.Alert{Text: fp + " alert", Service: "backend", Namespace: "ai-data-labs", StartsAt: testStart.Add(-age), Fingerprint: fp}
	if err := e.s.led.track(context.Background(), fp, firing{Alert: a, Lane: "ai-data-labs/backend"}); err != nil {
		t.Fatal(err)
	}
}

// The timer ends once an escalation run decides, whatever it decided: in
// observe mode it pages nobody and opens no incident, and running it again
// every round would change nothing.
func TestEscalationDecided(t *testing.T) {
	cooldown := agent.Refusal{Tool: "alert", Rule: guard.RuleAlertCooldown}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		sum  agent.Summary
		want bool
	}{
		{"escalated with an incident", context.Background(), agent.Summary{Resolution: agent.Escalated, Escalated: true, Incident: "INC-2026-11-26-001"}, true},
		{"observe mode: unresolved, no incident, nobody paged", context.Background(), agent.Summary{Resolution: agent.Unresolved}, true},
		{"skipped by the alert cooldown", context.Background(), agent.Summary{Resolution: agent.NoAction, Refusals: []agent.Refusal{cooldown}}, false},
		{"failed", context.Background(), agent.Summary{Resolution: agent.Failed}, false},
		{"cancelled", context.Background(), agent.Summary{Resolution: agent.Cancelled}, false},
		{"serve stopping", done, agent.Summary{Resolution: agent.Escalated, Escalated: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escalationDecided(tt.ctx, tt.sum); got != tt.want {
				t.Errorf("escalationDecided = %v, want %v", got, tt.want)
			}
		})
	}
}
