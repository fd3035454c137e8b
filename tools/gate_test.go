package tools_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

const scaleBackendTo4 = `{"namespace":"ai-data-labs","name":"backend","replicas":4}`

func TestNamespaceOutsideTheAllowlistIsRefused(t *testing.T) {
	cases := []struct{ tool, args string }{
		{"getServiceStatus", `{"namespace":"kube-system","name":"coredns"}`},
		{"getLogs", `{"namespace":"kube-system","name":"coredns"}`},
		{"queryMetrics", `{"namespace":"kube-system","name":"coredns","metric":"cpu_utilization"}`},
		{"queryMetrics", `{"namespace":"kube-system","promql":"up"}`},
		{"scaleDeployment", `{"namespace":"kube-system","name":"coredns","replicas":4}`},
		{"scaleDeployment", `{"namespace":"default","name":"backend","replicas":4}`},
		{"restartPods", `{"namespace":"kube-system","name":"coredns"}`},
		{"updateResources", `{"namespace":"ai-data-labs-prod","name":"clickhouse","memoryLimit":"8Gi"}`},
	}
	for _, c := range cases {
		t.Run(c.tool+" "+c.args, func(t *testing.T) {
			e := newEnv(t, "high-cpu")
			before := e.p.Snapshot()
			o := e.call(autoRun(), c.tool, c.args)
			mustStatus(t, o, tools.StatusRefused)
			if o.Rule != guard.RuleNamespaceNotAllowed || !strings.Contains(o.Reason, "not on the allowlist (ai-data-labs)") {
				t.Errorf("rule %q reason %q", o.Rule, o.Reason)
			}
			if calls := e.rec.Calls(); len(calls) != 1 || calls[0].Status != tools.StatusRefused || calls[0].Rule != guard.RuleNamespaceNotAllowed {
				t.Errorf("recorded %+v", calls)
			}
			if after := e.p.Snapshot(); after.Services["backend"] != before.Services["backend"] {
				t.Errorf("backend changed: %+v", after.Services["backend"])
			}
		})
	}
}

func TestEmptyAllowlistAllowsNothing(t *testing.T) {
	e := newEnv(t, "high-cpu", withPolicy(func(p *tools.Policy) { p.Scope = guard.Scope{} }))
	o := e.call(autoRun(), "getServiceStatus", `{"namespace":"ai-data-labs","name":"backend"}`)
	mustStatus(t, o, tools.StatusRefused)
	if o.Rule != guard.RuleNamespaceNotAllowed {
		t.Errorf("rule %q", o.Rule)
	}
}

func TestWriteBudgetRefusesTheWriteAfterTheLast(t *testing.T) {
	// The second write, scaling the (idle) frontend, is one the scaling rules
	// refuse; the budget must refuse it first, before anything is read.
	cases := []struct {
		maxWrites                 int
		firstStatus               tools.Status
		firstRule, secondRule     string
		backendReplicas, numWrite int
	}{
		{0, tools.StatusRefused, guard.RuleWritesMaxPerRun, guard.RuleWritesMaxPerRun, 3, 0},
		{1, tools.StatusExecuted, guard.RuleScaleUpCPU, guard.RuleWritesMaxPerRun, 4, 1},
		{2, tools.StatusExecuted, guard.RuleScaleUpCPU, guard.RuleScaleUpCPU, 4, 1},
	}
	for _, c := range cases {
		e := newEnv(t, "high-cpu")
		run := tools.NewRun(1, guard.ModeAuto, nil, c.maxWrites)
		first := e.call(run, "scaleDeployment", scaleBackendTo4)
		second := e.call(run, "scaleDeployment", `{"namespace":"ai-data-labs","name":"frontend","replicas":3}`)
		read := e.call(run, "getServiceStatus", `{"namespace":"ai-data-labs","name":"frontend"}`)
		if first.Status != c.firstStatus || first.Rule != c.firstRule {
			t.Errorf("max %d: first write %s %s (%s)", c.maxWrites, first.Status, first.Rule, first.Reason)
		}
		if second.Status != tools.StatusRefused || second.Rule != c.secondRule {
			t.Errorf("max %d: second write %s %s (%s)", c.maxWrites, second.Status, second.Rule, second.Reason)
		}
		if c.secondRule == guard.RuleWritesMaxPerRun && !strings.Contains(second.Reason, "at most") {
			t.Errorf("max %d: budget reason %q", c.maxWrites, second.Reason)
		}
		mustStatus(t, read, tools.StatusOK) // reads are never budgeted
		snap := e.p.Snapshot()
		if int(snap.Services["backend"].Replicas) != c.backendReplicas || snap.Services["frontend"].Replicas != 2 {
			t.Errorf("max %d: backend %d frontend %d", c.maxWrites, snap.Services["backend"].Replicas, snap.Services["frontend"].Replicas)
		}
		if run.Writes() != c.numWrite {
			t.Errorf("max %d: %d writes counted", c.maxWrites, run.Writes())
		}
	}
}

