package tools_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

func TestScaleUpOnSustainedCPU(t *testing.T) {
	e := newEnv(t, "high-cpu")
	o := e.call(autoRun(), "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":4,"reason":"cpu 85% for 15m"}`)
	mustStatus(t, o, tools.StatusExecuted)
	if o.Decision == nil || o.Decision.Verdict != guard.Allow || o.Rule != guard.RuleScaleUpCPU || o.Reason != "" || !o.Wrote() {
		t.Errorf("decision %+v rule %q reason %q", o.Decision, o.Rule, o.Reason)
	}
	res := result[tools.ScaleResult](t, o)
	if res.From != 3 || res.To != 4 || res.Replicas != 4 || res.Rule != guard.RuleScaleUpCPU || res.DryRun {
		t.Errorf("result %+v", res)
	}
	if o.Summary != "scale ai-data-labs/backend from 3 to 4 replicas" || o.Params["from"] != int32(3) || o.Params["to"] != int32(4) {
		t.Errorf("summary %q params %v", o.Summary, o.Params)
	}
	if s := e.rec.Scales(); len(s) != 1 || s[0] != (scaleRecord{ref("backend"), 3, 4, guard.RuleScaleUpCPU}) {
		t.Errorf("scale events %+v", s)
	}
	// The guard state is kept in the store and on the workload itself.
	if st := e.stateOf(ref("backend")); !st.LastScaleUp.Equal(t0) || st.LastScaleFrom != 3 || st.LastScaleTo != 4 {
		t.Errorf("stored state %+v", st)
	}
	w, err := e.p.Cluster().GetWorkload(context.Background(), ref("backend"))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := guard.DecodeState(w.Annotations[guard.StateAnnotation]); err != nil || !st.LastScaleUp.Equal(t0) || st.LastScaleTo != 4 {
		t.Errorf("state annotation %q: %+v %v", w.Annotations[guard.StateAnnotation], st, err)
	}
	if ev := w.Events[len(w.Events)-1]; ev.Reason != "SuccessfulRescale" || !strings.Contains(ev.Message, "new size 4") {
		t.Errorf("last event %+v", ev)
	}
	// The platform follows: CPU falls to about 45% once the new pod is ready.
	e.p.Advance(2 * time.Minute)
	if s := e.p.Snapshot().Services["backend"]; s.ReadyReplicas != 4 || s.CPU > 50 {
		t.Errorf("after the scale: %+v", s)
	}
}

func TestScaleDecisions(t *testing.T) {
	cases := []struct {
		name, scenario string
		replicas       int
		opt            option
		status         tools.Status
		rule           string
		verdict        guard.Verdict
		want           int32 // replicas afterwards
		reason         string
	}{
		{"one step up", "high-cpu", 4, nil, tools.StatusExecuted, guard.RuleScaleUpCPU, guard.Allow, 4, ""},
		{"1000 is clamped to one step", "high-cpu", 1000, nil, tools.StatusExecuted, guard.RuleScaleUpCPU, guard.Clamp, 4, "requested 1000 replicas"},
		{"two steps are clamped to one", "high-cpu", 5, nil, tools.StatusExecuted, guard.RuleScaleUpCPU, guard.Clamp, 4, "allows a move of 1 replica"},
		{"a bigger step is configurable", "high-cpu", 1000, withPolicy(func(p *tools.Policy) { p.Scaling.Up.Step = 3 }), tools.StatusExecuted, guard.RuleScaleUpCPU, guard.Clamp, 6, ""},
		{"zero is refused", "high-cpu", 0, nil, tools.StatusRefused, guard.RuleReplicasZero, guard.Refuse, 3, "0 replicas is disabled"},
		{"no change", "high-cpu", 3, nil, tools.StatusRefused, guard.RuleNoChange, guard.Refuse, 3, "already has 3 replicas"},
		{"scale down while hot", "high-cpu", 2, nil, tools.StatusRefused, guard.RuleScaleDownCPU, guard.Refuse, 3, ""},
		{"healthy CPU is not above the threshold", "healthy", 4, nil, tools.StatusRefused, guard.RuleScaleUpCPU, guard.Refuse, 3, "cpu 40.0% at 09:30:00 is not above 80%"},
		{"an autoscaler owns the replicas", "high-cpu-hpa-owned", 4, nil, tools.StatusRefused, guard.RuleAutoscalerOwned, guard.Refuse, 3, "HorizontalPodAutoscaler/backend"},
		{"opted out", "high-cpu-opted-out", 4, nil, tools.StatusRefused, guard.RuleOptOut, guard.Refuse, 3, "ops-skill.io/disabled=true"},
		{"at max replicas", "high-cpu-max-replicas", 11, nil, tools.StatusRefused, guard.RuleMaxReplicas, guard.Refuse, 10, "at or above max_replicas 10"},
		{"prometheus down", "high-cpu-metrics-down", 4, nil, tools.StatusRefused, guard.RuleMetricUnknown, guard.Refuse, 3, "connection refused"},
		{"metrics failing", "high-cpu", 4, withMetrics(failingMetrics{platform.ErrUnavailable}), tools.StatusRefused, guard.RuleMetricUnknown, guard.Refuse, 3, "query failed"},
		{"no metrics backend", "high-cpu", 4, withMetrics(nil), tools.StatusRefused, guard.RuleMetricUnknown, guard.Refuse, 3, "not configured"},
		{"auto-scaling disabled", "high-cpu", 4, withPolicy(func(p *tools.Policy) { p.Scaling.Enabled = false }), tools.StatusRefused, guard.RuleDisabledScaling, guard.Refuse, 3, "AUTO_SCALE_ENABLED=false"},
		{"a lower maximum clamps", "high-cpu", 1000, withPolicy(func(p *tools.Policy) { p.Scaling.Up.Step = 5; p.Scaling.Max = 5 }), tools.StatusExecuted, guard.RuleMaxReplicas, guard.Clamp, 5, ""},
		{"an invalid policy allows nothing", "high-cpu", 4, withPolicy(func(p *tools.Policy) { p.Scaling.Min = 0 }), tools.StatusRefused, guard.RulePolicyInvalid, guard.Refuse, 3, "min_replicas"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []option
			if c.opt != nil {
				opts = append(opts, c.opt)
			}
			e := newEnv(t, c.scenario, opts...)
			o := e.call(autoRun(), "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":`+strconv.Itoa(c.replicas)+`}`)
			mustStatus(t, o, c.status)
			if o.Rule != c.rule || o.Decision == nil || o.Decision.Verdict != c.verdict {
				t.Errorf("rule %q decision %+v, want %q %s", o.Rule, o.Decision, c.rule, c.verdict)
			}
			if !strings.Contains(o.Reason, c.reason) {
				t.Errorf("reason %q does not contain %q", o.Reason, c.reason)
			}
			if got := e.p.Snapshot().Services["backend"].Replicas; got != c.want {
				t.Errorf("backend at %d replicas, want %d", got, c.want)
			}
			if wrote := len(e.rec.Scales()) == 1; wrote != (c.status == tools.StatusExecuted) {
				t.Errorf("scale events %+v for status %s", e.rec.Scales(), c.status)
			}
		})
	}
}

