package guard

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecisionErr(t *testing.T) {
	tests := []struct {
		name    string
		d       Decision
		allowed bool
		rule    string
	}{
		{"an allow has no error", Decision{Verdict: Allow, Rule: "x"}, true, ""},
		{"a clamp has no error", Decision{Verdict: Clamp, Rule: "x"}, true, ""},
		{"a refusal is a violation of its rule", Decision{Verdict: Refuse, Rule: RuleMaxReplicas, Reason: "at max"}, false, RuleMaxReplicas},
		{"a zero decision is refused", Decision{}, false, "invalid_decision"},
		{"an unknown verdict is refused", Decision{Verdict: "maybe", Rule: "x"}, false, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.d.Allowed() != tc.allowed {
				t.Fatalf("Allowed() = %v", tc.d.Allowed())
			}
			err := tc.d.Err()
			if tc.allowed {
				if err != nil {
					t.Fatalf("Err() = %v", err)
				}
				return
			}
			var v *Violation
			if !errors.Is(err, ErrDenied) || !errors.As(err, &v) || v.Rule != tc.rule {
				t.Fatalf("Err() = %v, want a *Violation of %q matching ErrDenied", err, tc.rule)
			}
		})
	}
}

func TestWrappedViolationStillMatches(t *testing.T) {
	err := errors.Join(errors.New("scale backend"), Decision{Verdict: Refuse, Rule: RuleOptOut, Reason: "opted out"}.Err())
	var v *Violation
	if !errors.Is(err, ErrDenied) || !errors.As(err, &v) || v.Rule != RuleOptOut {
		t.Fatalf("wrapped violation lost: %v", err)
	}
}

func TestDecisionJSON(t *testing.T) {
	b, err := json.Marshal(Decision{Verdict: Clamp, Rule: RuleScaleUpCPU, Reason: "r", From: 3, To: 4, Requested: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"verdict":"clamp","rule":"scale_up.cpu","reason":"r","from":3,"to":4,"requested":10}` {
		t.Fatalf("JSON = %s", got)
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtDur(5 * 60e9), "5m"},
		{fmtDur(90e9), "1m30s"},
		{fmtDur(3600e9), "1h"},
		{fmtDur(5400e9), "1h30m"},
		{fmtPct(85), "85.0%"},
		{fmtThr(12.5), "12.5%"},
		{fmtBytes(int64(512)), "512 B"},
		{fmtBytes(uint64(200) << 30), "200.0 GiB"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
