package guard

import (
	"math"
	"strconv"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// VolumePolicy bounds the expansion of a PersistentVolumeClaim: within one
// incident (the 24 hours after its first expansion) a volume grows to at
// most MaxGrowthFactor × its size before that expansion, and never above
// Ceiling.
type VolumePolicy struct {
	MaxGrowthFactor float64 `json:"maxGrowthFactor"`
	Ceiling         int64   `json:"ceilingBytes"`
}

// DefaultVolumePolicy returns +50% per incident and a ceiling of 1 TiB.
func DefaultVolumePolicy() VolumePolicy {
	return VolumePolicy{MaxGrowthFactor: 1.5, Ceiling: 1 << 40}
}

// Validate reports every invalid value as a *PolicyError joined into one
// error, or nil.
func (p VolumePolicy) Validate() error {
	var ps problems
	ps.check(p.MaxGrowthFactor >= 1 && !math.IsInf(p.MaxGrowthFactor, 0), "storage.volume_max_growth_factor",
		"must be a finite factor of at least 1, got %g", p.MaxGrowthFactor)
	ps.check(p.Ceiling > 0, "storage.volume_ceiling", "must be positive, got %d", p.Ceiling)
	return ps.err()
}

// Limit is the largest size an incident whose first expansion started from
// base may reach: base × MaxGrowthFactor, rounded down to whole MiB, and at
// most Ceiling. The rules planner asks for it; DecideExpansion allows it.
func (p VolumePolicy) Limit(base int64) int64 {
	limit, _ := p.limit(base)
	return limit
}

// limit is Limit and the rule that bounds it.
func (p VolumePolicy) limit(base int64) (int64, string) {
	const mib = 1 << 20
	grown := factorCap(base, p.MaxGrowthFactor)
	if grown >= mib {
		grown -= grown % mib
	}
	if p.Ceiling < grown {
		return p.Ceiling, RuleVolumeCeiling
	}
	return grown, RuleVolumeGrowth
}

// VolumeInput is one proposed expansion of a claim to Requested bytes.
type VolumeInput struct {
	Volume    platform.Volume
	Requested int64
	State     WorkloadState // the guard's state of the claim
	Now       time.Time
}

// DecideExpansion judges an expansion and returns the state to persist with
// it (its baseline set). Refused: an invalid policy, a StorageClass that
// cannot be read or does not allow expansion, a claim that is not bound, a
// size that is not larger than the requested one, a volume already at its
// limit. The limit is the baseline (the requested size before the first
// expansion of the last 24 hours, else the current one) × MaxGrowthFactor,
// at most Ceiling; a larger request is clamped to it. A refused decision
// returns the state unchanged.
func (p VolumePolicy) DecideExpansion(in VolumeInput) (Decision, WorkloadState) {
	v := in.Volume
	cur, base := v.Requested, v.Requested
	if volumeBaselineValid(in.State, in.Now) {
		base = in.State.VolumeBaseline
	}
	d := p.expansion(in, base)
	d.From, d.Requested = cur, in.Requested
	if d.Verdict == Refuse {
		d.To = cur
	}
	d.Inputs = map[string]string{
		"storage_class":     v.StorageClass,
		"allow_expansion":   strconv.FormatBool(v.AllowExpansion),
		"requested_bytes":   strconv.FormatInt(cur, 10),
		"capacity_bytes":    strconv.FormatInt(v.Capacity, 10),
		"baseline_bytes":    strconv.FormatInt(base, 10),
		"max_growth_factor": strconv.FormatFloat(p.MaxGrowthFactor, 'g', -1, 64),
		"ceiling_bytes":     strconv.FormatInt(p.Ceiling, 10),
	}
	st := in.State
	if d.Allowed() && !volumeBaselineValid(st, in.Now) {
		st.VolumeBaseline, st.VolumeBaselineAt = base, in.Now
	}
	return d, st
}

// expansion is the decision: the preconditions, then the limit.
func (p VolumePolicy) expansion(in VolumeInput, base int64) Decision {
	v, name := in.Volume, in.Volume.Ref.String()
	if err := p.Validate(); err != nil {
		return invalidPolicy(err)
	}
	if d, stop := volumePreconditions(in); stop {
		return d
	}
	limit, rule := p.limit(base)
	why := "one incident may grow it to at most ×" + strconv.FormatFloat(p.MaxGrowthFactor, 'g', -1, 64) + " of its size before the first expansion (" +
		fmtBytes(base) + "), " + fmtBytes(limit)
	if rule == RuleVolumeCeiling {
		why = "the volume ceiling is " + fmtBytes(p.Ceiling)
	}
	switch {
	case v.Requested >= limit:
		return refuse(rule, "%s is already %s and %s; escalate instead", name, fmtBytes(v.Requested), why)
	case in.Requested > limit:
		d := decide(Clamp, rule, "requested "+fmtBytes(in.Requested)+", but "+why+": expanding "+name+" from "+
			fmtBytes(v.Requested)+" to "+fmtBytes(limit)+" instead")
		d.To = limit
		return d
	}
	d := allow(RuleVolumeExpand, "expand %s from %s to %s (StorageClass %s allows expansion; at most ×%g of %s per incident, ceiling %s)",
		name, fmtBytes(v.Requested), fmtBytes(in.Requested), v.StorageClass, p.MaxGrowthFactor, fmtBytes(base), fmtBytes(p.Ceiling))
	d.To = in.Requested
	return d
}

// volumePreconditions refuses an expansion the StorageClass or the claim
// does not allow, and a size that is not larger.
func volumePreconditions(in VolumeInput) (Decision, bool) {
	v, name := in.Volume, in.Volume.Ref.String()
	switch {
	case v.ClassProblem != "":
		return refuse(RuleVolumeClassUnknown, "whether %s may be expanded is unknown: %s", name, v.ClassProblem), true
	case !v.AllowExpansion:
		return refuse(RuleVolumeExpansionDisabled, "the StorageClass %s of %s does not allow volume expansion (allowVolumeExpansion is not true): free space or move the data instead",
			v.StorageClass, name), true
	case v.Phase != platform.VolumeBound:
		return refuse(RuleVolumeNotBound, "%s is %s, not Bound: only a bound claim can be expanded", name, orUnknown(v.Phase)), true
	case in.Requested < v.Requested:
		return refuse(RuleVolumeShrink, "a volume is never shrunk: %s requests %s, %s asked", name, fmtBytes(v.Requested), fmtBytes(in.Requested)), true
	case in.Requested == v.Requested:
		return refuse(RuleVolumeShrink, "%s already requests %s: an expansion must ask for more", name, fmtBytes(v.Requested)), true
	}
	return Decision{}, false
}

func orUnknown(s string) string {
	if s == "" {
		return "in an unknown phase"
	}
	return s
}

// volumeBaselineValid reports whether the recorded volume baseline is from
// the last 24 hours (one incident).
func volumeBaselineValid(s WorkloadState, now time.Time) bool {
	age := now.Sub(s.VolumeBaselineAt)
	return s.VolumeBaseline > 0 && !s.VolumeBaselineAt.IsZero() && age >= 0 && age < baselineWindow
}