func TestTheSameWriteTwiceInARunIsRefused(t *testing.T) {
	e := newEnv(t, "high-cpu")
	run := autoRun()
	mustStatus(t, e.call(run, "scaleDeployment", scaleBackendTo4), tools.StatusExecuted)
	for _, again := range []string{scaleBackendTo4, `{"namespace":"ai-data-labs","name":"backend","replicas":5,"reason":"still hot"}`} {
		o := e.call(run, "scaleDeployment", again)
		mustStatus(t, o, tools.StatusRefused)
		if o.Rule != "writes.duplicate" || !strings.Contains(o.Reason, "verify its effect before changing ai-data-labs/backend again") {
			t.Errorf("rule %q reason %q", o.Rule, o.Reason)
		}
	}
	if got := e.p.Snapshot().Services["backend"].Replicas; got != 4 {
		t.Errorf("backend at %d replicas, want 4", got)
	}
	if s := e.rec.Scales(); len(s) != 1 || s[0].From != 3 || s[0].To != 4 || s[0].Rule != guard.RuleScaleUpCPU {
		t.Errorf("scale events %+v", s)
	}
	// A new run (a new alert) is judged by the guard again, not by the run.
	o := e.call(autoRun(), "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":5}`)
	if o.Rule == "writes.duplicate" {
		t.Errorf("a new run inherited the duplicate check: %+v", o)
	}
}

func TestObserveModeShowsTheWriteAndChangesNothing(t *testing.T) {
	cases := []struct {
		scenario, tool, args, summary string
	}{
		{"high-cpu", "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":1000}`, "would scale ai-data-labs/backend from 3 to 4 replicas (observe mode: nothing changed)"},
		{"clickhouse-oom", "updateResources", `{"namespace":"ai-data-labs","name":"clickhouse","memoryLimit":"8Gi"}`, "would raise the memory limit of ai-data-labs/clickhouse (container clickhouse) from 4Gi to 8Gi"},
		{"health-check-failing", "restartPods", `{"namespace":"ai-data-labs","name":"frontend"}`, "would rollout restart ai-data-labs/frontend"},
		{"disk-space", "dropPartitions", `{"database":"analytics","table":"events"}`, "would drop 5 partitions of analytics.events older than 90 days (200 GB)"},
	}
	for _, c := range cases {
		t.Run(c.tool, func(t *testing.T) {
			e := newEnv(t, c.scenario)
			before := e.p.Snapshot()
			run := tools.NewRun(1, guard.ModeObserve, nil, guard.DefaultMaxWrites)
			o := e.call(run, c.tool, c.args)
			mustStatus(t, o, tools.StatusDryRun)
			if !strings.HasPrefix(o.Summary, c.summary) || o.Wrote() {
				t.Errorf("summary %q (wrote %v), want prefix %q", o.Summary, o.Wrote(), c.summary)
			}
			if o.Decision == nil || !o.Decision.Allowed() || o.Rule == "" {
				t.Errorf("dry run without the guard's decision: %+v %q", o.Decision, o.Rule)
			}
			if after := e.p.Snapshot(); !reflect.DeepEqual(before, after) {
				t.Errorf("observe mode changed the platform:\nbefore %+v\nafter  %+v", before, after)
			}
			if run.Writes() != 0 || len(e.rec.Scales()) != 0 || e.state.Len() != 0 {
				t.Errorf("observe mode counted %d writes, %d scale events, %d states", run.Writes(), len(e.rec.Scales()), e.state.Len())
			}
			if calls := e.rec.Calls(); len(calls) != 1 || calls[0].Status != tools.StatusDryRun || !calls[0].Write {
				t.Errorf("recorded %+v", calls)
			}
			// The same would-be write again is a repeat, as in auto mode.
			mustStatus(t, e.call(run, c.tool, c.args), tools.StatusRefused)
		})
	}
}

