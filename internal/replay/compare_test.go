package replay

import "testing"

func TestCompareNamesWhatChanged(t *testing.T) {
	allow4 := Verdict{Verdict: "allow", Rule: "scale_up.cpu", Reason: "r", From: 3, To: 4, Requested: 5}
	for _, c := range []struct {
		name     string
		was, now Verdict
		want     Change
	}{
		{"identical", allow4, allow4, Same},
		{"allowed then refused now", allow4, Verdict{Verdict: "refuse", Rule: "scale_up.cpu", From: 3, To: 3}, Refused},
		{"refused then allowed now", Verdict{Verdict: "refuse", Rule: "max_replicas", From: 3, To: 3}, allow4, Allowed},
		{"clamped to 4, now 5", Verdict{Verdict: "clamp", Rule: "scale_up.step", From: 3, To: 4, Requested: 5},
			Verdict{Verdict: "allow", Rule: "scale_up.cpu", From: 3, To: 5, Requested: 5}, Resized},
		{"another rule refuses", Verdict{Verdict: "refuse", Rule: "max_replicas"}, Verdict{Verdict: "refuse", Rule: "scale_up.cpu"}, Reruled},
		{"only the reason's numbers", allow4, Verdict{Verdict: "allow", Rule: "scale_up.cpu", Reason: "r2", From: 3, To: 4, Requested: 5}, Reasoned},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := compare(c.was, c.now); got != c.want {
				t.Errorf("compare = %s, want %s", got, c.want)
			}
		})
	}
}
