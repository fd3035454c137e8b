package guard

import (
	"errors"
	"testing"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want Mode
		err  bool
	}{
		{"observe", ModeObserve, false},
		{"approve", ModeApprove, false},
		{"auto", ModeAuto, false},
		{" AUTO ", ModeAuto, false},
		{"", "", true},
		{"yolo", "", true},
	}
	for _, tc := range tests {
		t.Run("parse "+tc.in, func(t *testing.T) {
			got, err := ParseMode(tc.in)
			if got != tc.want || (err != nil) != tc.err {
				t.Fatalf("ParseMode(%q) = %q, %v", tc.in, got, err)
			}
			if tc.err && !errors.Is(err, ErrInvalidMode) {
				t.Fatalf("error %v is not ErrInvalidMode", err)
			}
		})
	}
}

func TestDecideMode(t *testing.T) {
	tests := []struct {
		name          string
		mode          Mode
		interactive   bool
		verdict       Verdict
		rule          string
		needsApproval bool
	}{
		{"observe mode writes nothing", ModeObserve, true, Refuse, RuleModeObserve, false},
		{"approve mode without a terminal is refused, never assumed", ModeApprove, false, Refuse, RuleModeApproveNoTerm, false},
		{"approve mode with a terminal asks", ModeApprove, true, Allow, RuleModeApprove, true},
		{"auto mode writes", ModeAuto, false, Allow, RuleModeAuto, false},
		{"an unknown mode writes nothing", Mode("yolo"), true, Refuse, RuleModeInvalid, false},
		{"the zero mode writes nothing", Mode(""), true, Refuse, RuleModeInvalid, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideMode(tc.mode, tc.interactive)
			checkDecision(t, d, tc.verdict, tc.rule, -1)
			if got := d.Inputs["needs_approval"] == "true"; got != tc.needsApproval {
				t.Fatalf("needs_approval = %v, want %v", got, tc.needsApproval)
			}
		})
	}
}

func TestScopeCheck(t *testing.T) {
	s := Scope{AllowedNamespaces: []string{"ai-data-labs", "staging"}}
	tests := []struct {
		name    string
		s       Scope
		ns      string
		verdict Verdict
		rule    string
	}{
		{"a namespace on the allowlist is allowed", s, "ai-data-labs", Allow, RuleNamespaceAllowed},
		{"another namespace on the allowlist is allowed", s, "staging", Allow, RuleNamespaceAllowed},
		{"kube-system is not on the allowlist", s, "kube-system", Refuse, RuleNamespaceNotAllowed},
		{"a namespace differing in case is refused", s, "AI-DATA-LABS", Refuse, RuleNamespaceNotAllowed},
		{"an empty namespace is refused", s, "", Refuse, RuleNamespaceNotAllowed},
		{"an empty allowlist allows nothing", Scope{}, "ai-data-labs", Refuse, RuleNamespaceNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkDecision(t, tc.s.Check(tc.ns), tc.verdict, tc.rule, -1)
		})
	}
}

func TestRunBudget(t *testing.T) {
	tests := []struct {
		name    string
		b       RunBudget
		n       int
		verdict Verdict
	}{
		{"the first write is allowed", RunBudget{MaxWrites: 3}, 1, Allow},
		{"the last write within the cap is allowed", RunBudget{MaxWrites: 3}, 3, Allow},
		{"a write beyond the cap is refused", RunBudget{MaxWrites: 3}, 4, Refuse},
		{"a zero budget allows no write", RunBudget{}, 1, Refuse},
		{"write number zero is refused", RunBudget{MaxWrites: 3}, 0, Refuse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkDecision(t, tc.b.DecideWrite(tc.n), tc.verdict, RuleWritesMaxPerRun, -1)
		})
	}
}
