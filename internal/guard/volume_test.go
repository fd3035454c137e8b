package guard

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// claim is a bound 10 GiB claim on an expandable class.
func claim(requested int64) platform.Volume {
	return platform.Volume{Ref: platform.VolumeRef{Namespace: "ai-data-labs", Name: "data-redis-0"}, StorageClass: "standard-rwo",
		AllowExpansion: true, Phase: platform.VolumeBound, Requested: requested, Capacity: requested}
}

func TestDecideExpansion(t *testing.T) {
	now := testNow()
	base := func(b int64, ago time.Duration) WorkloadState {
		return WorkloadState{VolumeBaseline: b, VolumeBaselineAt: now.Add(-ago)}
	}
	fixed := func(mut func(*platform.Volume)) platform.Volume {
		v := claim(10 * gib)
		mut(&v)
		return v
	}
	tests := []struct {
		name     string
		pol      func(*VolumePolicy)
		in       VolumeInput
		verdict  Verdict
		rule     string
		to       int64
		reason   []string
		baseline int64 // the baseline of the returned state
	}{
		{name: "an expansion by half is allowed",
			in: VolumeInput{Volume: claim(10 * gib), Requested: 15 * gib}, verdict: Allow, rule: RuleVolumeExpand, to: 15 * gib,
			reason: []string{"from 10.0 GiB to 15.0 GiB", "standard-rwo"}, baseline: 10 * gib},
		{name: "more than half is clamped to +50%",
			in: VolumeInput{Volume: claim(10 * gib), Requested: 20 * gib}, verdict: Clamp, rule: RuleVolumeGrowth, to: 15 * gib,
			reason: []string{"requested 20.0 GiB", "×1.5", "to 15.0 GiB instead"}, baseline: 10 * gib},
		{name: "a second expansion in the incident is bounded by the first size",
			in:      VolumeInput{Volume: claim(12 * gib), Requested: 18 * gib, State: base(10*gib, 2*time.Hour)},
			verdict: Clamp, rule: RuleVolumeGrowth, to: 15 * gib, baseline: 10 * gib},
		{name: "a volume already grown by half this incident is refused",
			in:      VolumeInput{Volume: claim(15 * gib), Requested: 22 * gib, State: base(10*gib, time.Hour)},
			verdict: Refuse, rule: RuleVolumeGrowth, to: 15 * gib, reason: []string{"already 15.0 GiB", "(10.0 GiB)", "escalate"}, baseline: 10 * gib},
		{name: "a baseline older than 24h starts a new incident",
			in:      VolumeInput{Volume: claim(15 * gib), Requested: 22 * gib, State: base(10*gib, 25*time.Hour)},
			verdict: Allow, rule: RuleVolumeExpand, to: 22 * gib, baseline: 15 * gib},
		{name: "an expansion past the ceiling is clamped to it",
			pol: func(p *VolumePolicy) { p.Ceiling = 12 * gib },
			in:  VolumeInput{Volume: claim(10 * gib), Requested: 15 * gib}, verdict: Clamp, rule: RuleVolumeCeiling, to: 12 * gib,
			reason: []string{"ceiling is 12.0 GiB"}, baseline: 10 * gib},
		{name: "a volume at the ceiling is refused",
			pol: func(p *VolumePolicy) { p.Ceiling = 10 * gib },
			in:  VolumeInput{Volume: claim(10 * gib), Requested: 11 * gib}, verdict: Refuse, rule: RuleVolumeCeiling, to: 10 * gib},
		{name: "a class that does not allow expansion refuses",
			in:      VolumeInput{Volume: fixed(func(v *platform.Volume) { v.AllowExpansion = false }), Requested: 15 * gib},
			verdict: Refuse, rule: RuleVolumeExpansionDisabled, to: 10 * gib, reason: []string{"allowVolumeExpansion"}},
		{name: "a class that cannot be read refuses, saying why",
			in:      VolumeInput{Volume: fixed(func(v *platform.Volume) { v.AllowExpansion, v.ClassProblem = false, "get storageclasses is forbidden" }), Requested: 15 * gib},
			verdict: Refuse, rule: RuleVolumeClassUnknown, to: 10 * gib, reason: []string{"get storageclasses is forbidden"}},
		{name: "an unbound claim is refused",
			in:      VolumeInput{Volume: fixed(func(v *platform.Volume) { v.Phase = "Pending" }), Requested: 15 * gib},
			verdict: Refuse, rule: RuleVolumeNotBound, to: 10 * gib, reason: []string{"Pending"}},
		{name: "a smaller size is refused: volumes are never shrunk",
			in: VolumeInput{Volume: claim(10 * gib), Requested: 8 * gib}, verdict: Refuse, rule: RuleVolumeShrink, to: 10 * gib,
			reason: []string{"never shrunk"}},
		{name: "the same size is refused",
			in: VolumeInput{Volume: claim(10 * gib), Requested: 10 * gib}, verdict: Refuse, rule: RuleVolumeShrink, to: 10 * gib,
			reason: []string{"already requests 10.0 GiB"}},
		{name: "an invalid policy refuses everything",
			pol: func(p *VolumePolicy) { p.MaxGrowthFactor = 0.5 },
			in:  VolumeInput{Volume: claim(10 * gib), Requested: 11 * gib}, verdict: Refuse, rule: RulePolicyInvalid, to: 10 * gib,
			reason: []string{"storage.volume_max_growth_factor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultVolumePolicy()
			if tt.pol != nil {
				tt.pol(&p)
			}
			tt.in.Now = now
			d, st := p.DecideExpansion(tt.in)
			if d.Verdict != tt.verdict || d.Rule != tt.rule || d.To != tt.to {
				t.Fatalf("decision %s (to %d), want %s %s to %d", d, d.To, tt.verdict, tt.rule, tt.to)
			}
			if d.From != tt.in.Volume.Requested || d.Requested != tt.in.Requested || d.Inputs["storage_class"] != "standard-rwo" {
				t.Errorf("from %d, requested %d, inputs %v", d.From, d.Requested, d.Inputs)
			}
			for _, r := range tt.reason {
				if !strings.Contains(d.Reason, r) {
					t.Errorf("reason %q lacks %q", d.Reason, r)
				}
			}
			if st.VolumeBaseline != tt.baseline {
				t.Errorf("state baseline %d, want %d", st.VolumeBaseline, tt.baseline)
			}
			if !d.Allowed() && (st.VolumeBaseline != tt.in.State.VolumeBaseline || !st.VolumeBaselineAt.Equal(tt.in.State.VolumeBaselineAt)) {
				t.Errorf("a refusal changed the state: %+v", st)
			}
		})
	}
}

