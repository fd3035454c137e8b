package guard

import (
	"errors"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestLadder(t *testing.T) {
	on, off := DefaultHealingPolicy(), DefaultHealingPolicy()
	off.Enabled = false
	tests := []struct {
		name     string
		p        HealingPolicy
		failures int
		want     Step
	}{
		{"no failure does nothing", on, 0, StepNone},
		{"a negative count does nothing", on, -4, StepNone},
		{"two failures are below the restart threshold", on, 2, StepNone},
		{"three failures restart", on, 3, StepRestart},
		{"four failures still restart", on, 4, StepRestart},
		{"five failures replace", on, 5, StepReplace},
		{"a failure after the replacement escalates", on, 6, StepEscalate},
		{"many failures escalate", on, 40, StepEscalate},
		{"disabled self-healing escalates at the restart threshold", off, 3, StepEscalate},
		{"disabled self-healing below the threshold does nothing", off, 2, StepNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Ladder(tc.failures); got != tc.want {
				t.Fatalf("Ladder(%d) = %s, want %s", tc.failures, got, tc.want)
			}
		})
	}
}

// crashLooping marks pod i of w as OOM-killed and in CrashLoopBackOff.
func crashLooping(w platform.Workload, i int) platform.Workload {
	w.Pods = append([]platform.Pod(nil), w.Pods...)
	w.Pods[i].Ready = false
	w.Pods[i].WaitingReason = ReasonCrashLoopBackOff
	w.Pods[i].LastTerm = &platform.Termination{Reason: ReasonOOMKilled, ExitCode: 137, FinishedAt: testNow().Add(-time.Minute)}
	w.ReadyReplicas--
	return w
}

// notReady marks pod i of w as not ready (failing for a reason other than OOM).
func notReady(w platform.Workload, i int) platform.Workload {
	w.Pods = append([]platform.Pod(nil), w.Pods...)
	w.Pods[i].Ready = false
	w.Pods[i].Restarts = 4
	w.Pods[i].WaitingReason = "CrashLoopBackOff"
	w.ReadyReplicas--
	return w
}

// startingPod makes pod i a new pod, started at `at`, not yet ready, never failed.
func startingPod(w platform.Workload, i int, at time.Time) platform.Workload {
	w = notReady(w, i)
	w.Pods[i].WaitingReason, w.Pods[i].Restarts, w.Pods[i].LastTerm, w.Pods[i].StartedAt = "", 0, nil, at
	return w
}

