package guard

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// baselineWindow is how long a memory baseline bounds further raises: raises
// within it (one incident) share one ×MemoryMaxFactor allowance.
const baselineWindow = 24 * time.Hour

// MemoryInput is one proposed memory-limit change of one container.
type MemoryInput struct {
	Workload  platform.Workload
	Container string
	// Current is the current limit in bytes; zero means read it from
	// Workload.Containers.
	Current   int64
	Requested int64
	State     WorkloadState
	Now       time.Time
}

// DecideMemory judges a memory-limit raise and returns the state to persist
// with the change (its memory baseline set). The limit may only go up, only
// for a workload with OOM kills in the last 24 hours, to at most
// MemoryMaxFactor × the baseline (State.MemoryBaseline when recorded within the
// last 24 hours, else the current limit) and never above MemoryCeiling; a
// larger request is clamped. A refused decision returns the state unchanged.
func (p HealingPolicy) DecideMemory(in MemoryInput) (Decision, WorkloadState) {
	d, cur, base := p.memoryDecision(in)
	d.From, d.Requested = cur, in.Requested
	if d.Verdict == Refuse {
		d.To = cur
	}
	d.Inputs = map[string]string{
		"container":      in.Container,
		"current_bytes":  strconv.FormatInt(cur, 10),
		"baseline_bytes": strconv.FormatInt(base, 10),
		"max_factor":     strconv.FormatFloat(p.MemoryMaxFactor, 'g', -1, 64),
		"ceiling_bytes":  strconv.FormatInt(p.MemoryCeiling, 10),
	}
	if why, ok := oomEvidence(in.Workload, in.Now); ok {
		d.Inputs["oom_evidence"] = why
	}
	st := in.State
	if d.Allowed() && !baselineValid(st, in.Now) {
		st.MemoryBaseline, st.MemoryBaselineAt = base, in.Now
	}
	return d, st
}

// memoryDecision returns the decision, the current limit and the baseline.
func (p HealingPolicy) memoryDecision(in MemoryInput) (Decision, int64, int64) {
	name := in.Workload.Ref.String()
	if !p.Enabled {
		return refuse(RuleDisabledHealing, "self-healing is disabled (SELF_HEAL_ENABLED=false); the memory limit of %s is not changed", name), in.Current, 0
	}
	if err := p.Validate(); err != nil {
		return invalidPolicy(err), in.Current, 0
	}
	cur, d, ok := currentLimit(in)
	if !ok {
		return d, cur, 0
	}
	base := cur
	if baselineValid(in.State, in.Now) {
		base = in.State.MemoryBaseline
	}
	if d, stop := memoryPreconditions(in, cur); stop {
		return d, cur, base
	}
	return p.memoryLimit(in, cur, base), cur, base
}

// currentLimit finds the container and its current limit.
func currentLimit(in MemoryInput) (int64, Decision, bool) {
	name := in.Workload.Ref.String()
	var c *platform.Container
	for i := range in.Workload.Containers {
		if in.Workload.Containers[i].Name == in.Container {
			c = &in.Workload.Containers[i]
		}
	}
	switch {
	case c == nil:
		return in.Current, refuse(RuleMemoryUnknownContainer, "%s has no container %q", name, in.Container), false
	case in.Current != 0 && c.MemoryLimit != 0 && in.Current != c.MemoryLimit:
		return in.Current, refuse(RuleMemoryStale, "the current limit given (%s) differs from the workload's (%s): re-read %s",
			fmtBytes(in.Current), fmtBytes(c.MemoryLimit), name), false
	}
	cur := in.Current
	if cur == 0 {
		cur = c.MemoryLimit
	}
	if cur <= 0 {
		return cur, refuse(RuleMemoryNoLimit, "container %s of %s has no memory limit; setting one could lower what it may use", in.Container, name), false
	}
	return cur, Decision{}, true
}

