package guard

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

type scaleCase struct {
	name      string
	pol       func(*ScalingPolicy)
	replicas  int32
	mod       func(*platform.Workload)
	req       int64
	cpu, errs Observation
	state     WorkloadState
	verdict   Verdict
	rule      string
	to        int64
	reason    []string
}

func runScaleCases(t *testing.T, cases []scaleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultScalingPolicy()
			if tc.pol != nil {
				tc.pol(&p)
			}
			w := workload(tc.replicas)
			if tc.mod != nil {
				tc.mod(&w)
			}
			d := p.Decide(ScaleInput{Workload: w, Requested: tc.req, CPU: tc.cpu, ErrorRate: tc.errs, State: tc.state, Now: testNow()})
			checkDecision(t, d, tc.verdict, tc.rule, tc.to, tc.reason...)
			if d.From != int64(tc.replicas) || d.Requested != tc.req || d.Inputs == nil {
				t.Errorf("From=%d Requested=%d Inputs=%v, want %d, %d and inputs", d.From, d.Requested, d.Inputs, tc.replicas, tc.req)
			}
		})
	}
}

const (
	min5 = 5 * time.Minute
	min2 = 2 * time.Minute
	m15  = 15 * time.Minute
)

func TestScaleUpWindow(t *testing.T) {
	now := testNow()
	high, calm := obs(flat(85, min5)), obs(flat(1, min2))
	reversed := flat(85, min5)
	slices.Reverse(reversed)
	runScaleCases(t, []scaleCase{
		{name: "cpu above 80% for 5m scales up by one", replicas: 3, req: 4, cpu: high, errs: calm,
			verdict: Allow, rule: RuleScaleUpCPU, to: 4, reason: []string{"cpu above 80% for 5m", "from 3 to 4"}},
		{name: "exactly 80% does not fire", replicas: 3, req: 4, cpu: obs(flat(80, min5)), errs: calm,
			verdict: Refuse, rule: RuleScaleUpCPU, to: 3, reason: []string{"cpu 80.0%", "is not above 80%"}},
		{name: "just above 80% fires", replicas: 3, req: 4, cpu: obs(flat(80.01, min5)), errs: calm,
			verdict: Allow, rule: RuleScaleUpCPU, to: 4},
		{name: "a single dip in the middle resets the window", replicas: 3, req: 4, cpu: obs(with(flat(85, min5), 5, 79.9)), errs: calm,
			verdict: Refuse, rule: RuleScaleUpCPU, to: 3, reason: []string{"cpu 79.9% at 09:57:30 is not above 80%"}},
		{name: "a dip at the oldest sample of the window counts", replicas: 3, req: 4, cpu: obs(with(flat(85, min5), 0, 70)), errs: calm,
			verdict: Refuse, rule: RuleScaleUpCPU, to: 3, reason: []string{"70.0% at 09:55:00", "1 of 11"}},
		{name: "a dip in the newest sample counts", replicas: 3, req: 4, cpu: obs(with(flat(85, min5), -1, 50)), errs: calm,
			verdict: Refuse, rule: RuleScaleUpCPU, to: 3, reason: []string{"50.0% at 10:00:00"}},
		{name: "a dip before the window does not count", replicas: 3, req: 4, cpu: obs(with(flat(85, 6*time.Minute), 0, 50)), errs: calm,
			verdict: Allow, rule: RuleScaleUpCPU, to: 4},
		{name: "a gap over two steps makes the rule unknown", replicas: 3, req: 4, cpu: obs(without(flat(85, min5), 4, 5)), errs: calm,
			verdict: Refuse, rule: RuleMetricUnknown, to: 3, reason: []string{"1m30s gap", "09:56:30", "09:58:00"}},
		{name: "a gap of exactly two steps is tolerated", replicas: 3, req: 4, cpu: obs(without(flat(85, min5), 5)), errs: calm,
			verdict: Allow, rule: RuleScaleUpCPU, to: 4},
		{name: "a stale newest sample makes the rule unknown", replicas: 3, req: 4, cpu: obs(shifted(flat(85, min5), -90*time.Second)), errs: calm,
			verdict: Refuse, rule: RuleMetricUnknown, to: 3, reason: []string{"newest cpu sample is 1m30s old", "at most 1m"}},
		{name: "a newest sample exactly at the freshness limit is fresh", replicas: 3, req: 4, cpu: obs(shifted(flat(85, 6*time.Minute), -time.Minute)), errs: calm,
			verdict: Allow, rule: RuleScaleUpCPU, to: 4},
		{name: "a longer freshness accepts an older newest sample", pol: func(p *ScalingPolicy) { p.Freshness = min2 },
			replicas: 3, req: 4, cpu: obs(shifted(flat(85, 7*time.Minute), -90*time.Second)), errs: calm,
			verdict: Allow, rule: RuleScaleUpCPU, to: 4},
		{name: "a window covered only for its last 3m is unknown", replicas: 3, req: 4, cpu: obs(flat(85, 3*time.Minute)), errs: calm,
			verdict: Refuse, rule: RuleMetricUnknown, to: 3, reason: []string{"samples start at 09:57:00", "2m into the 5m window"}},
		{name: "a first sample one step into the window still covers it", replicas: 3, req: 4, cpu: obs(without(flat(85, min5), 0)), errs: calm,
			verdict: Allow, rule: RuleScaleUpCPU, to: 4},
		{name: "a failed cpu query makes scale-up unknown", replicas: 3, req: 4, cpu: Observation{Err: errors.New("prometheus unavailable")}, errs: calm,
			verdict: Refuse, rule: RuleMetricUnknown, to: 3, reason: []string{"cpu query failed: prometheus unavailable"}},
		{name: "no cpu samples make scale-up unknown", replicas: 3, req: 4, cpu: obs(nil), errs: calm,
			verdict: Refuse, rule: RuleMetricUnknown, to: 3, reason: []string{"no cpu samples"}},
		{name: "a NaN sample makes the rule unknown", replicas: 3, req: 4, cpu: obs(with(flat(85, min5), 3, math.NaN())), errs: calm,
			verdict: Refuse, rule: RuleMetricUnknown, to: 3, reason: []string{"NaN"}},
		{name: "an infinite sample makes the rule unknown", replicas: 3, req: 4, cpu: obs(with(flat(85, min5), 3, math.Inf(1))), errs: calm,
			verdict: Refuse, rule: RuleMetricUnknown, to: 3},
		{name: "samples out of order are evaluated in time order", replicas: 3, req: 4, cpu: obs(reversed), errs: calm,
			verdict: Allow, rule: RuleScaleUpCPU, to: 4},
		{name: "samples after now are ignored", replicas: 3, req: 4, errs: calm,
			cpu:     obs(append(flat(85, min5), platform.Sample{T: now.Add(time.Minute), V: 10})),
			verdict: Allow, rule: RuleScaleUpCPU, to: 4},
		{name: "cpu below threshold names the value and the rule", replicas: 3, req: 4, cpu: obs(flat(75, min5)), errs: calm,
			verdict: Refuse, rule: RuleScaleUpCPU, to: 3, reason: []string{"cpu 75.0% at 10:00:00", "not above 80%", "11 of 11 samples of the last 5m"}},
	})
}

