package guard

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// candidate is one reason to move the replicas: a firing rule or a bound
// correction, with how far it allows to move (dist, always positive).
type candidate struct {
	rule  string
	dist  int64
	why   string // why the move is allowed
	limit string // what the candidate allows, for clamp reasons
}

// up judges an increase.
func (c *scaleCtx) up() Decision {
	p, now, st := c.p, c.in.Now, c.in.State
	cpu := p.window("cpu", Above, p.Up, st.LastScaleUp).Evaluate(c.in.CPU, now)
	errs := p.window("error rate", Above, p.Out, st.LastScaleUp).Evaluate(c.in.ErrorRate, now)
	c.note(RuleScaleUpCPU, cpu)
	c.note(RuleScaleOutErrorRate, errs)
	if c.cur >= p.Max {
		return refuse(RuleMaxReplicas, "%s is at %d replicas, at or above max_replicas %d; escalate instead of scaling further",
			c.name, c.cur, p.Max)
	}
	cands := make([]candidate, 0, 3)
	if c.cur < p.Min {
		cands = append(cands, candidate{RuleMinReplicas, p.Min - c.cur,
			fmt.Sprintf("%s is below min_replicas %d", c.name, p.Min),
			fmt.Sprintf("without a firing rule only the move up to min_replicas %d is allowed", p.Min)})
	}
	if cpu.Truth == True {
		cands = append(cands, ruleCandidate(RuleScaleUpCPU, p.Up.Step, cpu))
	}
	if errs.Truth == True {
		cands = append(cands, ruleCandidate(RuleScaleOutErrorRate, p.Out.Step, errs))
	}
	if len(cands) == 0 {
		return c.blockedUp(cpu, errs)
	}
	return c.settle(cands, p.Max-c.cur, RuleMaxReplicas, fmt.Sprintf("max_replicas is %d", p.Max), 1)
}

func ruleCandidate(rule string, step int64, e Evaluation) candidate {
	return candidate{rule, step, e.Reason, fmt.Sprintf("%s allows a move of %d replica(s)", rule, step)}
}

// blockedUp refuses an increase no rule supports, naming the cpu rule's state
// first.
func (c *scaleCtx) blockedUp(cpu, errs Evaluation) Decision {
	rule := RuleMetricUnknown
	switch {
	case cpu.Cause == CauseSettling:
		rule = RuleStabilizationUp
	case cpu.Truth == False:
		rule = RuleScaleUpCPU
	case errs.Cause == CauseSettling:
		rule = RuleStabilizationUp
	}
	return refuse(rule, "no scale-up rule is satisfied for %s: %s (%s); %s (%s)",
		c.name, cpu.Reason, cpu.Truth, errs.Reason, errs.Truth)
}

// down judges a decrease.
func (c *scaleCtx) down() Decision {
	p, now, st := c.p, c.in.Now, c.in.State
	if c.cur <= p.Min {
		return refuse(RuleMinReplicas, "%s is at %d replicas, at or below min_replicas %d", c.name, c.cur, p.Min)
	}
	errs := p.window("error rate", NotAbove, p.Out, time.Time{}).Evaluate(c.in.ErrorRate, now)
	cpu := p.window("cpu", Below, p.Down, st.LastScaleDown).Evaluate(c.in.CPU, now)
	c.note(RuleScaleDownCPU, cpu)
	c.note(RuleScaleDownErrorRate, errs)
	cooling, left := c.cooldown()
	if d, stop := c.downBlocked(cpu, errs, cooling, left); stop {
		return d
	}
	cands := make([]candidate, 0, 2)
	if c.cur > p.Max {
		cands = append(cands, candidate{RuleMaxReplicas, c.cur - p.Max,
			fmt.Sprintf("%s is above max_replicas %d", c.name, p.Max),
			fmt.Sprintf("without a firing rule only the move down to max_replicas %d is allowed", p.Max)})
	}
	if cpu.Truth == True && !cooling {
		cands = append(cands, ruleCandidate(RuleScaleDownCPU, p.Down.Step, cpu))
	}
	switch {
	case len(cands) > 0:
		return c.settle(cands, c.cur-p.Min, RuleMinReplicas, fmt.Sprintf("min_replicas is %d", p.Min), -1)
	case cpu.Cause == CauseSettling:
		return refuse(RuleStabilizationDown, "%s is stabilising after its last scale down: %s", c.name, cpu.Reason)
	}
	return refuse(RuleScaleDownCPU, "no scale-down rule is satisfied for %s: %s", c.name, cpu.Reason)
}