func TestDecideRestart(t *testing.T) {
	now := testNow()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	healthy := workload(3)
	paused := workload(3)
	paused.Paused = true
	allOOM := crashLooping(crashLooping(crashLooping(workload(3), 0), 1), 2)
	tests := []struct {
		name     string
		pol      func(*HealingPolicy)
		in       RestartInput
		verdict  Verdict
		rule     string
		reason   []string
		oomNoted bool
	}{
		{name: "a rollout restart at the restart threshold is allowed",
			in: RestartInput{Workload: healthy, Action: ActionRollout, ConsecutiveFailures: 3}, verdict: Allow, rule: RuleRestartRollout},
		{name: "a rollout restart of a crash-looping workload needs no failure count",
			in: RestartInput{Workload: notReady(healthy, 1), Action: ActionRollout}, verdict: Allow, rule: RuleRestartRollout},
		{name: "a pod still starting after a scale-up is no reason to restart",
			in: RestartInput{Workload: startingPod(healthy, 1, now.Add(-30*time.Second)), Action: ActionRollout, Now: now}, verdict: Refuse, rule: RuleRestartLadder,
			reason: []string{"not needed"}},
		{name: "a pod not ready long after it started is unhealthy",
			in: RestartInput{Workload: startingPod(healthy, 1, now.Add(-10*time.Minute)), Action: ActionRollout, Now: now}, verdict: Allow, rule: RuleRestartRollout},
		{name: "a healthy workload below the threshold is not restarted",
			in: RestartInput{Workload: healthy, Action: ActionRollout, ConsecutiveFailures: 2}, verdict: Refuse, rule: RuleRestartLadder,
			reason: []string{"below the restart threshold 3", "not needed"}},
		{name: "at the replacement threshold a rollout gives way to replacement",
			in: RestartInput{Workload: healthy, Action: ActionRollout, ConsecutiveFailures: 5}, verdict: Refuse, rule: RuleRestartLadder,
			reason: []string{"replacement threshold 5", "replace"}},
		{name: "a replacement at the replacement threshold is allowed",
			in: RestartInput{Workload: healthy, Action: ActionReplace, Pods: []string{"backend-a"}, ConsecutiveFailures: 5}, verdict: Allow, rule: RuleRestartReplace},
		{name: "a replacement after a failed replacement escalates",
			in: RestartInput{Workload: healthy, Action: ActionReplace, Pods: []string{"backend-a"}, ConsecutiveFailures: 6,
				State: WorkloadState{Evictions: []time.Time{ago(5 * time.Minute)}}},
			verdict: Refuse, rule: RuleRestartLadder, reason: []string{"replaced at 09:55:00", "escalate"}},
		{name: "beyond the replacement threshold with no replacement yet, replacing is allowed",
			in:      RestartInput{Workload: healthy, Action: ActionReplace, Pods: []string{"backend-a"}, ConsecutiveFailures: 6},
			verdict: Allow, rule: RuleRestartReplace},
		{name: "a replacement of a healthy pod below the replacement threshold is refused",
			in:      RestartInput{Workload: notReady(healthy, 1), Action: ActionReplace, Pods: []string{"backend-a"}, ConsecutiveFailures: 3},
			verdict: Refuse, rule: RuleRestartLadder, reason: []string{"backend-a", "healthy"}},
		{name: "a replacement of an unhealthy pod needs no failure count",
			in:      RestartInput{Workload: notReady(healthy, 1), Action: ActionReplace, Pods: []string{"backend-b"}},
			verdict: Allow, rule: RuleRestartReplace},
		{name: "a replacement of a pod of another workload is refused",
			in:      RestartInput{Workload: healthy, Action: ActionReplace, Pods: []string{"frontend-a"}, ConsecutiveFailures: 5},
			verdict: Refuse, rule: RuleRestartForeignPod, reason: []string{`"frontend-a"`}},
		{name: "a replacement naming no pod is refused",
			in: RestartInput{Workload: healthy, Action: ActionReplace, ConsecutiveFailures: 5}, verdict: Refuse, rule: RuleRestartNoPods},
		{name: "a replacement of every ready pod is refused",
			in:      RestartInput{Workload: healthy, Action: ActionReplace, Pods: []string{"backend-a", "backend-b", "backend-c"}, ConsecutiveFailures: 5},
			verdict: Refuse, rule: RuleRestartReplaceAll, reason: []string{"all 3 ready pods"}},
		{name: "naming a pod twice does not dodge the every-ready-pod rule",
			in:      RestartInput{Workload: notReady(healthy, 2), Action: ActionReplace, Pods: []string{"backend-a", "backend-a", "backend-b"}, ConsecutiveFailures: 5},
			verdict: Refuse, rule: RuleRestartReplaceAll},
		{name: "replacing all pods when none is ready is allowed",
			in:      RestartInput{Workload: allOOM, Action: ActionReplace, Pods: []string{"backend-a", "backend-b", "backend-c"}},
			verdict: Allow, rule: RuleRestartReplace, oomNoted: true},
		{name: "a paused rollout is not restarted",
			in: RestartInput{Workload: paused, Action: ActionRollout, ConsecutiveFailures: 3}, verdict: Refuse, rule: RuleRestartPaused, reason: []string{"paused"}},
		{name: "pods of a paused rollout are not replaced",
			in:      RestartInput{Workload: paused, Action: ActionReplace, Pods: []string{"backend-a"}, ConsecutiveFailures: 5},
			verdict: Refuse, rule: RuleRestartPaused},
		{name: "the fourth restart within an hour exceeds the budget",
			in: RestartInput{Workload: healthy, Action: ActionRollout, ConsecutiveFailures: 3,
				State: WorkloadState{Restarts: []time.Time{ago(50 * time.Minute), ago(30 * time.Minute), ago(10 * time.Minute)}}},
			verdict: Refuse, rule: RuleRestartBudget, reason: []string{"3 times in the last hour", "budget is 3", "10:10:00"}},
		{name: "a restart older than an hour no longer counts against the budget",
			in: RestartInput{Workload: healthy, Action: ActionRollout, ConsecutiveFailures: 3,
				State: WorkloadState{Restarts: []time.Time{ago(61 * time.Minute), ago(30 * time.Minute), ago(10 * time.Minute)}}},
			verdict: Allow, rule: RuleRestartRollout},
		{name: "replacements count against the same budget",
			in: RestartInput{Workload: healthy, Action: ActionReplace, Pods: []string{"backend-a"}, ConsecutiveFailures: 5,
				State: WorkloadState{Restarts: []time.Time{ago(40 * time.Minute), ago(20 * time.Minute), ago(time.Minute)}}},
			verdict: Refuse, rule: RuleRestartBudget},
		{name: "a zero budget allows no restart", pol: func(p *HealingPolicy) { p.RestartBudgetPerHour = 0 },
			in: RestartInput{Workload: healthy, Action: ActionRollout, ConsecutiveFailures: 3}, verdict: Refuse, rule: RuleRestartBudget},
		{name: "a first restart of OOM-killed pods is allowed but noted",
			in:      RestartInput{Workload: crashLooping(healthy, 0), Action: ActionRollout, ConsecutiveFailures: 3},
			verdict: Allow, rule: RuleRestartRollout, reason: []string{"restart alone will not fix"}, oomNoted: true},
		{name: "a second restart of OOM-killed pods within the hour is refused",
			in: RestartInput{Workload: crashLooping(healthy, 0), Action: ActionRollout, ConsecutiveFailures: 4,
				State: WorkloadState{Restarts: []time.Time{ago(10 * time.Minute)}}},
			verdict: Refuse, rule: RuleRestartNeedsMemory, reason: []string{"09:50:00", "raise the memory limit"}},
		{name: "disabled self-healing refuses", pol: func(p *HealingPolicy) { p.Enabled = false },
			in: RestartInput{Workload: healthy, Action: ActionRollout, ConsecutiveFailures: 3}, verdict: Refuse, rule: RuleDisabledHealing},
		{name: "an unknown action is refused",
			in: RestartInput{Workload: healthy, Action: "delete", ConsecutiveFailures: 3}, verdict: Refuse, rule: RuleRestartInvalidAction},
		{name: "an invalid policy refuses", pol: func(p *HealingPolicy) { p.ReplacementThreshold = 2 },
			in: RestartInput{Workload: healthy, Action: ActionRollout, ConsecutiveFailures: 3}, verdict: Refuse, rule: RulePolicyInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultHealingPolicy()
			if tc.pol != nil {
				tc.pol(&p)
			}
			tc.in.Now = now
			d := p.DecideRestart(tc.in)
			checkDecision(t, d, tc.verdict, tc.rule, -1, tc.reason...)
			if _, noted := d.Inputs["oom"]; noted != tc.oomNoted {
				t.Errorf("Inputs[oom] present = %v, want %v (%v)", noted, tc.oomNoted, d.Inputs)
			}
			if d.Inputs["action"] != tc.in.Action {
				t.Errorf("Inputs[action] = %q", d.Inputs["action"])
			}
			if err := d.Err(); (err == nil) != d.Allowed() || (err != nil && !errors.Is(err, ErrDenied)) {
				t.Errorf("Err() = %v for %s", err, d.Verdict)
			}
		})
	}
}

