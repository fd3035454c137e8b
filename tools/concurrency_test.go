package tools_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

func TestConcurrentIdenticalWritesExecuteOnce(t *testing.T) {
	e := newEnv(t, "high-cpu")
	run := autoRun()
	const n = 8
	outs := make([]tools.Outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = e.call(run, "scaleDeployment", scaleBackendTo4)
		}()
	}
	wg.Wait()
	executed := 0
	for _, o := range outs {
		switch {
		case o.Status == tools.StatusExecuted:
			executed++
		case o.Status != tools.StatusRefused || o.Rule != "writes.duplicate":
			t.Errorf("unexpected outcome %s %s: %s %s", o.Status, o.Rule, o.Reason, o.Error)
		}
	}
	if executed != 1 || run.Writes() != 1 {
		t.Errorf("%d executed, %d counted; want exactly 1", executed, run.Writes())
	}
	if got := e.p.Snapshot().Services["backend"].Replicas; got != 4 {
		t.Errorf("backend at %d replicas, want 4", got)
	}
	if len(e.rec.Calls()) != n {
		t.Errorf("%d calls recorded, want %d", len(e.rec.Calls()), n)
	}
}

// holdFirst blocks the first workload read until released, so a test can
// run other calls while the first write is in flight.
type holdFirst struct {
	platform.Cluster
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (h *holdFirst) GetWorkload(ctx context.Context, ref platform.WorkloadRef) (platform.Workload, error) {
	first := false
	h.once.Do(func() { first = true })
	if first {
		close(h.entered)
		<-h.release
	}
	return h.Cluster.GetWorkload(ctx, ref)
}

func TestAWriteInFlightHoldsItsPlaceInTheRun(t *testing.T) {
	cases := []struct {
		name, tool, args string
		maxWrites        int
		rule, reason     string
	}{
		{"the same write", "scaleDeployment", scaleBackendTo4, 5, "writes.duplicate", "already in progress"},
		{"a write over the budget", "restartPods", `{"namespace":"ai-data-labs","name":"frontend"}`, 1, guard.RuleWritesMaxPerRun, "write 2 of the run"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &holdFirst{entered: make(chan struct{}), release: make(chan struct{})}
			e := newEnv(t, "high-cpu", wrapCluster(func(cl platform.Cluster) platform.Cluster { h.Cluster = cl; return h }))
			run := tools.NewRun(1, guard.ModeAuto, nil, c.maxWrites)
			first := make(chan tools.Outcome)
			go func() { first <- e.call(run, "scaleDeployment", scaleBackendTo4) }()
			<-h.entered
			o := e.call(run, c.tool, c.args)
			close(h.release)
			f := <-first
			mustStatus(t, f, tools.StatusExecuted)
			mustStatus(t, o, tools.StatusRefused)
			if o.Rule != c.rule || !strings.Contains(o.Reason, c.reason) {
				t.Errorf("second call: rule %q reason %q, want %q containing %q", o.Rule, o.Reason, c.rule, c.reason)
			}
			if run.Writes() != 1 || e.p.Snapshot().Services["backend"].Replicas != 4 {
				t.Errorf("%d writes, backend at %d", run.Writes(), e.p.Snapshot().Services["backend"].Replicas)
			}
			// Once the first write is done, its slot is no longer pending.
			if c.maxWrites > 1 {
				again := e.call(run, "restartPods", `{"namespace":"ai-data-labs","name":"frontend"}`)
				if again.Rule == guard.RuleWritesMaxPerRun || again.Rule == "writes.duplicate" {
					t.Errorf("after the write: %s %s", again.Rule, again.Reason)
				}
			}
		})
	}
}
