package guard

import (
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

const gib = int64(1) << 30

func TestDecideMemory(t *testing.T) {
	now := testNow()
	oom := crashLooping(workload(2), 0) // container "app" with a 4 GiB limit
	healthy := workload(2)
	withLimit := func(w platform.Workload, limit int64) platform.Workload {
		w.Containers = []platform.Container{{Name: "app", MemoryLimit: limit}}
		return w
	}
	evented := healthy
	evented.Events = []platform.Event{{Time: now.Add(-time.Hour), Type: "Warning", Reason: "OOMKilling", Message: "Memory cgroup out of memory"}}
	oldOOM := workload(2)
	oldOOM.Pods[0].LastTerm = &platform.Termination{Reason: ReasonOOMKilled, FinishedAt: now.Add(-48 * time.Hour)}
	paused := oom
	paused.Paused = true
	base := func(b int64, at time.Duration) WorkloadState {
		return WorkloadState{MemoryBaseline: b, MemoryBaselineAt: now.Add(-at)}
	}
	tests := []struct {
		name     string
		pol      func(*HealingPolicy)
		in       MemoryInput
		verdict  Verdict
		rule     string
		to       int64
		reason   []string
		baseline int64 // expected baseline in the returned state
	}{
		{name: "doubling the limit after OOM kills is allowed",
			in: MemoryInput{Workload: oom, Container: "app", Requested: 8 * gib}, verdict: Allow, rule: RuleMemoryRaise, to: 8 * gib,
			reason: []string{"from 4.0 GiB to 8.0 GiB"}, baseline: 4 * gib},
		{name: "a raise beyond twice the limit is clamped to the factor",
			in: MemoryInput{Workload: oom, Container: "app", Requested: 12 * gib}, verdict: Clamp, rule: RuleMemoryMaxFactor, to: 8 * gib,
			reason: []string{"×2", "8.0 GiB"}, baseline: 4 * gib},
		{name: "a second raise within 24h is bounded by the first baseline",
			in:      MemoryInput{Workload: withLimit(oom, 6*gib), Container: "app", Requested: 10 * gib, State: base(4*gib, 2*time.Hour)},
			verdict: Clamp, rule: RuleMemoryMaxFactor, to: 8 * gib, baseline: 4 * gib},
		{name: "a limit already at the factor of its baseline is refused",
			in:      MemoryInput{Workload: withLimit(oom, 8*gib), Container: "app", Requested: 10 * gib, State: base(4*gib, time.Hour)},
			verdict: Refuse, rule: RuleMemoryMaxFactor, to: 8 * gib, reason: []string{"escalate"}, baseline: 4 * gib},
		{name: "a baseline older than 24h is replaced by the current limit",
			in:      MemoryInput{Workload: withLimit(oom, 8*gib), Container: "app", Requested: 16 * gib, State: base(4*gib, 25*time.Hour)},
			verdict: Allow, rule: RuleMemoryRaise, to: 16 * gib, baseline: 8 * gib},
		{name: "a raise above the ceiling is clamped to the ceiling",
			in: MemoryInput{Workload: withLimit(oom, 10*gib), Container: "app", Requested: 20 * gib}, verdict: Clamp, rule: RuleMemoryCeiling, to: 16 * gib,
			reason: []string{"ceiling is 16.0 GiB"}, baseline: 10 * gib},
		{name: "a limit at the ceiling is refused",
			in: MemoryInput{Workload: withLimit(oom, 16*gib), Container: "app", Requested: 17 * gib}, verdict: Refuse, rule: RuleMemoryCeiling, to: 16 * gib},
		{name: "a decrease is refused",
			in: MemoryInput{Workload: oom, Container: "app", Requested: 2 * gib}, verdict: Refuse, rule: RuleMemoryNoDecrease, to: 4 * gib},
		{name: "the same limit is refused as no change",
			in: MemoryInput{Workload: oom, Container: "app", Requested: 4 * gib}, verdict: Refuse, rule: RuleNoChange, to: 4 * gib},
		{name: "a raise with no OOM kill is refused",
			in: MemoryInput{Workload: healthy, Container: "app", Requested: 8 * gib}, verdict: Refuse, rule: RuleMemoryNoOOM, to: 4 * gib},
		{name: "an OOM kill two days ago is not evidence",
			in: MemoryInput{Workload: oldOOM, Container: "app", Requested: 8 * gib}, verdict: Refuse, rule: RuleMemoryNoOOM, to: 4 * gib},
		{name: "an OOM event within 24h is evidence",
			in: MemoryInput{Workload: evented, Container: "app", Requested: 6 * gib}, verdict: Allow, rule: RuleMemoryRaise, to: 6 * gib, baseline: 4 * gib},
		{name: "an unknown container is refused",
			in: MemoryInput{Workload: oom, Container: "sidecar", Requested: 8 * gib}, verdict: Refuse, rule: RuleMemoryUnknownContainer},
		{name: "a container without a limit is refused",
			in: MemoryInput{Workload: withLimit(oom, 0), Container: "app", Requested: 8 * gib}, verdict: Refuse, rule: RuleMemoryNoLimit},
		{name: "a current limit that differs from the workload is refused as stale",
			in: MemoryInput{Workload: oom, Container: "app", Current: 2 * gib, Requested: 4 * gib}, verdict: Refuse, rule: RuleMemoryStale},
		{name: "a current limit given explicitly and matching is used",
			in: MemoryInput{Workload: oom, Container: "app", Current: 4 * gib, Requested: 6 * gib}, verdict: Allow, rule: RuleMemoryRaise, to: 6 * gib, baseline: 4 * gib},
		{name: "a paused rollout gets no new memory limit",
			in: MemoryInput{Workload: paused, Container: "app", Requested: 8 * gib}, verdict: Refuse, rule: RuleRestartPaused},
		{name: "disabled self-healing refuses a raise", pol: func(p *HealingPolicy) { p.Enabled = false },
			in: MemoryInput{Workload: oom, Container: "app", Requested: 8 * gib}, verdict: Refuse, rule: RuleDisabledHealing},
		{name: "a factor of 1.5 bounds the raise", pol: func(p *HealingPolicy) { p.MemoryMaxFactor = 1.5 },
			in: MemoryInput{Workload: oom, Container: "app", Requested: 8 * gib}, verdict: Clamp, rule: RuleMemoryMaxFactor, to: 6 * gib, baseline: 4 * gib},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultHealingPolicy()
			if tc.pol != nil {
				tc.pol(&p)
			}
			tc.in.Now = now
			d, st := p.DecideMemory(tc.in)
			wantTo := tc.to
			if wantTo == 0 {
				wantTo = -1 // not checked
			}
			checkDecision(t, d, tc.verdict, tc.rule, wantTo, tc.reason...)
			if !d.Allowed() {
				if st.MemoryBaseline != tc.in.State.MemoryBaseline || !st.MemoryBaselineAt.Equal(tc.in.State.MemoryBaselineAt) {
					t.Errorf("a refusal changed the state: %+v", st)
				}
				return
			}
			if st.MemoryBaseline != tc.baseline {
				t.Errorf("baseline = %d, want %d", st.MemoryBaseline, tc.baseline)
			}
			if !baselineValid(st, now) {
				t.Errorf("returned baseline is not valid now: %+v", st)
			}
		})
	}
}

func TestDecideMemoryKeepsBaselineTimeWithinIncident(t *testing.T) {
	now := testNow()
	at := now.Add(-3 * time.Hour)
	in := MemoryInput{Workload: crashLooping(workload(2), 0), Container: "app", Requested: 6 * gib, Now: now,
		State: WorkloadState{MemoryBaseline: 4 * gib, MemoryBaselineAt: at}}
	in.Workload.Containers[0].MemoryLimit = 5 * gib
	d, st := DefaultHealingPolicy().DecideMemory(in)
	if !d.Allowed() || !st.MemoryBaselineAt.Equal(at) || st.MemoryBaseline != 4*gib {
		t.Fatalf("got %s, state %+v; want the baseline of 3h ago kept", d, st)
	}
}