func TestScaleAtMaxReplicasIsReallyHot(t *testing.T) {
	// The max-replicas scenario must model the spec's 85% at 10 replicas, or
	// the refusal above would prove nothing.
	e := newEnv(t, "high-cpu-max-replicas")
	o := e.call(autoRun(), "queryMetrics", `{"namespace":"ai-data-labs","name":"backend","metric":"cpu_utilization","range":"10m"}`)
	mustStatus(t, o, tools.StatusOK)
	if s := result[tools.MetricSummary](t, o).Series[0]; s.Min != 85 || s.Max != 85 {
		t.Errorf("cpu at 10 replicas: %+v", s)
	}
}

func TestScaleUpNeedsFreshEvidenceAfterAScale(t *testing.T) {
	e := newEnv(t, "high-cpu")
	mustStatus(t, e.call(autoRun(), "scaleDeployment", scaleBackendTo4), tools.StatusExecuted)
	// A new run a minute later: the samples after the scale do not cover the
	// 5-minute window yet, so the same rule cannot fire again.
	e.p.Advance(time.Minute)
	o := e.call(autoRun(), "scaleDeployment", `{"namespace":"ai-data-labs","name":"backend","replicas":5}`)
	mustStatus(t, o, tools.StatusRefused)
	if o.Rule != guard.RuleStabilizationUp && o.Rule != guard.RuleScaleUpCPU {
		t.Errorf("rule %q: %s", o.Rule, o.Reason)
	}
	if got := e.p.Snapshot().Services["backend"].Replicas; got != 4 {
		t.Errorf("backend at %d replicas", got)
	}
}

func TestScaleUsesTheStateOtherAgentsLeft(t *testing.T) {
	// Another agent scaled backend up a minute ago and recorded it in the
	// shared state store; this agent's scale must honour it.
	e := newEnv(t, "high-cpu")
	err := e.state.Update(context.Background(), ref("backend"), func(s *guard.WorkloadState) error {
		s.LastScaleUp, s.LastScaleFrom, s.LastScaleTo = t0.Add(-time.Minute), 2, 3
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	o := e.call(autoRun(), "scaleDeployment", scaleBackendTo4)
	mustStatus(t, o, tools.StatusRefused)
	if got := e.p.Snapshot().Services["backend"].Replicas; got != 3 {
		t.Errorf("backend at %d replicas", got)
	}
}

// failingState is a StateStore that cannot be read.
type failingState struct{}

func (failingState) Load(context.Context, platform.WorkloadRef) (guard.WorkloadState, error) {
	return guard.WorkloadState{}, errors.New("database is locked")
}

func (failingState) Update(context.Context, platform.WorkloadRef, func(*guard.WorkloadState) error) error {
	return errors.New("database is locked")
}

func TestScaleWithUnreadableStateFails(t *testing.T) {
	e := newEnv(t, "high-cpu", func(d *tools.Deps) { d.State = failingState{} })
	o := e.call(autoRun(), "scaleDeployment", scaleBackendTo4)
	mustStatus(t, o, tools.StatusFailed)
	if !strings.Contains(o.Error, "load guard state of ai-data-labs/backend: database is locked") {
		t.Errorf("error %q", o.Error)
	}
	if got := e.p.Snapshot().Services["backend"].Replicas; got != 3 {
		t.Errorf("backend at %d replicas", got)
	}
}
