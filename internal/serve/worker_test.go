package serve

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// deliver posts a delivery as the leader and runs the queued jobs in order.
func (e *testEnv) deliver(t *testing.T, body []byte) Answer {
	t.Helper()
	rec, ans := post(t, e.s, "Bearer "+testToken, body)
	if rec.Code >= 300 {
		t.Fatalf("delivery refused: %d %s", rec.Code, rec.Body.String())
	}
	e.drain(t)
	return ans
}

// drain runs every queued job in this goroutine.
func (e *testEnv) drain(t *testing.T) {
	t.Helper()
	for j := popNow(t, e.s.q); j != nil; j = popNow(t, e.s.q) {
		e.s.runJob(context.Background(), j)
		e.s.q.done(j)
		if j.busy != "" {
			e.s.releaseBusy(j.busy)
		}
	}
}

func TestAlertRunsOnceAcrossARestartSharingTheHistory(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.lead(t)
	body := payload(t, "firing", cpuAlert("backend", "fp1"))
	e.deliver(t, body)
	if n := len(e.runner.handled()); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
	// A new process on the same history: its memory is empty, the ledger is not.
	restarted := newTestEnvOn(t, e.store)
	restarted.lead(t)
	if ans := restarted.deliver(t, body); ans.Accepted != 1 {
		t.Fatalf("the restarted process did not accept the delivery: %+v", ans)
	}
	if n := len(restarted.runner.handled()); n != 0 {
		t.Fatalf("the restarted process ran the alert again (%d runs)", n)
	}
	if got := metricValue(restarted.s.m.deduplicated.WithLabelValues("ledger")); got != 1 {
		t.Errorf("ledger de-duplications %v, want 1", got)
	}
}

// newTestEnvOn builds a second server (another process) on the same store.
func newTestEnvOn(t *testing.T, st *store.Store) *testEnv {
	t.Helper()
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.s.d.Store, e.s.led.st, e.store = st, st, st
	return e
}

func TestResolvedAlertClosesItsIncidentAndStopsItsTimer(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.lead(t)
	inc, err := e.store.CreateIncident(ctx, store.Incident{Title: "ClickHouse OOM", Service: "clickhouse", Status: store.StatusEscalated})
	if err != nil {
		t.Fatal(err)
	}
	e.runner.result = agent.Summary{Resolution: agent.Escalated, Incident: inc.ID, Escalated: true}
	a := cpuAlert("clickhouse", "fp-ch")
	e.deliver(t, payload(t, "firing", a))
	if f, ok, _ := e.s.led.firing(ctx, "fp-ch"); !ok || f.Incident != inc.ID {
		t.Fatalf("firing record %+v %v, want it to name %s", f, ok, inc.ID)
	}

	e.deliver(t, payload(t, "resolved", resolvedOf(a)))
	got, timeline, err := e.store.GetIncident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusResolved {
		t.Fatalf("incident %s is %s, want resolved", inc.ID, got.Status)
	}
	if len(timeline) == 0 || timeline[len(timeline)-1].Kind != "resolved" {
		t.Errorf("timeline %+v, want a resolved entry last", timeline)
	}
	if _, ok, _ := e.s.led.firing(ctx, "fp-ch"); ok {
		t.Error("the resolved alert still has an escalation timer")
	}
	if metricValue(e.s.m.incidentsClosed) != 1 {
		t.Error("incidents resolved not counted")
	}
}

func TestLateFiringDeliveryOfAResolvedAlertDoesNotAct(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.lead(t)
	a := cpuAlert("backend", "fp1")
	e.deliver(t, payload(t, "resolved", resolvedOf(a)))
	// The other Alertmanager peer's firing notification arrives after the resolution.
	e.deliver(t, payload(t, "firing", a))
	if n := len(e.runner.handled()); n != 0 {
		t.Fatalf("%d runs for an alert already resolved, want 0", n)
	}
}