func TestScaleUpClampAndProposals(t *testing.T) {
	high, calm, normal := obs(flat(85, min5)), obs(flat(1, min2)), obs(flat(50, min5))
	errHigh := obs(flat(15, min2))
	runScaleCases(t, []scaleCase{
		{name: "spec example: 5 replicas from 3 is clamped to one cpu step", replicas: 3, req: 5, cpu: high, errs: calm,
			verdict: Clamp, rule: RuleScaleUpCPU, to: 4, reason: []string{"requested 5 replicas", "from 3 to 4"}},
		{name: "a request of 1000 replicas is clamped to one step", replicas: 3, req: 1000, cpu: high, errs: calm,
			verdict: Clamp, rule: RuleScaleUpCPU, to: 4},
		{name: "the cpu step reaching max exactly is credited to the rule", replicas: 9, req: 1000, cpu: high, errs: calm,
			verdict: Clamp, rule: RuleScaleUpCPU, to: 10},
		{name: "an error-rate step beyond max is clamped at max", replicas: 9, req: 11, cpu: normal, errs: errHigh,
			verdict: Clamp, rule: RuleMaxReplicas, to: 10, reason: []string{"max_replicas is 10"}},
		{name: "at max there is no scale-up", replicas: 10, req: 11, cpu: high, errs: errHigh,
			verdict: Refuse, rule: RuleMaxReplicas, to: 10, reason: []string{"at or above max_replicas 10"}},
		{name: "above max there is no scale-up", replicas: 12, req: 13, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleMaxReplicas, to: 12},
		{name: "cpu and error rate together at 4 give 6", replicas: 4, req: 6, cpu: high, errs: errHigh,
			verdict: Allow, rule: RuleScaleOutErrorRate, to: 6},
		{name: "cpu and error rate together: 7 is clamped to 6, the largest proposal not the sum", replicas: 4, req: 7, cpu: high, errs: errHigh,
			verdict: Clamp, rule: RuleScaleOutErrorRate, to: 6},
		{name: "cpu and error rate together: 5 is allowed as the cpu step", replicas: 4, req: 5, cpu: high, errs: errHigh,
			verdict: Allow, rule: RuleScaleUpCPU, to: 5},
		{name: "error rate alone scales out by two", replicas: 4, req: 6, cpu: normal, errs: errHigh,
			verdict: Allow, rule: RuleScaleOutErrorRate, to: 6, reason: []string{"error rate above 10% for 2m"}},
		{name: "a smaller request in the same direction is allowed as requested", replicas: 4, req: 5, cpu: normal, errs: errHigh,
			verdict: Allow, rule: RuleScaleOutErrorRate, to: 5},
		{name: "an error rate of exactly 10% does not scale out", replicas: 4, req: 6, cpu: normal, errs: obs(flat(10, min2)),
			verdict: Refuse, rule: RuleScaleUpCPU, to: 4, reason: []string{"error rate 10.0%"}},
		{name: "an error rate above 10% for only the last minute does not scale out", replicas: 4, req: 6, cpu: normal,
			errs:    obs(with(with(flat(20, min2), 0, 5), 1, 5)),
			verdict: Refuse, rule: RuleScaleUpCPU, to: 4, reason: []string{"error rate 5.0%"}},
		{name: "an unknown error rate does not stop a cpu scale-up", replicas: 4, req: 5, cpu: high, errs: Observation{Err: errors.New("timeout")},
			verdict: Allow, rule: RuleScaleUpCPU, to: 5},
		{name: "both rules unknown refuse as metric unknown", replicas: 4, req: 5, cpu: obs(nil), errs: obs(nil),
			verdict: Refuse, rule: RuleMetricUnknown, to: 4},
	})
}