// Two expansions of one incident together grow the volume by at most half
// its size before the first, whatever each asks.
func TestTwoExpansionsInOneIncidentShareOneAllowance(t *testing.T) {
	p, now := DefaultVolumePolicy(), testNow()
	d1, st := p.DecideExpansion(VolumeInput{Volume: claim(10 * gib), Requested: 13 * gib, Now: now})
	if d1.Verdict != Allow || st.VolumeBaseline != 10*gib || !st.VolumeBaselineAt.Equal(now) {
		t.Fatalf("first: %s, state %+v", d1, st)
	}
	d2, st2 := p.DecideExpansion(VolumeInput{Volume: claim(13 * gib), Requested: 19 * gib, State: st, Now: now.Add(3 * time.Hour)})
	if d2.Verdict != Clamp || d2.To != 15*gib || st2.VolumeBaseline != 10*gib || !st2.VolumeBaselineAt.Equal(now) {
		t.Errorf("second: %s to %d, state %+v; want clamped to 15 GiB on the first baseline", d2, d2.To, st2)
	}
}

func TestVolumeLimitRoundsDownToWholeMiB(t *testing.T) {
	p := DefaultVolumePolicy()
	for base, want := range map[int64]int64{10 * gib: 15 * gib, 3<<20 + 1: 4 << 20, 1000: 1500, 800 * gib: 1 << 40} {
		if got := p.Limit(base); got != want {
			t.Errorf("Limit(%d) = %d, want %d", base, got, want)
		}
	}
}

func TestVolumePolicyValidateNamesTheKeys(t *testing.T) {
	err := VolumePolicy{MaxGrowthFactor: math.Inf(1), Ceiling: 0}.Validate()
	var pe *PolicyError
	if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPolicy) ||
		!strings.Contains(err.Error(), "storage.volume_max_growth_factor") || !strings.Contains(err.Error(), "storage.volume_ceiling") {
		t.Errorf("Validate = %v", err)
	}
	if err := DefaultVolumePolicy().Validate(); err != nil {
		t.Errorf("the default policy: %v", err)
	}
}

func TestTheVolumeBaselineSurvivesEncodingAndMerging(t *testing.T) {
	at := testNow()
	s := WorkloadState{VolumeBaseline: 10 * gib, VolumeBaselineAt: at}
	got, err := DecodeState(s.Encode())
	if err != nil || got.VolumeBaseline != s.VolumeBaseline || !got.VolumeBaselineAt.Equal(at) {
		t.Fatalf("round trip %+v, %v", got, err)
	}
	older := WorkloadState{VolumeBaseline: 8 * gib, VolumeBaselineAt: at.Add(-30 * time.Hour)}
	if m := MergeState(older, s); m.VolumeBaseline != 10*gib {
		t.Errorf("merge kept %d, want the newer baseline", m.VolumeBaseline)
	}
	if _, err := DecodeState(`{"volBase":-1}`); !errors.Is(err, ErrInvalidState) {
		t.Errorf("a negative baseline decodes: %v", err)
	}
}