func TestApproveMode(t *testing.T) {
	cases := []struct {
		name       string
		approver   *approver
		status     tools.Status
		rule       string
		replicas   int32
		wantAsked  int
		reasonPart string
	}{
		{"no approver", nil, tools.StatusRefused, guard.RuleModeApproveNoTerm, 3, 0, "without one the write is refused"},
		{"no terminal", &approver{interactive: false, answer: true}, tools.StatusRefused, guard.RuleModeApproveNoTerm, 3, 0, "never assumed approved"},
		{"operator says no", &approver{interactive: true, answer: false}, tools.StatusRefused, "approval.declined", 3, 1, "the operator declined scale ai-data-labs/backend from 3 to 4 replicas"},
		{"approver fails", &approver{interactive: true, answer: true, err: errors.New("terminal closed")}, tools.StatusRefused, "approval.declined", 3, 1, "approval failed: terminal closed"},
		{"operator says yes", &approver{interactive: true, answer: true}, tools.StatusExecuted, guard.RuleScaleUpCPU, 4, 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "high-cpu")
			var a tools.Approver
			if c.approver != nil {
				a = c.approver
			}
			o := e.call(tools.NewRun(1, guard.ModeApprove, a, guard.DefaultMaxWrites), "scaleDeployment", scaleBackendTo4)
			mustStatus(t, o, c.status)
			if o.Rule != c.rule || !strings.Contains(o.Reason, c.reasonPart) {
				t.Errorf("rule %q reason %q, want %q containing %q", o.Rule, o.Reason, c.rule, c.reasonPart)
			}
			if got := e.p.Snapshot().Services["backend"].Replicas; got != c.replicas {
				t.Errorf("backend at %d replicas, want %d", got, c.replicas)
			}
			if c.approver == nil {
				return
			}
			if len(c.approver.asked) != c.wantAsked {
				t.Fatalf("asked %d times, want %d", len(c.approver.asked), c.wantAsked)
			}
			if c.wantAsked == 1 {
				p := c.approver.asked[0]
				if p.Summary != "scale ai-data-labs/backend from 3 to 4 replicas" || p.Decision.Rule != guard.RuleScaleUpCPU || p.Target != "ai-data-labs/backend" {
					t.Errorf("asked about %+v", p)
				}
			}
		})
	}
}

func TestApproveModeDoesNotAskAboutWhatTheGuardRefuses(t *testing.T) {
	e := newEnv(t, "healthy")
	a := &approver{interactive: true, answer: true}
	o := e.call(tools.NewRun(1, guard.ModeApprove, a, guard.DefaultMaxWrites), "scaleDeployment", scaleBackendTo4)
	mustStatus(t, o, tools.StatusRefused)
	if len(a.asked) != 0 || o.Rule != guard.RuleScaleUpCPU {
		t.Errorf("asked %d times; rule %q", len(a.asked), o.Rule)
	}
}

func TestConflictIsReplannedOnce(t *testing.T) {
	cases := []struct {
		conflicts  int
		status     tools.Status
		replicas   int32
		scaleCalls int
	}{
		{0, tools.StatusExecuted, 4, 1},
		{1, tools.StatusExecuted, 4, 2},
		{2, tools.StatusFailed, 3, 2},
		{5, tools.StatusFailed, 3, 2},
	}
	for _, c := range cases {
		var cl *conflictOnce
		e := newEnv(t, "high-cpu", wrapCluster(func(c0 platform.Cluster) platform.Cluster {
			cl = &conflictOnce{Cluster: c0, conflicts: c.conflicts}
			return cl
		}))
		o := e.call(autoRun(), "scaleDeployment", scaleBackendTo4)
		mustStatus(t, o, c.status)
		if cl.scales != c.scaleCalls {
			t.Errorf("%d conflicts: Scale called %d times, want %d", c.conflicts, cl.scales, c.scaleCalls)
		}
		if got := e.p.Snapshot().Services["backend"].Replicas; got != c.replicas {
			t.Errorf("%d conflicts: backend at %d, want %d", c.conflicts, got, c.replicas)
		}
		if c.status == tools.StatusFailed && !strings.Contains(o.Error, platform.ErrConflict.Error()) {
			t.Errorf("%d conflicts: error %q", c.conflicts, o.Error)
		}
		if n := len(e.rec.Calls()); n != 1 {
			t.Errorf("%d conflicts: %d calls recorded", c.conflicts, n)
		}
	}
}