func TestScaleUpStabilisation(t *testing.T) {
	now := testNow()
	high, calm, normal := obs(flat(85, min5)), obs(flat(1, min2)), obs(flat(50, min5))
	runScaleCases(t, []scaleCase{
		{name: "right after a scale up another scale up waits", replicas: 4, req: 5, cpu: high, errs: calm,
			state:   WorkloadState{LastScaleUp: now.Add(-2 * time.Minute)},
			verdict: Refuse, rule: RuleStabilizationUp, to: 4, reason: []string{"since the last scale at 09:58:00", "full 5m window"}},
		{name: "a full window of post-scale samples above threshold allows the next step", replicas: 4, req: 5,
			cpu: obs(flat(85, 8*time.Minute)), errs: calm, state: WorkloadState{LastScaleUp: now.Add(-6 * time.Minute)},
			verdict: Allow, rule: RuleScaleUpCPU, to: 5},
		{name: "a scale exactly one window ago leaves a covered post-scale window", replicas: 4, req: 5,
			cpu: high, errs: calm, state: WorkloadState{LastScaleUp: now.Add(-min5)},
			verdict: Allow, rule: RuleScaleUpCPU, to: 5},
		{name: "post-scale samples that fell below threshold refuse as not satisfied", replicas: 4, req: 5,
			cpu: obs(with(flat(85, min5), -2, 60)), errs: calm, state: WorkloadState{LastScaleUp: now.Add(-6 * time.Minute)},
			verdict: Refuse, rule: RuleScaleUpCPU, to: 4, reason: []string{"60.0%"}},
		{name: "an error-rate scale out also waits for post-scale samples", replicas: 4, req: 6, cpu: normal, errs: obs(flat(20, min2)),
			state:   WorkloadState{LastScaleUp: now.Add(-time.Minute)},
			verdict: Refuse, rule: RuleStabilizationUp, to: 4},
		{name: "a last scale up in the future is treated as stabilising", replicas: 4, req: 5, cpu: high, errs: calm,
			state:   WorkloadState{LastScaleUp: now.Add(10 * time.Minute)},
			verdict: Refuse, rule: RuleStabilizationUp, to: 4},
		{name: "a recent scale down does not delay a scale up", replicas: 4, req: 5, cpu: high, errs: calm,
			state:   WorkloadState{LastScaleDown: now.Add(-time.Minute)},
			verdict: Allow, rule: RuleScaleUpCPU, to: 5},
	})
}

