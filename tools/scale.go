package tools

import (
	"context"
	"errors"
	"fmt"
	"time"

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

func scaleDeploymentTool() Tool {
	return writeTool[scaleArgs]{
		name: ScaleDeployment, risk: RiskWrite,
		desc: "Set a workload's replicas; the guard clamps to what the scaling rules allow.",
		plan: planScale, after: afterScale,
	}
}

func planScale(ctx context.Context, r *Registry, run *Run, a scaleArgs) (Plan, error) {
	ref := platform.WorkloadRef(a.WorkloadArgs)
	w, state, err := r.workloadAndState(ctx, ref)
	if err != nil {
		return Plan{}, err
	}
	pol := r.deps.Policy.Scaling
	now := r.now()
	window := max(pol.Up.Sustain, pol.Down.Sustain, pol.Out.Sustain) + 2*pol.SampleStep
	in := guard.ScaleInput{
		Workload: w, Requested: int64(a.Replicas), State: state, Now: now,
		CPU:       r.observe(ctx, platform.MetricCPU, ref, now.Add(-window), now, pol.SampleStep),
		ErrorRate: r.observe(ctx, platform.MetricErrorRate, ref, now.Add(-window), now, pol.SampleStep),
	}
	d := pol.Decide(in)
	to := int32(d.To)
	p := Plan{Target: ref.String(), Decision: d,
		Summary: fmt.Sprintf("scale %s from %d to %d replicas", ref, w.Replicas, to),
		Params:  map[string]any{"from": w.Replicas, "to": to, "requested": a.Replicas}}
	if !d.Allowed() {
		p.Summary = fmt.Sprintf("scale %s from %d to %d replicas", ref, w.Replicas, a.Replicas)
		return p, nil
	}
	next := state
	if to > w.Replicas {
		next.LastScaleUp = now
	} else {
		next.LastScaleDown = now
	}
	next.LastScaleFrom, next.LastScaleTo = int64(w.Replicas), int64(to)
	p.Apply = func(ctx context.Context, dryRun bool) (any, error) {
		got, err := r.deps.Cluster.Scale(ctx, ref, platform.ScaleRequest{
			Replicas: to, ExpectedVersion: w.ResourceVersion, DryRun: dryRun,
			Annotations: map[string]string{guard.StateAnnotation: next.Encode()},
		})
		if err != nil {
			return nil, fmt.Errorf("scale %s: %w", ref, err)
		}
		return ScaleResult{Target: ref.String(), From: w.Replicas, To: to, Rule: d.Rule, DryRun: dryRun, Replicas: got.Replicas}, nil
	}
	return p, nil
}

func afterScale(ctx context.Context, r *Registry, run *Run, a scaleArgs, p Plan, res any) error {
	sr, _ := res.(ScaleResult)
	ref := platform.WorkloadRef(a.WorkloadArgs)
	now := r.now()
	errs := []error{r.updateState(ctx, ref, func(s *guard.WorkloadState) {
		if sr.To > sr.From {
			s.LastScaleUp = now
		} else {
			s.LastScaleDown = now
		}
		s.LastScaleFrom, s.LastScaleTo = int64(sr.From), int64(sr.To)
	})}
	if r.deps.Recorder != nil {
		errs = append(errs, r.deps.Recorder.RecordScale(ctx, run.AlertID, ref, sr.From, sr.To, p.Decision.Rule, firstNonEmpty(a.Reason, p.Decision.Reason)))
	}
	errs = append(errs, r.deps.Cluster.RecordEvent(ctx, ref, platform.Event{Time: now, Type: "Normal", Reason: "SuccessfulRescale",
		Message: fmt.Sprintf("ops-skill: new size %d; reason: %s", sr.To, text.Clip(p.Decision.Reason, 200))}))
	return errors.Join(errs...)
}

// observe reads a metric window for the guard; a failure becomes an unknown observation.
func (r *Registry) observe(ctx context.Context, m platform.MetricName, ref platform.WorkloadRef, from, to time.Time, step time.Duration) guard.Observation {
	if r.deps.Metrics == nil {
		return guard.Observation{Err: errNotConfigured("metrics", "set PROMETHEUS_URL")}
	}
	res, err := r.deps.Metrics.Query(ctx, platform.MetricQuery{Metric: m, Target: ref, Start: from, End: to, Step: step})
	if err != nil {
		return guard.Observation{Err: err}
	}
	switch len(res.Series) {
	case 0:
		return guard.Observation{Err: fmt.Errorf("%s of %s: no data", m, ref)}
	case 1:
		return guard.Observation{Samples: res.Series[0].Samples}
	}
	return guard.Observation{Err: fmt.Errorf("%s of %s: %d series where one was expected", m, ref, len(res.Series))}
}

// workloadAndState reads a workload and the guard's state of it: what every
// write tool plans from.
func (r *Registry) workloadAndState(ctx context.Context, ref platform.WorkloadRef) (platform.Workload, guard.WorkloadState, error) {
	w, err := r.workload(ctx, ref)
	if err != nil {
		return w, guard.WorkloadState{}, err
	}
	state, err := r.loadState(ctx, w)
	return w, state, err
}

// loadState merges the persisted state with the state annotation on the
// workload, keeping the most recent of each timestamp, so a state written by
// another agent on the workload is honoured.
func (r *Registry) loadState(ctx context.Context, w platform.Workload) (guard.WorkloadState, error) {
	var s guard.WorkloadState
	if r.deps.State != nil {
		var err error
		if s, err = r.deps.State.Load(ctx, w.Ref); err != nil {
			return s, fmt.Errorf("load guard state of %s: %w", w.Ref, err)
		}
	}
	if raw, ok := w.Annotations[guard.StateAnnotation]; ok {
		a, err := guard.DecodeState(raw)
		if err != nil {
			// Starting from an empty state would forget cooldowns: refuse instead.
			return s, &guard.Violation{Rule: guard.RuleStateUnreadable, Reason: fmt.Sprintf("the %s annotation on %s cannot be read (%v); fix or remove it", guard.StateAnnotation, w.Ref, err)}
		}
		s = guard.MergeState(s, a)
	}
	return s, nil
}

func (r *Registry) updateState(ctx context.Context, ref platform.WorkloadRef, fn func(*guard.WorkloadState)) error {
	if r.deps.State == nil {
		return nil
	}
	return r.deps.State.Update(ctx, ref, func(s *guard.WorkloadState) error { fn(s); return nil })
}
