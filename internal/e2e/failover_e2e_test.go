//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/store/pgtest"
	"github.com/duet-company/ops-skill/internal/testenv"
)

const (
	leadingMsg = "leading: acting on alerts and running the loops"
	resumedMsg = "resumed the unfinished run of a process that died"
	// escalatingMsg is serve's log line as an escalation run starts.
	escalatingMsg = "alert still firing past the escalation time: escalating"
)

// count counts the log lines whose message starts with msg.
func (s *served) count(msg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.lines {
		if strings.HasPrefix(fmt.Sprint(m["msg"]), msg) {
			n++
		}
	}
	return n
}

// kill ends the process at once, as a node that dies does.
func (s *served) kill() { _ = s.cmd.Process.Signal(syscall.SIGKILL) }

// leaderOf waits until one replica, not among skip, leads.
func leaderOf(t *testing.T, reps []*served, skip ...*served) *served {
	t.Helper()
	var found *served
	eventually(t, time.Minute, "a leader", func() (bool, string) {
		for _, p := range reps {
			skipped := false
			for _, s := range skip {
				skipped = skipped || s == p
			}
			if !skipped && p.count(leadingMsg) > p.count("not leading any more") {
				found = p
				return true, ""
			}
		}
		return false, "no replica leads"
	})
	return found
}

// failover is one kill test: three `ops-skill serve` replicas on a
// namespace's Lease share a PostgreSQL history; one Alertmanager delivers
// the same CPU alert to all three and repeats it; the leader is killed
// (SIGKILL, as a node that dies) when kill says.
type failover struct {
	s       *stack
	ns      string
	states  map[*served]string // each replica's state directory
	st      *store.Store
	hook    *receiver
	reps    []*served
	first   *served
	second  *served
	killed  time.Time
	scaled  bool // the Deployment showed the scale when the leader was killed
	firstID int64
	release func() // gives back the turn holdTurn took; nil: none taken
}

