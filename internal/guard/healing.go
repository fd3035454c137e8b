package guard

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Restart actions.
const (
	ActionRollout = "rollout" // a rollout restart of the whole workload
	ActionReplace = "replace" // eviction of the named pods, replaced by their controller
)

// Pod reasons the policy reads.
const (
	ReasonOOMKilled        = "OOMKilled"
	ReasonCrashLoopBackOff = "CrashLoopBackOff"
)

// HealingPolicy holds the self-healing rules: the restart → replace → escalate
// ladder on consecutive health-check failures, a restart budget per workload
// per hour, and the bounds of a memory-limit raise after OOM kills.
type HealingPolicy struct {
	Enabled              bool `json:"enabled"`
	RestartThreshold     int  `json:"restartThreshold"`
	ReplacementThreshold int  `json:"replacementThreshold"`
	RestartBudgetPerHour int  `json:"restartBudgetPerHour"`
	// MemoryMaxFactor bounds a memory limit to this multiple of the baseline
	// (the limit before the first raise of the last 24 hours).
	MemoryMaxFactor float64 `json:"memoryMaxFactor"`
	// MemoryCeiling is the highest memory limit ever set, in bytes.
	MemoryCeiling int64 `json:"memoryCeilingBytes"`
}

// DefaultHealingPolicy returns the spec's thresholds (restart at 3, replace at
// 5), 3 restarts per hour, memory raises of at most ×2 and never above 16 GiB.
func DefaultHealingPolicy() HealingPolicy {
	return HealingPolicy{
		Enabled: true, RestartThreshold: 3, ReplacementThreshold: 5, RestartBudgetPerHour: 3,
		MemoryMaxFactor: 2, MemoryCeiling: 16 << 30,
	}
}

// Validate reports every invalid value as a *PolicyError joined into one
// error, or nil.
func (p HealingPolicy) Validate() error {
	var ps problems
	ps.check(p.RestartThreshold >= 1, "self_healing.restart_threshold", "must be at least 1, got %d", p.RestartThreshold)
	ps.check(p.ReplacementThreshold > p.RestartThreshold, "self_healing.replacement_threshold",
		"(%d) must be above restart_threshold (%d)", p.ReplacementThreshold, p.RestartThreshold)
	ps.check(p.RestartBudgetPerHour >= 0, "self_healing.restart_budget_per_hour", "must not be negative, got %d", p.RestartBudgetPerHour)
	ps.check(p.MemoryMaxFactor >= 1 && !math.IsInf(p.MemoryMaxFactor, 0), "self_healing.memory_raise_max_factor",
		"must be a finite factor of at least 1, got %g", p.MemoryMaxFactor)
	ps.check(p.MemoryCeiling > 0, "self_healing.memory_ceiling", "must be positive, got %d", p.MemoryCeiling)
	return ps.err()
}

// Step is a rung of the self-healing ladder.
type Step int

// The rungs, in order.
const (
	StepNone Step = iota
	StepRestart
	StepReplace
	StepEscalate
)

// String renders the step as none, restart, replace or escalate.
func (s Step) String() string {
	switch s {
	case StepRestart:
		return "restart"
	case StepReplace:
		return "replace"
	case StepEscalate:
		return "escalate"
	}
	return "none"
}

// Ladder maps consecutive health-check failures to the next step: none below
// RestartThreshold, restart from RestartThreshold, replace at
// ReplacementThreshold, escalate beyond it (the check after the replacement
// still failed). With self-healing disabled, any failure count at or above
// RestartThreshold escalates, since no automatic step will be taken.
func (p HealingPolicy) Ladder(consecutiveFailures int) Step {
	f := consecutiveFailures
	switch {
	case f <= 0 || f < p.RestartThreshold:
		return StepNone
	case !p.Enabled || f > p.ReplacementThreshold:
		return StepEscalate
	case f == p.ReplacementThreshold:
		return StepReplace
	}
	return StepRestart
}

// RestartInput is one proposed restart and what the guard needs to judge it.
type RestartInput struct {
	Workload platform.Workload
	Action   string   // ActionRollout or ActionReplace
	Pods     []string // the pods to replace (ActionReplace)
	State    WorkloadState
	Now      time.Time
	// ConsecutiveFailures is the current count of failed health checks; zero
	// when unknown, in which case unhealthy pods are the evidence.
	ConsecutiveFailures int
	Reason              string
}

