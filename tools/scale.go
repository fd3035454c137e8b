package tools

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

type scaleArgs struct {
	WorkloadArgs
	Replicas int32  `json:"replicas"`
	Reason   string `json:"reason,omitempty"`
}

func (a scaleArgs) Validate() error {
	errs := []error{a.WorkloadArgs.Validate(), checkLen("reason", a.Reason, 500)}
	if a.Replicas < 0 {
		errs = append(errs, fmt.Errorf(`field "replicas" = %d must not be negative`, a.Replicas))
	}
	return errors.Join(errs...)
}

// ScaleResult is what a scale did.
type ScaleResult struct {
	Target   string `json:"target"`
	From     int32  `json:"from"`
	To       int32  `json:"to"`
	Rule     string `json:"rule"`
	DryRun   bool   `json:"dryRun,omitempty"`
	Replicas int32  `json:"replicasNow"`
}

// scaler plans scaleDeployment with the backends it uses.
type scaler struct {
	workloads
	observer
	scales ScaleRecorder
	clock  clock.PassiveClock
	policy guard.ScalingPolicy
}

// NewScaleDeployment builds scaleDeployment. It reads the workload and the
// guard's state of it through c and st, the metric windows the guard judges
// through m, scales through c, stores the new guard state in st and records
// the replica change in rec. Without c its calls fail (not configured);
// without m every metric is unknown and the guard refuses; without st or rec
// the state lives only in the workload annotation and no scale is recorded.
func NewScaleDeployment(c platform.Cluster, m platform.Metrics, st StateStore, rec ScaleRecorder, clk clock.PassiveClock, pol guard.ScalingPolicy) Tool {
	t := writer[scaleArgs]{about: about{ScaleDeployment, RiskWrite, "Set replicas, clamped by the scaling rules."},
		plan: unplannable[scaleArgs](errNoKubernetes)}
	if c != nil {
		if rec == nil {
			rec = unrecordedScales{}
		}
		t.plan = scaler{newWorkloads(c, st), newObserver(m), rec, realIfNil(clk), pol}.plan
	}
	return t
}

// unrecordedScales is the ScaleRecorder of a tool built without history.
type unrecordedScales struct{}

func (unrecordedScales) RecordScale(context.Context, int64, platform.WorkloadRef, int32, int32, string, string) error {
	return nil
}

func (s scaler) plan(ctx context.Context, run *Run, a scaleArgs) (Plan, error) {
	ref := platform.WorkloadRef(a.WorkloadArgs)
	w, state, err := s.withState(ctx, ref)
	if err != nil {
		return Plan{}, err
	}
	now := s.clock.Now()
	d := s.policy.Decide(s.input(ctx, ref, w, state, a.Replicas, now))
	to := int32(d.To)
	p := Plan{Target: ref.String(), Decision: d,
		Summary: fmt.Sprintf("scale %s from %d to %d replicas", ref, w.Replicas, to),
		Params:  map[string]any{"from": w.Replicas, "to": to, "requested": a.Replicas}}
	if !d.Allowed() {
		p.Summary = fmt.Sprintf("scale %s from %d to %d replicas", ref, w.Replicas, a.Replicas)
		return p, nil
	}
	from := w.Replicas
	p.Next = func(st guard.WorkloadState) guard.WorkloadState { return st.WithScale(int64(from), int64(to), now) }
	annotation := p.Next(state).Encode()
	p.Apply = func(ctx context.Context, dryRun bool) (any, error) {
		got, err := s.cluster.Scale(ctx, ref, platform.ScaleRequest{
			Replicas: to, ExpectedVersion: w.ResourceVersion, DryRun: dryRun,
			Annotations: map[string]string{guard.StateAnnotation: annotation},
		})
		if err != nil {
			return nil, fmt.Errorf("scale %s: %w", ref, err)
		}
		return ScaleResult{Target: ref.String(), From: from, To: to, Rule: d.Rule, DryRun: dryRun, Replicas: got.Replicas}, nil
	}
	next, why := p.Next, firstNonEmpty(a.Reason, d.Reason)
	p.Applied = func(ctx context.Context, _ any) error {
		return errors.Join(s.store(ctx, ref, next),
			s.scales.RecordScale(ctx, run.AlertID, ref, from, to, d.Rule, why),
			s.cluster.RecordEvent(ctx, ref, platform.Event{Time: s.clock.Now(), Type: "Normal", Reason: "SuccessfulRescale",
				Message: fmt.Sprintf("ops-skill: new size %d; reason: %s", to, text.Clip(d.Reason, 200))}))
	}
	return p, nil
}

// input is what the guard judges a scale of w to the requested replicas on.
func (s scaler) input(ctx context.Context, ref platform.WorkloadRef, w platform.Workload, state guard.WorkloadState, requested int32, now time.Time) guard.ScaleInput {
	pol := s.policy
	window := max(pol.Up.Sustain, pol.Down.Sustain, pol.Out.Sustain) + 2*pol.SampleStep
	return guard.ScaleInput{
		Workload: w, Requested: int64(requested), State: state, Now: now,
		CPU:       s.observe(ctx, platform.MetricCPU, ref, now.Add(-window), now, pol.SampleStep),
		ErrorRate: s.observe(ctx, platform.MetricErrorRate, ref, now.Add(-window), now, pol.SampleStep),
	}
}