func TestScaleBelowMin(t *testing.T) {
	high, calm, normal := obs(flat(85, min5)), obs(flat(1, min2)), obs(flat(50, min5))
	runScaleCases(t, []scaleCase{
		{name: "below min, raising to min needs no rule", replicas: 1, req: 2, cpu: normal, errs: calm,
			verdict: Allow, rule: RuleMinReplicas, to: 2, reason: []string{"below min_replicas 2"}},
		{name: "below min, a request beyond min without a rule is clamped to min", replicas: 1, req: 5, cpu: normal, errs: calm,
			verdict: Clamp, rule: RuleMinReplicas, to: 2},
		{name: "below min, unknown metrics do not block the raise to min", replicas: 1, req: 2, cpu: Observation{Err: errors.New("down")},
			verdict: Allow, rule: RuleMinReplicas, to: 2},
		{name: "below min, a request within the cpu step is credited to cpu", pol: func(p *ScalingPolicy) { p.Min = 3 },
			replicas: 1, req: 2, cpu: high, errs: calm, verdict: Allow, rule: RuleScaleUpCPU, to: 2},
		{name: "below min, a firing error rate may go beyond min", replicas: 1, req: 3, cpu: normal, errs: obs(flat(15, min2)),
			verdict: Allow, rule: RuleScaleOutErrorRate, to: 3},
	})
}