// memoryPreconditions refuses a paused rollout, a decrease and a raise with no OOM kill.
func memoryPreconditions(in MemoryInput, cur int64) (Decision, bool) {
	name := in.Workload.Ref.String()
	switch {
	case in.Workload.Paused:
		return refuse(RuleRestartPaused, "the rollout of %s is paused; a new memory limit would not roll out", name), true
	case in.Requested < cur:
		return refuse(RuleMemoryNoDecrease, "the memory limit of %s/%s is never lowered by ops-skill (%s requested, %s now)",
			name, in.Container, fmtBytes(in.Requested), fmtBytes(cur)), true
	case in.Requested == cur:
		return refuse(RuleNoChange, "the memory limit of %s/%s is already %s", name, in.Container, fmtBytes(cur)), true
	}
	if _, ok := oomEvidence(in.Workload, in.Now); !ok {
		return refuse(RuleMemoryNoOOM, "no pod of %s was OOM-killed in the last 24h; the memory limit is raised only after OOM kills", name), true
	}
	return Decision{}, false
}

// memoryLimit applies the factor and the ceiling.
func (p HealingPolicy) memoryLimit(in MemoryInput, cur, base int64) Decision {
	limit, rule := factorCap(base, p.MemoryMaxFactor), RuleMemoryMaxFactor
	why := fmt.Sprintf("the limit may grow to at most ×%g of its baseline %s, %s", p.MemoryMaxFactor, fmtBytes(base), fmtBytes(limit))
	if p.MemoryCeiling < limit {
		limit, rule = p.MemoryCeiling, RuleMemoryCeiling
		why = fmt.Sprintf("the memory ceiling is %s", fmtBytes(p.MemoryCeiling))
	}
	target := fmt.Sprintf("%s/%s", in.Workload.Ref, in.Container)
	switch {
	case cur >= limit:
		return refuse(rule, "the memory limit of %s is already %s and %s; escalate instead", target, fmtBytes(cur), why)
	case in.Requested > limit:
		d := decide(Clamp, rule, fmt.Sprintf("requested %s, but %s: raising %s from %s to %s instead",
			fmtBytes(in.Requested), why, target, fmtBytes(cur), fmtBytes(limit)))
		d.To = limit
		return d
	}
	d := allow(RuleMemoryRaise, "pods were OOM-killed: raise the memory limit of %s from %s to %s (baseline %s, at most ×%g, ceiling %s)",
		target, fmtBytes(cur), fmtBytes(in.Requested), fmtBytes(base), p.MemoryMaxFactor, fmtBytes(p.MemoryCeiling))
	d.To = in.Requested
	return d
}

// baselineValid reports whether the recorded baseline is from the last 24 hours.
func baselineValid(s WorkloadState, now time.Time) bool {
	age := now.Sub(s.MemoryBaselineAt)
	return s.MemoryBaseline > 0 && !s.MemoryBaselineAt.IsZero() && age >= 0 && age < baselineWindow
}

// factorCap is base × factor rounded down, saturating at MaxInt64.
func factorCap(base int64, factor float64) int64 {
	v := math.Floor(float64(base) * factor)
	if v >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// oomEvidence finds an OOM kill in the last 24 hours: a pod OOM-killed now or
// last terminated by OOM, or an OOM event.
func oomEvidence(w platform.Workload, now time.Time) (string, bool) {
	since := now.Add(-baselineWindow)
	if NeedsMemory(w) {
		return "pods are failing from OOM kills", true
	}
	for _, pod := range w.Pods {
		if pod.LastTerm != nil && pod.LastTerm.Reason == ReasonOOMKilled &&
			(pod.LastTerm.FinishedAt.IsZero() || pod.LastTerm.FinishedAt.After(since)) {
			return "pod " + pod.Name + " was OOM-killed", true
		}
	}
	for _, ev := range w.Events {
		if (ev.Reason == ReasonOOMKilled || ev.Reason == "OOMKilling") && ev.Time.After(since) {
			return "event " + ev.Reason + " at " + fmtClock(ev.Time), true
		}
	}
	return "", false
}
