package guard

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestBasisRoundTripKeepsEveryInputTheDecisionReads(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 123, time.UTC)
	w := platform.Workload{Ref: platform.WorkloadRef{Namespace: "ns", Name: "backend"}, Replicas: 3, ReadyReplicas: 3,
		Annotations: map[string]string{DefaultOptOutAnnotation: "false"}, Events: []platform.Event{{Reason: "dropped"}}}
	samples := func(vs ...float64) []platform.Sample {
		var out []platform.Sample
		for i, v := range vs {
			out = append(out, platform.Sample{T: now.Add(time.Duration(i-len(vs)+1) * 30 * time.Second), V: v})
		}
		return out
	}
	state := WorkloadState{}.WithScale(2, 3, now.Add(-time.Hour)).WithRestart(now.Add(-time.Minute))
	for _, c := range []struct {
		name string
		in   Basis
	}{
		{"scale on finite samples", Basis{Scale: &ScaleInput{Workload: w, Requested: 4, CPU: Observation{Samples: samples(85.25, 0.1+0.2, 90)},
			ErrorRate: Observation{Samples: samples(1)}, State: state, Now: now}}},
		{"scale on a failed query and non-finite samples", Basis{Scale: &ScaleInput{Workload: w, Requested: 2,
			CPU: Observation{Samples: samples(math.NaN(), math.Inf(1), math.Inf(-1))}, ErrorRate: Observation{Err: errors.New("prometheus: 503")}, Now: now}}},
		{"scale on a failed query with no message", Basis{Scale: &ScaleInput{Workload: w, Requested: 4, CPU: Observation{Err: errors.New("")}, Now: now}}},
		{"restart", Basis{Restart: &RestartInput{Workload: w, Action: ActionReplace, Pods: []string{"backend-1"}, State: state, Now: now,
			ConsecutiveFailures: 4, Reason: "503"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			text, err := c.in.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeBasis(text)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind() != c.in.Kind() {
				t.Fatalf("kind %q, want %q", got.Kind(), c.in.Kind())
			}
			pol := Policy{Scaling: DefaultScalingPolicy(), Healing: DefaultHealingPolicy()}
			want, _ := pol.Redecide(c.in)
			again, _ := pol.Redecide(got)
			if want.String() != again.String() || want.To != again.To || want.From != again.From {
				t.Errorf("decided again as %v (to %d), want %v (to %d)", again, again.To, want, want.To)
			}
			if got.Scale != nil {
				checkObs(t, got.Scale.CPU, c.in.Scale.CPU)
				checkObs(t, got.Scale.ErrorRate, c.in.Scale.ErrorRate)
				if len(got.Scale.Workload.Events) != 0 {
					t.Errorf("events kept: %v", got.Scale.Workload.Events)
				}
			}
		})
	}
}

func checkObs(t *testing.T, got, want Observation) {
	t.Helper()
	if (got.Err == nil) != (want.Err == nil) || (got.Err != nil && got.Err.Error() != want.Err.Error()) {
		t.Errorf("err %v, want %v", got.Err, want.Err)
	}
	if len(got.Samples) != len(want.Samples) {
		t.Fatalf("%d samples, want %d", len(got.Samples), len(want.Samples))
	}
	for i := range got.Samples {
		g, w := got.Samples[i], want.Samples[i]
		same := g.V == w.V || (math.IsNaN(g.V) && math.IsNaN(w.V))
		if !same || !g.T.Equal(w.T) {
			t.Errorf("sample %d = %v, want %v", i, g, w)
		}
	}
}

func TestDecodeBasisRefusesWhatItCannotReplay(t *testing.T) {
	for _, text := range []string{"", "{", `{"v":2,"kind":"scale","scale":{}}`, `{"v":1,"kind":"scale"}`, `{"v":1,"kind":"other","scale":{}}`,
		`{"v":1,"kind":"scale","scale":{"cpu":{"t":["2026-11-02T09:00:00Z"],"v":[]}}}`,
		`{"v":1,"kind":"scale","scale":{"cpu":{"t":["2026-11-02T09:00:00Z"],"v":["x"]}}}`,
		`{"v":1,"kind":"restart","restart":{"state":"{"}}`} {
		if _, err := DecodeBasis(text); !errors.Is(err, ErrInvalidBasis) {
			t.Errorf("DecodeBasis(%q) = %v, want ErrInvalidBasis", text, err)
		}
	}
}

func TestEveryReplayableDecisionCarriesItsBasis(t *testing.T) {
	pol := Policy{Scaling: DefaultScalingPolicy(), Healing: DefaultHealingPolicy()}
	w := platform.Workload{Ref: platform.WorkloadRef{Namespace: "ns", Name: "b"}, Replicas: 3}
	if d := pol.Scaling.Decide(ScaleInput{Workload: w, Requested: 4}); d.Basis == nil || d.Basis.Scale == nil || d.Basis.Scale.Requested != 4 {
		t.Errorf("scale decision basis %+v", d.Basis)
	}
	if d := pol.Healing.DecideRestart(RestartInput{Workload: w, Action: ActionRollout}); d.Basis == nil || d.Basis.Restart == nil {
		t.Errorf("restart decision basis %+v", d.Basis)
	}
	if _, ok := pol.Redecide(Basis{}); ok {
		t.Error("an empty basis was decided")
	}
}