func TestScaleDown(t *testing.T) {
	now := testNow()
	low, calm := obs(flat(20, m15)), obs(flat(1, min2))
	runScaleCases(t, []scaleCase{
		{name: "cpu below 30% for 15m scales down by one", replicas: 5, req: 4, cpu: low, errs: calm,
			verdict: Allow, rule: RuleScaleDownCPU, to: 4, reason: []string{"cpu below 30% for 15m", "from 5 to 4"}},
		{name: "cpu of exactly 30% does not scale down", replicas: 5, req: 4, cpu: obs(flat(30, m15)), errs: calm,
			verdict: Refuse, rule: RuleScaleDownCPU, to: 5, reason: []string{"cpu 30.0%", "not below 30%"}},
		{name: "one spike to 35% in 15m blocks scale down", replicas: 5, req: 4, cpu: obs(with(flat(20, m15), 12, 35)), errs: calm,
			verdict: Refuse, rule: RuleScaleDownCPU, to: 5, reason: []string{"35.0%"}},
		{name: "a several-replica scale down is clamped to one step", replicas: 5, req: 2, cpu: low, errs: calm,
			verdict: Clamp, rule: RuleScaleDownCPU, to: 4},
		{name: "a scale-down step beyond min is clamped at min", pol: func(p *ScalingPolicy) { p.Down.Step = 2 },
			replicas: 3, req: 1, cpu: low, errs: calm, verdict: Clamp, rule: RuleMinReplicas, to: 2, reason: []string{"min_replicas is 2"}},
		{name: "a smaller scale-down than the step is allowed as requested", pol: func(p *ScalingPolicy) { p.Down.Step = 2 },
			replicas: 6, req: 5, cpu: low, errs: calm, verdict: Allow, rule: RuleScaleDownCPU, to: 5},
		{name: "at min there is no scale down", replicas: 2, req: 1, cpu: low, errs: calm,
			verdict: Refuse, rule: RuleMinReplicas, to: 2, reason: []string{"at or below min_replicas 2"}},
		{name: "no scale down within 15m of a scale up", replicas: 5, req: 4, cpu: low, errs: calm,
			state:   WorkloadState{LastScaleUp: now.Add(-10 * time.Minute)},
			verdict: Refuse, rule: RuleCooldownDownAfterUp, to: 5, reason: []string{"09:50:00", "within 15m", "5m left"}},
		{name: "scale down allowed once 15m passed since the scale up", replicas: 5, req: 4, cpu: low, errs: calm,
			state:   WorkloadState{LastScaleUp: now.Add(-16 * time.Minute)},
			verdict: Allow, rule: RuleScaleDownCPU, to: 4},
		{name: "the scale-up cooldown ends exactly at 15m", replicas: 5, req: 4, cpu: low, errs: calm,
			state:   WorkloadState{LastScaleUp: now.Add(-m15)},
			verdict: Allow, rule: RuleScaleDownCPU, to: 4},
		{name: "a failed error-rate query blocks scale down", replicas: 5, req: 4, cpu: low, errs: Observation{Err: errors.New("prometheus 503")},
			verdict: Refuse, rule: RuleMetricUnknown, to: 5, reason: []string{"error rate query failed: prometheus 503"}},
		{name: "missing error-rate samples block scale down", replicas: 5, req: 4, cpu: low, errs: obs(nil),
			verdict: Refuse, rule: RuleMetricUnknown, to: 5, reason: []string{"no error rate samples"}},
		{name: "a stale error rate blocks scale down", replicas: 5, req: 4, cpu: low, errs: obs(shifted(flat(1, 4*time.Minute), -90*time.Second)),
			verdict: Refuse, rule: RuleMetricUnknown, to: 5, reason: []string{"1m30s old"}},
		{name: "an error rate above 10% blocks scale down", replicas: 5, req: 4, cpu: low, errs: obs(with(flat(1, min2), 2, 12)),
			verdict: Refuse, rule: RuleScaleDownErrorRate, to: 5, reason: []string{"error rate 12.0%"}},
		{name: "an error rate of exactly 10% does not block scale down", replicas: 5, req: 4, cpu: low, errs: obs(flat(10, min2)),
			verdict: Allow, rule: RuleScaleDownCPU, to: 4},
		{name: "a cpu gap blocks scale down", replicas: 5, req: 4, cpu: obs(without(flat(20, m15), 10, 11)), errs: calm,
			verdict: Refuse, rule: RuleMetricUnknown, to: 5, reason: []string{"gap"}},
		{name: "a failed cpu query blocks scale down", replicas: 5, req: 4, cpu: Observation{Err: errors.New("boom")}, errs: calm,
			verdict: Refuse, rule: RuleMetricUnknown, to: 5},
		{name: "pods not ready block scale down", replicas: 5, req: 4, cpu: low, errs: calm,
			mod:     func(w *platform.Workload) { w.ReadyReplicas = 4 },
			verdict: Refuse, rule: RuleScaleDownNotReady, to: 5, reason: []string{"only 4 of 5"}},
		{name: "after a scale down the next waits for post-scale samples", replicas: 5, req: 4, cpu: low, errs: calm,
			state:   WorkloadState{LastScaleDown: now.Add(-min5)},
			verdict: Refuse, rule: RuleStabilizationDown, to: 5, reason: []string{"full 15m window"}},
		{name: "after a scale down a full post-scale window allows the next", replicas: 5, req: 4, cpu: obs(flat(20, 20*time.Minute)), errs: calm,
			state:   WorkloadState{LastScaleDown: now.Add(-16 * time.Minute)},
			verdict: Allow, rule: RuleScaleDownCPU, to: 4},
	})
}