// DecideRestart judges a restart. Refused: self-healing disabled, an invalid
// policy or action, a paused rollout, a replacement naming no pod, a foreign
// pod or every ready pod, the hourly budget spent (State.Restarts in the last
// hour), a repeat restart of OOM-killed pods (raise memory instead), a restart
// the ladder does not call for (below the threshold with every pod healthy, a
// rollout where the ladder says replace, a replacement after a replacement
// already failed). An allowed restart of OOM-killed pods is noted in
// Inputs["oom"]: a restart alone will not fix it.
func (p HealingPolicy) DecideRestart(in RestartInput) Decision {
	since := in.Now.Add(-time.Hour)
	recentRestarts := countSince(in.State.Restarts, since)
	step := p.Ladder(in.ConsecutiveFailures)
	inputs := map[string]string{
		"action":               in.Action,
		"consecutive_failures": strconv.Itoa(in.ConsecutiveFailures),
		"ladder":               step.String(),
		"restarts_last_hour":   strconv.Itoa(recentRestarts),
		"budget_per_hour":      strconv.Itoa(p.RestartBudgetPerHour),
	}
	if len(in.Pods) > 0 {
		inputs["pods"] = strings.Join(in.Pods, ",")
	}
	if in.Reason != "" {
		inputs["reason"] = in.Reason
	}
	d := p.restartDecision(in, step, recentRestarts)
	if d.Allowed() && NeedsMemory(in.Workload) {
		inputs["oom"] = "restart alone will not fix OOM: raise the memory limit or escalate"
		d.Reason += "; pods are OOM-killed, so a restart alone will not fix this"
	}
	d.Inputs = inputs
	d.Basis = &Basis{Restart: &in}
	return d
}

func (p HealingPolicy) restartDecision(in RestartInput, step Step, recentRestarts int) Decision {
	w, name := in.Workload, in.Workload.Ref.String()
	if !p.Enabled {
		return refuse(RuleDisabledHealing, "self-healing is disabled (SELF_HEAL_ENABLED=false); escalate %s to a human", name)
	}
	if err := p.Validate(); err != nil {
		return invalidPolicy(err)
	}
	if in.Action != ActionRollout && in.Action != ActionReplace {
		return refuse(RuleRestartInvalidAction, "%q is not a restart action (rollout or replace)", in.Action)
	}
	if w.Paused {
		return refuse(RuleRestartPaused, "the rollout of %s is paused; someone paused it on purpose, so it is not restarted", name)
	}
	if in.Action == ActionReplace {
		if d, stop := replaceChecks(w, in.Pods); stop {
			return d
		}
	}
	if recentRestarts >= p.RestartBudgetPerHour {
		return refuse(RuleRestartBudget, "%s was restarted %d times in the last hour, the budget is %d per hour; next restart allowed at %s",
			name, recentRestarts, p.RestartBudgetPerHour, fmtClock(nextSlot(in.State.Restarts, in.Now, p.RestartBudgetPerHour)))
	}
	if last, ok := latestSince(in.State.Restarts, in.Now.Add(-time.Hour)); ok && NeedsMemory(w) {
		return refuse(RuleRestartNeedsMemory, "pods of %s are still OOM-killed after the restart at %s; restarting again will not help: raise the memory limit or escalate",
			name, fmtClock(last))
	}
	if d, stop := p.ladderCheck(in, step); stop {
		return d
	}
	if in.Action == ActionReplace {
		return allow(RuleRestartReplace, "replace %d pod(s) of %s (%d consecutive failures, ladder: %s; %d of %d restarts used this hour)",
			len(in.Pods), name, in.ConsecutiveFailures, step, recentRestarts, p.RestartBudgetPerHour)
	}
	return allow(RuleRestartRollout, "rollout restart of %s (%d consecutive failures, ladder: %s; %d of %d restarts used this hour)",
		name, in.ConsecutiveFailures, step, recentRestarts, p.RestartBudgetPerHour)
}

// ladderCheck refuses a restart the ladder does not call for.
func (p HealingPolicy) ladderCheck(in RestartInput, step Step) (Decision, bool) {
	w, name, f := in.Workload, in.Workload.Ref.String(), in.ConsecutiveFailures
	if in.Action == ActionRollout {
		switch {
		case step >= StepReplace:
			return refuse(RuleRestartLadder, "%d consecutive failures reached the replacement threshold %d: replace the failing pods instead of restarting %s",
				f, p.ReplacementThreshold, name), true
		case step == StepNone && len(unhealthyPods(w, in.Now)) == 0:
			return refuse(RuleRestartLadder, "%d consecutive failures are below the restart threshold %d and every pod of %s is healthy: a restart is not needed",
				f, p.RestartThreshold, name), true
		}
		return Decision{}, false
	}
	if last, ok := latestSince(in.State.Evictions, in.Now.Add(-time.Hour)); ok && step == StepEscalate {
		return refuse(RuleRestartLadder, "pods of %s were replaced at %s and health checks still fail (%d consecutive failures, replacement threshold %d): escalate to a human",
			name, fmtClock(last), f, p.ReplacementThreshold), true
	}
	if step >= StepReplace {
		return Decision{}, false
	}
	unhealthy := unhealthyPods(w, in.Now)
	for _, pod := range in.Pods {
		if !slices.Contains(unhealthy, pod) {
			return refuse(RuleRestartLadder, "pod %s of %s is healthy and %d consecutive failures are below the replacement threshold %d",
				pod, name, f, p.ReplacementThreshold), true
		}
	}
	return Decision{}, false
}

