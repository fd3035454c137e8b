package tools

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
)

type expandArgs struct {
	VolumeArgs
	Size   string `json:"size" desc:"e.g. 15Gi"`
	Reason string `json:"reason,omitempty"`
}

func (a expandArgs) Validate() error {
	errs := []error{a.VolumeArgs.Validate(), checkLen("reason", a.Reason, 500)}
	if n, err := units.ParseBytes(a.Size); err != nil {
		errs = append(errs, fmt.Errorf(`field "size": %w`, err))
	} else if n <= 0 {
		errs = append(errs, fmt.Errorf(`field "size" = %q must be positive`, a.Size))
	}
	return errors.Join(errs...)
}

// ExpandResult is what an expansion did: the requested size before and
// after, and the capacity and expansion state the claim's status showed
// right after the write (the capacity grows later; the agent verifies it).
type ExpandResult struct {
	Target    string    `json:"target"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Capacity  string    `json:"capacity"`
	Expansion Expansion `json:"expansion"`
	Note      string    `json:"note"`
	DryRun    bool      `json:"dryRun,omitempty"`
}

// expander plans expandVolume with the backends it uses.
type expander struct {
	volumes platform.Volumes
	state   StateStore
	clock   clock.PassiveClock
	policy  guard.VolumePolicy
}

// NewExpandVolume builds expandVolume. It reads the claim and its class
// through v and the guard's state of it through st and the claim's
// annotation, writes the new size with the state annotation through v and
// stores the state in st. Without v its calls fail (not configured); without
// st the state lives only in the claim's annotation.
func NewExpandVolume(v platform.Volumes, st StateStore, clk clock.PassiveClock, pol guard.VolumePolicy) Tool {
	t := writer[expandArgs]{about: about{ExpandVolume, RiskWrite, "Grow a PVC (bounded)."},
		plan: unplannable[expandArgs](errNoKubernetes)}
	if v != nil {
		if st == nil {
			st = noState{}
		}
		t.plan = expander{v, st, realIfNil(clk), pol}.plan
	}
	return t
}

func (e expander) plan(ctx context.Context, _ *Run, a expandArgs) (Plan, error) {
	ref := platform.VolumeRef(a.VolumeArgs)
	v, err := e.volumes.GetVolume(ctx, ref)
	if err != nil {
		return Plan{}, err
	}
	state, err := e.load(ctx, v)
	if err != nil {
		return Plan{}, err
	}
	want, _ := units.ParseBytes(a.Size)
	now := e.clock.Now()
	d, judged := e.policy.DecideExpansion(guard.VolumeInput{Volume: v, Requested: want, State: state, Now: now})
	from, to := v.Requested, d.To
	p := Plan{Target: ref.String(), Decision: d,
		Summary: fmt.Sprintf("expand volume %s from %s to %s", ref, units.IBytes(from), units.IBytes(to)),
		Params:  map[string]any{"from": units.IBytes(from), "to": units.IBytes(to), "requested": a.Size}}
	if !d.Allowed() {
		p.Summary = fmt.Sprintf("expand volume %s from %s to %s", ref, units.IBytes(from), a.Size)
		return p, nil
	}
	p.Next = baselined(state, judged)
	annotation := p.Next(state).Encode()
	p.Apply = func(ctx context.Context, dryRun bool) (any, error) {
		got, err := e.volumes.ResizeVolume(ctx, ref, platform.ResizeRequest{Size: to, ExpectedVersion: v.ResourceVersion, DryRun: dryRun,
			Annotations: map[string]string{guard.StateAnnotation: annotation}})
		if err != nil {
			return nil, fmt.Errorf("expand volume %s: %w", ref, err)
		}
		return expandResult(ref, from, to, got, dryRun), nil
	}
	next := p.Next
	p.Applied = func(ctx context.Context, _ any) error {
		return errors.Join(e.state.Update(ctx, VolumeStateKey(ref), func(s *guard.WorkloadState) error { *s = next(*s); return nil }),
			e.volumes.RecordVolumeEvent(ctx, ref, platform.Event{Time: e.clock.Now(), Type: "Normal", Reason: "SuccessfulExpansion",
				Message: fmt.Sprintf("ops-skill: new size %s (was %s); reason: %s", units.IBytes(to), units.IBytes(from), text.Clip(d.Reason, 200))}))
	}
	return p, nil
}

// load merges the stored state of a claim with its state annotation,
// refusing a state it cannot read (starting empty would forget the baseline).
func (e expander) load(ctx context.Context, v platform.Volume) (guard.WorkloadState, error) {
	s, err := e.state.Load(ctx, VolumeStateKey(v.Ref))
	if err != nil {
		return s, fmt.Errorf("load guard state of %s: %w", v.Ref, err)
	}
	if raw, ok := v.Annotations[guard.StateAnnotation]; ok {
		a, err := guard.DecodeState(raw)
		if err != nil {
			return s, &guard.Violation{Rule: guard.RuleStateUnreadable, Reason: fmt.Sprintf("the %s annotation on persistentvolumeclaim %s cannot be read (%v); fix or remove it", guard.StateAnnotation, v.Ref, err)}
		}
		s = guard.MergeState(s, a)
	}
	return s, nil
}

// baselined is the state change of an expansion: the baseline the guard
// started, when it started one.
func baselined(before, after guard.WorkloadState) StateChange {
	rebased := after.VolumeBaseline != before.VolumeBaseline || !after.VolumeBaselineAt.Equal(before.VolumeBaselineAt)
	base, at := after.VolumeBaseline, after.VolumeBaselineAt
	return func(s guard.WorkloadState) guard.WorkloadState {
		if rebased {
			s.VolumeBaseline, s.VolumeBaselineAt = base, at
		}
		return s
	}
}

// expandResult says honestly where the claim stands after the write.
func expandResult(ref platform.VolumeRef, from, to int64, got platform.Volume, dryRun bool) ExpandResult {
	res := ExpandResult{Target: ref.String(), From: units.IBytes(from), To: units.IBytes(to), Capacity: units.IBytes(got.Capacity),
		Expansion: ExpansionOf(got), DryRun: dryRun}
	switch {
	case dryRun:
		res.Note = "dry run: the change was validated and admitted, nothing was written"
	case res.Expansion == ExpansionComplete:
		res.Note = "the capacity is already " + res.Capacity
	case res.Expansion == ExpansionFailed:
		res.Note = "the request was written but the resize failed: see the claim's conditions"
	default:
		res.Note = fmt.Sprintf("the claim now requests %s; its capacity is still %s (%s): the volume has not grown yet, verification reads its status again",
			res.To, res.Capacity, res.Expansion)
	}
	return res
}