func TestScaleAboveMax(t *testing.T) {
	now := testNow()
	low, calm, normal := obs(flat(20, m15)), obs(flat(1, min2)), obs(flat(50, m15))
	runScaleCases(t, []scaleCase{
		{name: "above max, lowering to max needs no cpu rule", replicas: 12, req: 10, cpu: normal, errs: calm,
			verdict: Allow, rule: RuleMaxReplicas, to: 10, reason: []string{"above max_replicas 10"}},
		{name: "above max, a request below max without a rule is clamped to max", replicas: 12, req: 5, cpu: normal, errs: calm,
			verdict: Clamp, rule: RuleMaxReplicas, to: 10},
		{name: "above max, a partial correction is allowed", replicas: 12, req: 11, cpu: normal, errs: calm,
			verdict: Allow, rule: RuleMaxReplicas, to: 11},
		{name: "above max with cpu firing, a larger step is allowed", pol: func(p *ScalingPolicy) { p.Down.Step = 3 },
			replicas: 12, req: 9, cpu: low, errs: calm, verdict: Allow, rule: RuleScaleDownCPU, to: 9},
		{name: "above max, an unknown error rate still blocks the correction", replicas: 12, req: 10, cpu: normal,
			errs: Observation{Err: errors.New("down")}, verdict: Refuse, rule: RuleMetricUnknown, to: 12},
		{name: "above max, the scale-up cooldown does not block the correction", replicas: 12, req: 10, cpu: normal, errs: calm,
			state: WorkloadState{LastScaleUp: now.Add(-time.Minute)}, verdict: Allow, rule: RuleMaxReplicas, to: 10},
	})
}

func TestScaleGate(t *testing.T) {
	high, calm := obs(flat(85, min5)), obs(flat(1, min2))
	owned := func(by string) func(*platform.Workload) { return func(w *platform.Workload) { w.AutoscaledBy = by } }
	annotated := func(k, v string) func(*platform.Workload) {
		return func(w *platform.Workload) { w.Annotations = map[string]string{k: v} }
	}
	runScaleCases(t, []scaleCase{
		{name: "disabled auto-scaling refuses", pol: func(p *ScalingPolicy) { p.Enabled = false }, replicas: 3, req: 4, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleDisabledScaling, to: 3, reason: []string{"AUTO_SCALE_ENABLED=false"}},
		{name: "an invalid policy refuses everything", pol: func(p *ScalingPolicy) { p.Min, p.Max = 5, 3 }, replicas: 3, req: 4, cpu: high, errs: calm,
			verdict: Refuse, rule: RulePolicyInvalid, to: 3, reason: []string{"max_replicas"}},
		{name: "a HorizontalPodAutoscaler-owned workload is refused", mod: owned("HorizontalPodAutoscaler/backend"), replicas: 3, req: 4, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleAutoscalerOwned, to: 3, reason: []string{"HorizontalPodAutoscaler/backend"}},
		{name: "a KEDA ScaledObject-owned workload is refused", mod: owned("ScaledObject/backend"), replicas: 3, req: 4, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleAutoscalerOwned, to: 3},
		{name: "the opt-out annotation refuses", mod: annotated(DefaultOptOutAnnotation, "true"), replicas: 3, req: 4, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleOptOut, to: 3, reason: []string{"ops-skill/opt-out=true"}},
		{name: "the opt-out annotation set to false does not refuse", mod: annotated(DefaultOptOutAnnotation, "false"), replicas: 3, req: 4, cpu: high, errs: calm,
			verdict: Allow, rule: RuleScaleUpCPU, to: 4},
		{name: "a custom opt-out annotation is honoured", pol: func(p *ScalingPolicy) { p.OptOutAnnotation = "example.com/no-autoscale" },
			mod: annotated("example.com/no-autoscale", " TRUE "), replicas: 3, req: 4, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleOptOut, to: 3},
		{name: "a request for 0 replicas is refused", replicas: 3, req: 0, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleReplicasZero, to: 3, reason: []string{"0 replicas is disabled"}},
		{name: "a negative request is refused", replicas: 3, req: -3, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleReplicasInvalid, to: 3},
		{name: "a workload at 0 replicas is not woken up", replicas: 0, req: 2, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleReplicasZero, to: 0, reason: []string{"stopped on purpose"}},
		{name: "a request equal to the current replicas is refused", replicas: 3, req: 3, cpu: high, errs: calm,
			verdict: Refuse, rule: RuleNoChange, to: 3},
	})
}