func TestLostLeadershipCancelsTheRunAndDropsQueuedWork(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.runner.started, e.runner.gate = make(chan alert.Alert, 1), make(chan struct{})
	lctx, lose := context.WithCancel(ctx)
	tm := e.s.startTerm(lctx)
	e.deliverNoDrain(t, payload(t, "firing", cpuAlert("backend", "fp1"), cpuAlert("backend", "fp2")))
	done := make(chan struct{})
	go func() { e.s.work(ctx); close(done) }()
	waitFor(t, e.runner.started, "the first run")
	lose()
	e.s.endTerm(tm)
	e.s.q.close()
	waitFor(t, done, "the worker")
	if n := len(e.runner.handled()); n != 1 {
		t.Fatalf("%d runs, want 1: the second alert was queued in the lost term", n)
	}
	recs, err := e.store.ListAlerts(ctx, store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Outcome != store.OutcomeFailed || !strings.Contains(recs[0].Error, "leadership_lost") {
		t.Fatalf("history %+v, want the dropped alert recorded as abandoned", recs)
	}
	// The run was cancelled before it acted: the next leader may run it.
	if ok, _, _ := e.s.led.claim(ctx, DeliveryKey("fp1", cpuAlert("backend", "fp1").StartsAt, "firing"), "next#1", "fp1", testStart, time.Minute); !ok {
		t.Error("a run cancelled before acting cannot be taken over")
	}
}

func (e *testEnv) deliverNoDrain(t *testing.T, body []byte) {
	t.Helper()
	if rec, _ := post(t, e.s, "Bearer "+testToken, body); rec.Code != http.StatusAccepted {
		t.Fatalf("delivery refused: %d %s", rec.Code, rec.Body.String())
	}
}

func TestShutdownFinishesInFlightWorkWithinTheGrace(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.runner.started, e.runner.gate = make(chan alert.Alert, 1), make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	addr, served := e.serve(t, ctx)
	postTo(t, addr, payload(t, "firing", cpuAlert("backend", "fp1")), http.StatusAccepted)
	waitFor(t, e.runner.started, "the run")
	stop()
	waitWaiters(t, e.clock, 1) // the shutdown waits for the grace
	if postStatus(addr, payload(t, "firing", cpuAlert("frontend", "fp2"))) == http.StatusAccepted {
		t.Error("a delivery was accepted after the stop signal")
	}
	close(e.runner.gate)
	if err := waitFor(t, served, "Serve to return"); err != nil {
		t.Fatal(err)
	}
	recs, _ := e.s.led.st.LoadState(context.Background(), store.EnvSimulated, deliveryPrefix+DeliveryKey("fp1", cpuAlert("backend", "fp1").StartsAt, "firing"))
	if !strings.Contains(string(recs), `"status":"done"`) {
		t.Fatalf("ledger %s, want the in-flight run done", recs)
	}
}

func TestShutdownCancelsWorkPastTheGrace(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.runner.started, e.runner.gate = make(chan alert.Alert, 1), make(chan struct{}) // never opened
	e.s.cfg.Workers = 1
	ctx, stop := context.WithCancel(context.Background())
	addr, served := e.serve(t, ctx)
	postTo(t, addr, payload(t, "firing", cpuAlert("backend", "fp1"), cpuAlert("backend", "fp2")), http.StatusAccepted)
	waitFor(t, e.runner.started, "the run")
	stop()
	waitWaiters(t, e.clock, 1)
	e.clock.Step(e.s.cfg.ShutdownGrace)
	if err := waitFor(t, served, "Serve to return"); err != nil {
		t.Fatal(err)
	}
	recs, _ := e.store.ListAlerts(context.Background(), store.AlertFilter{})
	if len(recs) != 1 || !strings.Contains(recs[0].Error, "shutdown") {
		t.Fatalf("history %+v, want the queued alert recorded as abandoned at shutdown", recs)
	}
	if got := metricValue(e.s.m.abandoned.WithLabelValues("shutdown")); got != 1 {
		t.Errorf("abandoned at shutdown %v, want 1", got)
	}
}

// serve runs the server on a loopback port until ctx ends.
func (e *testEnv) serve(t *testing.T, ctx context.Context) (string, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.s.Serve(ctx, ln) }()
	addr := "http://" + ln.Addr().String()
	for i := 0; ; i++ { // until the solo replica leads
		if _, why := e.s.acting(); why == "" {
			break
		}
		if i > 1e6 {
			t.Fatal("the server never led")
		}
		runtime.Gosched()
	}
	return addr, served
}

func postStatus(addr string, body []byte) int {
	req, _ := http.NewRequest(http.MethodPost, addr+"/webhook", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func postTo(t *testing.T, addr string, body []byte, want int) {
	t.Helper()
	if got := postStatus(addr, body); got != want {
		t.Fatalf("POST /webhook: %d, want %d", got, want)
	}
}

// waitWaiters spins until the fake clock has n timers or tickers waiting.
func waitWaiters(t *testing.T, c *clocktesting.FakeClock, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Waiters() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d clock waiters, want %d", c.Waiters(), n)
		}
		runtime.Gosched()
	}
}

func TestARunCancelledAfterItActedIsNotRunAgain(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.runner.started, e.runner.gate = make(chan alert.Alert, 1), make(chan struct{})
	e.runner.result.Actions = []agent.Action{{Tool: "scaleDeployment", Target: "ai-data-labs/backend", Status: "executed"}}
	lctx, lose := context.WithCancel(ctx)
	tm := e.s.startTerm(lctx)
	e.deliverNoDrain(t, payload(t, "firing", cpuAlert("backend", "fp1")))
	done := make(chan struct{})
	go func() { e.s.work(ctx); close(done) }()
	waitFor(t, e.runner.started, "the run")
	lose()
	e.s.endTerm(tm)
	e.s.q.close()
	waitFor(t, done, "the worker")
	if ok, _, _ := e.s.led.claim(ctx, DeliveryKey("fp1", cpuAlert("backend", "fp1").StartsAt, "firing"), "next#1", "fp1", testStart.Add(time.Hour), time.Minute); ok {
		t.Error("a run that scaled before it was cancelled can be run again")
	}
}

// TestADeliveryAfterTheClaimTimeoutOfADeadRunRunsIt: a replica that died
// mid-run left its claim; the leader honours it, then runs a delivery that
// comes after the claim timeout (whose run resumes what the dead one left
// unfinished) — not dropped as a duplicate remembered in memory.
func TestADeliveryAfterTheClaimTimeoutOfADeadRunRunsIt(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.lead(t)
	a := cpuAlert("backend", "fp1")
	if ok, _, err := e.s.led.claim(ctx, DeliveryKey("fp1", a.StartsAt, "firing"), "dead#1", "fp1", testStart, e.s.cfg.ClaimTimeout); !ok || err != nil {
		t.Fatalf("the dead replica's claim: %v, %v", ok, err)
	}
	body := payload(t, "firing", a)
	e.deliver(t, body)
	if n := len(e.runner.handled()); n != 0 {
		t.Fatalf("%d runs within the dead replica's claim, want 0", n)
	}
	e.clock.Step(e.s.cfg.ClaimTimeout + time.Second)
	if ans := e.deliver(t, body); ans.Accepted != 1 {
		t.Fatalf("the delivery after the claim timeout was not accepted: %+v", ans)
	}
	if n := len(e.runner.handled()); n != 1 {
		t.Errorf("%d runs after the claim timeout, want 1", n)
	}
}