// downBlocked applies the refusals that block every decrease: the cooldown
// after a scale up (unless above Max), pods not ready, an unknown or elevated
// error rate, and an unknown cpu.
func (c *scaleCtx) downBlocked(cpu, errs Evaluation, cooling bool, left time.Duration) (Decision, bool) {
	w := c.in.Workload
	switch {
	case cooling && c.cur <= c.p.Max:
		return refuse(RuleCooldownDownAfterUp, "%s was scaled up at %s; no scale-down within %s of a scale-up (%s left)",
			c.name, fmtClock(c.in.State.LastScaleUp), fmtDur(c.p.Down.Sustain), fmtDur(left)), true
	case w.ReadyReplicas < w.Replicas:
		return refuse(RuleScaleDownNotReady, "only %d of %d replicas of %s are ready; no scale-down while pods are not ready",
			w.ReadyReplicas, w.Replicas, c.name), true
	case errs.Truth == Unknown:
		return refuse(RuleMetricUnknown, "a scale-down needs every metric known, but %s", errs.Reason), true
	case errs.Truth == False:
		return refuse(RuleScaleDownErrorRate, "no scale-down while errors are elevated: %s", errs.Reason), true
	case cpu.Truth == Unknown && cpu.Cause != CauseSettling:
		return refuse(RuleMetricUnknown, "a scale-down needs every metric known, but %s", cpu.Reason), true
	}
	return Decision{}, false
}

// cooldown reports whether a scale-down is still within Down.Sustain of the
// last scale up, and how long is left. A last scale up in the future (clock
// skew) counts as within the cooldown.
func (c *scaleCtx) cooldown() (bool, time.Duration) {
	up := c.in.State.LastScaleUp
	if up.IsZero() {
		return false, 0
	}
	elapsed := c.in.Now.Sub(up)
	if elapsed >= c.p.Down.Sustain {
		return false, 0
	}
	return true, c.p.Down.Sustain - elapsed
}

// settle turns the candidates into a decision: the furthest candidate, capped
// at the bound, limits the move (max of proposals, not the sum); a request
// within it is allowed as asked and credited to the nearest candidate that
// covers it, a request beyond it is clamped. sign is +1 for up, -1 for down.
func (c *scaleCtx) settle(cands []candidate, bound int64, boundRule, boundWhy string, sign int64) Decision {
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(a.dist, b.dist) })
	best := cands[len(cands)-1]
	limit, limiter, why := best.dist, best.rule, best.limit
	if limit > bound {
		limit, limiter, why = bound, boundRule, boundWhy
	}
	want := (c.in.Requested - c.cur) * sign
	verb := "scale up"
	if sign < 0 {
		verb = "scale down"
	}
	if want <= limit {
		for _, cd := range cands {
			if cd.dist >= want {
				d := allow(cd.rule, "%s: %s %s from %d to %d replicas", cd.why, verb, c.name, c.cur, c.in.Requested)
				d.To = c.in.Requested
				return d
			}
		}
	}
	to := c.cur + sign*limit
	d := decide(Clamp, limiter, fmt.Sprintf("requested %d replicas, but %s: %s %s from %d to %d replicas instead",
		c.in.Requested, why, verb, c.name, c.cur, to))
	d.To = to
	return d
}