func TestScaleDecisionRecordsInputs(t *testing.T) {
	p := DefaultScalingPolicy()
	d := p.Decide(ScaleInput{Workload: workload(3), Requested: 4, CPU: obs(flat(85, min5)), ErrorRate: obs(flat(1, min2)), Now: testNow()})
	want := map[string]string{"replicas": "3", "requested": "4", "min_replicas": "2", "max_replicas": "10"}
	for k, v := range want {
		if d.Inputs[k] != v {
			t.Errorf("Inputs[%q] = %q, want %q", k, d.Inputs[k], v)
		}
	}
	for _, k := range []string{RuleScaleUpCPU, RuleScaleOutErrorRate} {
		if d.Inputs[k] == "" {
			t.Errorf("Inputs[%q] missing: %v", k, d.Inputs)
		}
	}
	if got := d.Inputs[RuleScaleOutErrorRate]; !strings.HasPrefix(got, "false:") {
		t.Errorf("error-rate input %q should start with its truth", got)
	}
}

func TestScalingPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*ScalingPolicy)
		key  string
	}{
		{"min of zero would allow scaling to zero", func(p *ScalingPolicy) { p.Min = 0 }, "min_replicas"},
		{"max below min", func(p *ScalingPolicy) { p.Max = 1 }, "max_replicas"},
		{"scale-down threshold at the scale-up threshold", func(p *ScalingPolicy) { p.Down.Threshold = 80 }, "scale_down.cpu"},
		{"scale-down threshold above the scale-up threshold", func(p *ScalingPolicy) { p.Down.Threshold = 85 }, "scale_down.cpu"},
		{"a zero step", func(p *ScalingPolicy) { p.Up.Step = 0 }, "scale_up.step"},
		{"a step beyond max", func(p *ScalingPolicy) { p.Out.Step = 11 }, "scale_out.step"},
		{"a duration shorter than the sample step", func(p *ScalingPolicy) { p.Down.Sustain = 10 * time.Second }, "scale_down.duration"},
		{"a NaN threshold", func(p *ScalingPolicy) { p.Out.Threshold = math.NaN() }, "scale_out.error_rate"},
		{"a negative threshold", func(p *ScalingPolicy) { p.Up.Threshold = -1 }, "scale_up.cpu"},
		{"a zero sample step", func(p *ScalingPolicy) { p.SampleStep = 0 }, "scaling.sample_step"},
		{"a negative freshness", func(p *ScalingPolicy) { p.Freshness = -time.Second }, "scaling.freshness"},
	}
	if err := DefaultScalingPolicy().Validate(); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultScalingPolicy()
			tc.mod(&p)
			err := p.Validate()
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate() = %v, want ErrInvalidPolicy", err)
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Key != tc.key {
				t.Fatalf("first key = %v, want %q (err %v)", pe, tc.key, err)
			}
		})
	}
}