// staleAnnotation serves the sim's workloads with a state annotation that
// does not decode.
type staleAnnotation struct{ platform.Cluster }

func (s staleAnnotation) GetWorkload(ctx context.Context, ref platform.WorkloadRef) (platform.Workload, error) {
	w, err := s.Cluster.GetWorkload(ctx, ref)
	if w.Annotations == nil {
		w.Annotations = map[string]string{}
	}
	w.Annotations[guard.StateAnnotation] = `{"up":"not a time"`
	return w, err
}

func TestUnreadableStateAnnotationRefusesWrites(t *testing.T) {
	e := newEnv(t, "high-cpu", wrapCluster(func(c platform.Cluster) platform.Cluster { return staleAnnotation{c} }))
	o := e.call(autoRun(), "scaleDeployment", scaleBackendTo4)
	mustStatus(t, o, tools.StatusRefused)
	if o.Rule != "state.unreadable" || !strings.Contains(o.Reason, guard.StateAnnotation) {
		t.Errorf("rule %q reason %q", o.Rule, o.Reason)
	}
}

func TestEveryCallIsRecordedOnceWithItsStatus(t *testing.T) {
	e := newEnv(t, "high-cpu")
	run := tools.NewRun(42, guard.ModeAuto, nil, guard.DefaultMaxWrites)
	steps := []struct {
		tool, args string
		status     tools.Status
		rule       string
		write      bool
	}{
		{"getServiceStatus", `{"namespace":"ai-data-labs","name":"backend"}`, tools.StatusOK, "", false},
		{"scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":"4"}`, tools.StatusInvalid, "", true},
		{"scaleDeployment", `{"namespace":"kube-system","name":"backend","replicas":4}`, tools.StatusRefused, guard.RuleNamespaceNotAllowed, true},
		{"scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":1000}`, tools.StatusExecuted, guard.RuleScaleUpCPU, true},
		{"scaleDeployment", scaleBackendTo4, tools.StatusRefused, "writes.duplicate", true},
		{"queryMetrics", `{"promql":"sum(rate(http_requests_total[5m]))"}`, tools.StatusFailed, "", false},
		{"notify", `{"message":"scaled backend"}`, tools.StatusOK, "", false},
		{"fixEverything", `{}`, tools.StatusInvalid, "", false},
	}
	for _, s := range steps {
		o := e.call(run, s.tool, s.args)
		if o.Status != s.status || o.Rule != s.rule {
			t.Errorf("%s %s: %s %q, want %s %q (%s %s)", s.tool, s.args, o.Status, o.Rule, s.status, s.rule, o.Reason, o.Error)
		}
	}
	calls := e.rec.Calls()
	if len(calls) != len(steps) {
		t.Fatalf("%d calls recorded, want %d", len(calls), len(steps))
	}
	for i, s := range steps {
		c := calls[i]
		if c.Tool != s.tool || c.Status != s.status || c.Rule != s.rule || c.Write != s.write || c.AlertID != 42 || c.Args != s.args || !c.At.Equal(t0) {
			t.Errorf("record %d = %+v, want %s %s rule %q write %v", i, c, s.tool, s.status, s.rule, s.write)
		}
		if s.status != tools.StatusOK && c.Reason == "" {
			t.Errorf("record %d (%s) has no reason", i, s.status)
		}
	}
	if exec := calls[3]; !strings.Contains(exec.Reason, "requested 1000 replicas") || !strings.Contains(exec.Result, `"to":4`) {
		t.Errorf("executed write recorded as %+v", exec)
	}
}

func TestCancelledRunRecordsCancelledCalls(t *testing.T) {
	e := newEnv(t, "high-cpu")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := e.reg.Invoke(ctx, autoRun(), tools.Call{ID: "x", Tool: "getServiceStatus", Args: []byte(`{"namespace":"ai-data-labs","name":"backend"}`)})
	mustStatus(t, o, tools.StatusCanceled)
	w := e.reg.Invoke(ctx, autoRun(), tools.Call{ID: "y", Tool: "scaleDeployment", Args: []byte(scaleBackendTo4)})
	mustStatus(t, w, tools.StatusCanceled)
	if calls := e.rec.Calls(); len(calls) != 2 || calls[0].Status != tools.StatusCanceled || calls[1].Status != tools.StatusCanceled {
		t.Errorf("recorded %+v", calls)
	}
	if got := e.p.Snapshot().Services["backend"].Replicas; got != 3 {
		t.Errorf("backend at %d", got)
	}
}