func TestNeedsMemory(t *testing.T) {
	oomPod := func(ready bool, waiting, last string) platform.Workload {
		w := workload(1)
		w.Pods[0].Ready, w.Pods[0].WaitingReason = ready, waiting
		if last != "" {
			w.Pods[0].LastTerm = &platform.Termination{Reason: last}
		}
		return w
	}
	tests := []struct {
		name string
		w    platform.Workload
		want bool
	}{
		{"a pod OOMKilled now needs memory", oomPod(false, ReasonOOMKilled, ""), true},
		{"CrashLoopBackOff after an OOM kill needs memory", oomPod(false, ReasonCrashLoopBackOff, ReasonOOMKilled), true},
		{"not ready after an OOM kill needs memory", oomPod(false, "", ReasonOOMKilled), true},
		{"a ready pod with an old OOM kill does not", oomPod(true, "", ReasonOOMKilled), false},
		{"CrashLoopBackOff after an error exit does not", oomPod(false, ReasonCrashLoopBackOff, "Error"), false},
		{"a healthy workload does not", workload(3), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NeedsMemory(tc.w); got != tc.want {
				t.Fatalf("NeedsMemory = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHealingPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*HealingPolicy)
		key  string
	}{
		{"a zero restart threshold", func(p *HealingPolicy) { p.RestartThreshold = 0 }, "self_healing.restart_threshold"},
		{"replacement not above restart", func(p *HealingPolicy) { p.ReplacementThreshold = 3 }, "self_healing.replacement_threshold"},
		{"a negative budget", func(p *HealingPolicy) { p.RestartBudgetPerHour = -1 }, "self_healing.restart_budget_per_hour"},
		{"a memory factor below one", func(p *HealingPolicy) { p.MemoryMaxFactor = 0.5 }, "self_healing.memory_raise_max_factor"},
		{"no memory ceiling", func(p *HealingPolicy) { p.MemoryCeiling = 0 }, "self_healing.memory_ceiling"},
	}
	if err := DefaultHealingPolicy().Validate(); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultHealingPolicy()
			tc.mod(&p)
			var pe *PolicyError
			if err := p.Validate(); !errors.As(err, &pe) || pe.Key != tc.key {
				t.Fatalf("Validate() = %v, want key %q", err, tc.key)
			}
		})
	}
}