// replaceChecks refuses a replacement naming no pod, a pod of another
// workload, or every ready pod of the workload.
func replaceChecks(w platform.Workload, pods []string) (Decision, bool) {
	name := w.Ref.String()
	if len(pods) == 0 {
		return refuse(RuleRestartNoPods, "a replacement must name the pods of %s to replace", name), true
	}
	ready := map[string]bool{}
	for _, pod := range w.Pods {
		ready[pod.Name] = pod.Ready
	}
	named := map[string]bool{}
	for _, pod := range pods {
		r, ok := ready[pod]
		if !ok {
			return refuse(RuleRestartForeignPod, "pod %q does not belong to %s", pod, name), true
		}
		named[pod] = r
	}
	readyTotal, readyNamed := 0, 0
	for _, r := range ready {
		if r {
			readyTotal++
		}
	}
	for _, r := range named {
		if r {
			readyNamed++
		}
	}
	if readyTotal > 0 && readyNamed >= readyTotal {
		return refuse(RuleRestartReplaceAll, "replacing %s would evict all %d ready pods of %s at once; replace fewer",
			strings.Join(pods, ", "), readyTotal, name), true
	}
	return Decision{}, false
}

// NeedsMemory reports whether a pod of the workload is failing from OOM kills:
// OOMKilled now, or not running well (CrashLoopBackOff, not ready) after its
// last termination was OOMKilled. Restarts alone do not fix such pods.
func NeedsMemory(w platform.Workload) bool {
	for _, pod := range w.Pods {
		if pod.WaitingReason == ReasonOOMKilled {
			return true
		}
		if pod.LastTerm != nil && pod.LastTerm.Reason == ReasonOOMKilled &&
			(pod.WaitingReason == ReasonCrashLoopBackOff || !pod.Ready) {
			return true
		}
	}
	return false
}

// startupGrace is how long a new pod may take to become ready before it
// counts as unhealthy: a pod still starting (after a scale-up or a rollout)
// is not a reason to restart its workload.
const startupGrace = 5 * time.Minute

// unhealthyPods lists the pods that are not ready, waiting or not running,
// leaving out pods that are still starting.
func unhealthyPods(w platform.Workload, now time.Time) []string {
	var out []string
	for _, pod := range w.Pods {
		if starting(pod, now) {
			continue
		}
		if !pod.Ready || pod.WaitingReason != "" || pod.Phase != "Running" {
			out = append(out, pod.Name)
		}
	}
	return out
}

// starting reports a pod that has never failed and is within its startup grace.
func starting(pod platform.Pod, now time.Time) bool {
	if pod.Ready || pod.Restarts > 0 || pod.LastTerm != nil {
		return false
	}
	switch pod.WaitingReason {
	case "", "ContainerCreating", "PodInitializing":
	default:
		return false
	}
	if pod.StartedAt.IsZero() {
		return pod.Phase == "Pending"
	}
	return now.Sub(pod.StartedAt) < startupGrace
}

// latestSince returns the newest time after since.
func latestSince(ts []time.Time, since time.Time) (time.Time, bool) {
	var last time.Time
	for _, t := range ts {
		if t.After(since) && t.After(last) {
			last = t
		}
	}
	return last, !last.IsZero()
}

// nextSlot is when the hourly budget frees a restart: an hour after the
// restart that must expire for the count to drop below the budget.
func nextSlot(ts []time.Time, now time.Time, budget int) time.Time {
	var in []time.Time
	for _, t := range ts {
		if t.After(now.Add(-time.Hour)) {
			in = append(in, t)
		}
	}
	slices.SortFunc(in, func(a, b time.Time) int { return a.Compare(b) })
	i := len(in) - budget
	if i < 0 || i >= len(in) {
		return now
	}
	return in[i].Add(time.Hour)
}