// holdTurn takes the subject's turn as a run of serve takes it (the
// advisory file lock of compose.Subjects in the state directory) and
// returns its release.
func holdTurn(t *testing.T, stateDir, subject string) func() {
	t.Helper()
	dir := filepath.Join(stateDir, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(subject))
	fh, err := os.OpenFile(filepath.Join(dir, hex.EncodeToString(sum[:8])+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := false
	release := func() {
		if !done {
			done = true
			_ = syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
			_ = fh.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// failoverOpts shape one kill test.
type failoverOpts struct {
	// hold takes the subject's turn in the leader's state directory first,
	// so that its run records its alert and waits there, before acting,
	// until release.
	hold bool
	// escalateAfter, when set, is ESCALATION_HOURS (from the alert's start,
	// 5 minutes before it is fired); the escalation timers run every 2s and
	// the alert cooldown is 20s, so the escalation run may act.
	escalateAfter time.Duration
	// dsn, when set, is the shared history instead of a schema of the
	// stack's PostgreSQL (a server of the test's own, to stop and start).
	dsn string
}

// newFailover starts the replicas and fires the alert, as o says.
func newFailover(t *testing.T, prefix string, o failoverOpts) *failover {
	s := newStack(t, "kube", "prometheus", "workload", "alertmanager", "postgres")
	binary(t)
	dsn := o.dsn
	if dsn == "" {
		dsn = pgtest.URL(t)
	}
	f := &failover{s: s, ns: s.namespace(prefix), hook: newReceiver(t), states: map[*served]string{}}
	s.deployment(f.ns, "backend", 3, "1", "1Gi")
	s.waitReady(f.ns, "backend", 3)
	s.withCPUHistory(f.ns, 2.55, 30*time.Second, func(v float64) bool { return v > 84 })
	conf := "operations:\n  auto_scaling:\n    scale_up_duration: 30s\n  agent:\n    mode: auto\n    run_timeout: 45s\n"
	escalationPeriod := "0"
	if o.escalateAfter > 0 {
		conf += fmt.Sprintf("  alerting:\n    cooldown: 20s\n    escalation_hours: %g\n", o.escalateAfter.Hours())
		escalationPeriod = "2s"
	}
	env := map[string]string{"PROMETHEUS_URL": s.env["PROMETHEUS_URL"], "ALERT_WEBHOOK": f.hook.srv.URL + "/services/e2e", "OPS_SKILL_STORE_URL": dsn}
	token := tokenFile(t)
	var urls []string
	for _, name := range []string{"r1", "r2", "r3"} {
		u := s.user(f.ns, conf, env)
		srv := u.serve(token, "--scale-period", "0", "--escalation-period", escalationPeriod, "--lease-namespace", f.ns,
			"--identity", name, "--lease-duration", "4s", "--renew-deadline", "2s", "--retry-period", "500ms")
		f.reps, urls = append(f.reps, srv), append(urls, "http://"+srv.addr)
		f.states[srv] = filepath.Join(u.home, "state")
	}
	st, err := store.Open(context.Background(), dsn, clock.RealClock{})
	if err != nil {
		t.Fatalf("open the shared history: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f.st = st
	f.first = leaderOf(t, f.reps)
	if o.hold {
		f.release = holdTurn(t, f.states[f.first], f.ns+"/backend")
	}
	am := s.alertmanager(token, testenv.AlertmanagerRoute{GroupBy: []string{"alertname", "namespace", "service"}, Repeat: 20 * time.Second}, urls...)
	fire(t, am, map[string]string{"alertname": "BackendHighCPU", "namespace": f.ns, "service": "backend", "severity": "warning"},
		map[string]string{"summary": "Backend service CPU at 85% for 5 minutes"})
	return f
}

func (f *failover) replicas() int32 { return *f.s.getDeployment(f.ns, "backend").Spec.Replicas }

// pending is the first pending alert of backend in the history, 0 for none.
func (f *failover) pending(t *testing.T) int64 {
	alerts, err := f.st.ListAlerts(context.Background(), store.AlertFilter{Service: "backend", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if a.Outcome == store.OutcomePending {
			return a.ID
		}
	}
	return 0
}

// kill kills the leader and waits for the next one.
func (f *failover) kill(t *testing.T) {
	f.first.kill()
	f.killed = time.Now()
	f.scaled = f.replicas() == 4
	f.second = leaderOf(t, f.reps, f.first)
	t.Logf("failover: the Lease changed hands %s after the leader was killed", time.Since(f.killed).Round(100*time.Millisecond))
}

// check asserts what every case ends with: one scale in all and nothing
// pending (checkOneScale); one webhook message of the scale.
func (f *failover) check(t *testing.T) {
	t.Helper()
	f.checkOneScale(t)
	eventually(t, 30*time.Second, "the webhook message of the scale", func() (bool, string) {
		return told(f.hook, f.ns) > 0, fmt.Sprintf("%q", f.hook.received())
	})
	if n := told(f.hook, f.ns); n != 1 {
		t.Errorf("%d webhook messages name the scale of %s/backend from 3 to 4, want 1: %q", n, f.ns, f.hook.received())
	}
}

// checkOneScale asserts one scale in all, on the API server and in the
// history, and no alert left pending.
func (f *failover) checkOneScale(t *testing.T) {
	t.Helper()
	if r := f.replicas(); r != 4 {
		t.Errorf("backend has spec.replicas %d, want 4: one scale in all", r)
	}
	scales, err := f.st.ListScaleEvents(context.Background(), store.ScaleFilter{Service: "backend", Limit: 100})
	if err != nil || len(scales) != 1 {
		t.Errorf("scale events %+v, %v; want exactly one", scales, err)
	}
	if id := f.pending(t); id != 0 {
		t.Errorf("alert %d is still pending", id)
	}
}

// TestLeaderKilledBetweenActionAndVerification: the leader scales backend
// from 3 to 4 and is killed as soon as the API server shows the scale, in
// its settle wait. The new leader takes the Lease, runs the next delivery
// once the dead leader's claim has timed out, and resumes the dead run: it
// verifies the scale, notifies it and finishes the dead run's alert.
func TestLeaderKilledBetweenActionAndVerification(t *testing.T) {
	t.Parallel()
	f := newFailover(t, "e2e-kill-verify", failoverOpts{})
	eventually(t, 3*time.Minute, "the leader's scale on the API server", func() (bool, string) {
		r := f.replicas()
		return r == 4, fmt.Sprintf("spec.replicas %d", r)
	})
	f.kill(t)
	line := f.second.wait(5*time.Minute, resumedMsg)
	t.Logf("failover: the new leader's first action (verifying and notifying the dead run's scale) came %s after the kill",
		time.Since(f.killed).Round(100*time.Millisecond))
	if line["verification"] != "resolved" || fmt.Sprint(line["actions"]) != "1" {
		t.Errorf("resumed run: verification %v, actions %v; want resolved, 1 (%v)", line["verification"], line["actions"], line)
	}
	f.second.wait(2*time.Minute, "delivery recorded")
	f.check(t)
}

// TestLeaderKilledBeforeActing: the leader's run records its alert and
// waits for its subject's turn (the test holds the lock in the leader's
// state directory), and the leader is killed there, before acting. The new
// leader, once the dead leader's claim has timed out, finishes the dead
// run's alert (cancelled: it wrote nothing) and scales itself.
func TestLeaderKilledBeforeActing(t *testing.T) {
	t.Parallel()
	f := newFailover(t, "e2e-kill-before", failoverOpts{hold: true})
	eventually(t, 3*time.Minute, "the leader's run in the history", func() (bool, string) {
		f.firstID = f.pending(t)
		return f.firstID != 0, "no pending alert"
	})
	f.kill(t)
	f.release()
	if f.scaled {
		t.Fatal("the leader scaled although its run waited for the subject's turn")
	}
	eventually(t, 5*time.Minute, "the new leader's scale", func() (bool, string) {
		return f.replicas() == 4, fmt.Sprintf("spec.replicas %d", f.replicas())
	})
	t.Logf("failover: the new leader's first action (the scale) came %s after the kill", time.Since(f.killed).Round(100*time.Millisecond))
	f.second.wait(2*time.Minute, "delivery recorded")
	f.check(t)
	a, err := f.st.GetAlert(context.Background(), f.firstID)
	if err != nil || a.Outcome != store.OutcomeCancelled {
		t.Errorf("the dead run's alert: %+v, %v; want cancelled (it wrote nothing)", a, err)
	}
	scales, _ := f.st.ListScaleEvents(context.Background(), store.ScaleFilter{Service: "backend", Limit: 10})
	if len(scales) == 1 && scales[0].AlertID == f.firstID {
		t.Errorf("the scale belongs to the dead run's alert %d, want the new leader's", f.firstID)
	}
}

// TestLeaderKilledDuringTheEscalationWait: the leader scales backend,
// verifies and records the delivery, and the alert keeps firing; the leader
// is killed while its escalation timer (in the shared store) runs. The new
// leader escalates the alert once, when the timer is due, and acts on none
// of Alertmanager's repeats.
func TestLeaderKilledDuringTheEscalationWait(t *testing.T) {
	t.Parallel()
	// The alert started 5 minutes before it fires: escalation is due about
	// 70s after the first delivery, once the failover is over.
	f := newFailover(t, "e2e-kill-escalate", failoverOpts{escalateAfter: 5*time.Minute + 70*time.Second})
	f.first.wait(3*time.Minute, "delivery recorded")
	if f.first.count(escalatingMsg) != 0 {
		t.Fatal("the leader escalated before it was killed: the timer is too short for this test")
	}
	f.kill(t)
	f.second.wait(4*time.Minute, escalatingMsg)
	t.Logf("failover: the new leader escalated %s after the kill", time.Since(f.killed).Round(100*time.Millisecond))
	ctx := context.Background()
	eventually(t, time.Minute, "the escalation recorded", func() (bool, string) {
		incs, err := f.st.QueryIncidents(ctx, store.IncidentFilter{Limit: 100})
		if err != nil {
			return false, err.Error()
		}
		return escalatedIncidents(incs, f.ns) == 1, fmt.Sprintf("%+v", incs)
	})
	// Two more rounds of the timers and one repeat of Alertmanager: nothing
	// more is escalated or scaled.
	time.Sleep(25 * time.Second)
	n := 0
	for _, r := range f.reps {
		n += r.count(escalatingMsg)
	}
	if n != 1 {
		t.Errorf("%d escalation runs across the replicas, want 1", n)
	}
	f.check(t)
	escalations := 0
	for _, m := range f.hook.received() {
		if strings.Contains(m, "Escalated to engineering") { // the notification's line (internal/agent/notify.go)
			escalations++
		}
	}
	if escalations != 1 {
		t.Errorf("%d webhook messages escalate %s/backend to engineering, want 1: %q", escalations, f.ns, f.hook.received())
	}
}

// TestServeRidesOutAPostgresRestart: the shared history's PostgreSQL (a
// server of the test's own) stops as soon as the leader's scale shows on
// the API server, in its settle wait. The replicas say they are not ready,
// naming the store, and never show its password; nothing is half-written.
// Once PostgreSQL is back they are ready again, and the leader, on a later
// delivery past the claim timeout, resumes the run the outage broke: one
// scale in all, nothing left pending.
func TestServeRidesOutAPostgresRestart(t *testing.T) {
	t.Parallel()
	const password = "e2e-restart-s3cret"
	pg := pgtest.StartServer(t)
	f := newFailover(t, "e2e-pg-restart", failoverOpts{dsn: pg.URL(password)})
	eventually(t, 3*time.Minute, "the leader's scale on the API server", func() (bool, string) {
		r := f.replicas()
		return r == 4, fmt.Sprintf("spec.replicas %d", r)
	})
	pg.Stop()
	stopped := time.Now()
	readyz := func(r *served) (int, string) {
		resp, err := http.Get("http://" + r.addr + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	eventually(t, 30*time.Second, "every replica not ready while the store is down", func() (bool, string) {
		for _, r := range f.reps {
			if code, body := readyz(r); code != http.StatusServiceUnavailable || strings.Contains(body, password) {
				return false, fmt.Sprintf("%s: %d %s", r.addr, code, body)
			}
		}
		return true, ""
	})
	f.first.wait(time.Minute, "delivery ledger not updated") // the run's end could not be recorded
	time.Sleep(5 * time.Second)
	pg.Start()
	back := time.Now()
	t.Logf("PostgreSQL was down for %s", back.Sub(stopped).Round(100*time.Millisecond))
	eventually(t, 30*time.Second, "every replica ready once the store is back", func() (bool, string) {
		for _, r := range f.reps {
			if code, body := readyz(r); code != http.StatusOK {
				return false, fmt.Sprintf("%s: %d %s", r.addr, code, body)
			}
		}
		return true, ""
	})
	line := f.first.wait(5*time.Minute, resumedMsg)
	t.Logf("the leader resumed the broken run %s after PostgreSQL came back", time.Since(back).Round(100*time.Millisecond))
	if line["verification"] != "resolved" || fmt.Sprint(line["actions"]) != "1" {
		t.Errorf("resumed run: verification %v, actions %v; want resolved, 1 (%v)", line["verification"], line["actions"], line)
	}
	f.first.wait(2*time.Minute, "delivery recorded")
	f.checkOneScale(t)
	// Notifications are at least once: the outage may have cut the record
	// of one already sent, and the resumed run tells it again.
	if n := told(f.hook, f.ns); n < 1 || n > 2 {
		t.Errorf("%d webhook messages name the scale of %s/backend, want 1 or 2: %q", n, f.ns, f.hook.received())
	} else {
		t.Logf("%d webhook message(s) of the scale", n)
	}
	if n := told(f.hook, f.ns); n == 2 {
		f.hook.expect(t, "this may repeat a message") // the resumed run's repeat says it may be one
	}
	for _, r := range f.reps {
		r.mu.Lock()
		leaked := strings.Contains(r.raw.String(), password)
		r.mu.Unlock()
		if leaked {
			t.Errorf("the log of %s shows the store's password", r.addr)
		}
	}
}

// escalatedIncidents counts the escalated incidents about ns/backend.
func escalatedIncidents(incs []store.Incident, ns string) int {
	n := 0
	for _, i := range incs {
		if i.Subject == ns+"/backend" && i.Status == store.StatusEscalated {
			n++
		}
	}
	return n
}

// told counts the webhook messages that name the scale of ns/backend.
func told(hook *receiver, ns string) int {
	n := 0
	for _, m := range hook.received() {
		if strings.Contains(m, ns+"/backend from 3 to 4 replicas") {
			n++
		}
	}
	return n
}
