package guard

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Mode says whether and how writes happen.
type Mode string

// The modes.
const (
	// ModeObserve writes nothing and shows everything that would be done.
	ModeObserve Mode = "observe"
	// ModeApprove asks y/N on a terminal before each write; without a terminal
	// every write is refused.
	ModeApprove Mode = "approve"
	// ModeAuto writes within the guardrails.
	ModeAuto Mode = "auto"
)

// ErrInvalidMode is returned by ParseMode for anything but the three modes.
var ErrInvalidMode = errors.New("invalid mode")

// ParseMode parses observe, approve or auto (case-insensitive, trimmed).
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	switch m {
	case ModeObserve, ModeApprove, ModeAuto:
		return m, nil
	}
	return "", fmt.Errorf("%w %q: use observe, approve or auto", ErrInvalidMode, s)
}

// DecideMode judges a write under a mode. Observe refuses (mode.observe: the
// write is shown as a dry run); approve without a terminal refuses; approve
// with one allows with Inputs["needs_approval"]="true", so the caller asks;
// auto allows.
func DecideMode(mode Mode, interactive bool) Decision {
	switch mode {
	case ModeObserve:
		return refuse(RuleModeObserve, "observe mode: nothing is written, the action is shown as a dry run")
	case ModeApprove:
		if !interactive {
			return refuse(RuleModeApproveNoTerm, "approve mode needs a terminal to ask y/N; without one the write is refused, never assumed approved")
		}
		d := allow(RuleModeApprove, "approve mode: the write proceeds only if the operator answers yes")
		d.Inputs = map[string]string{"needs_approval": "true"}
		return d
	case ModeAuto:
		return allow(RuleModeAuto, "auto mode: writes within the guardrails")
	}
	return refuse(RuleModeInvalid, "unknown mode %q: nothing is written", string(mode))
}

// Scope is the namespace allowlist.
type Scope struct {
	AllowedNamespaces []string `json:"allowedNamespaces"`
}

// Check allows a namespace on the allowlist (exact match). An empty allowlist
// allows nothing.
func (s Scope) Check(ns string) Decision {
	switch {
	case ns == "":
		return refuse(RuleNamespaceNotAllowed, "no namespace given; allowed: %s", s.list())
	case slices.Contains(s.AllowedNamespaces, ns):
		return allow(RuleNamespaceAllowed, "namespace %q is on the allowlist", ns)
	}
	return refuse(RuleNamespaceNotAllowed, "namespace %q is not on the allowlist (%s)", ns, s.list())
}

func (s Scope) list() string {
	if len(s.AllowedNamespaces) == 0 {
		return "none"
	}
	return strings.Join(s.AllowedNamespaces, ", ")
}

// DefaultMaxWrites is the default cap on write actions per run.
const DefaultMaxWrites = 10

// RunBudget caps the write actions of one run.
type RunBudget struct {
	MaxWrites int `json:"maxWrites"`
}

// DecideWrite judges the n-th write of the run (n counts from 1): allowed while
// n <= MaxWrites. A zero budget allows no write.
func (b RunBudget) DecideWrite(n int) Decision {
	d := Decision{From: int64(n - 1), To: int64(n), Requested: int64(n),
		Inputs: map[string]string{"write": strconv.Itoa(n), "max_writes": strconv.Itoa(b.MaxWrites)}}
	switch {
	case n < 1:
		d.Verdict, d.Rule, d.Reason = Refuse, RuleWritesMaxPerRun, fmt.Sprintf("write number %d is not a count", n)
	case n > b.MaxWrites:
		d.Verdict, d.Rule, d.Reason = Refuse, RuleWritesMaxPerRun,
			fmt.Sprintf("this would be write %d of the run; at most %d writes are allowed per run", n, b.MaxWrites)
	default:
		d.Verdict, d.Rule, d.Reason = Allow, RuleWritesMaxPerRun, fmt.Sprintf("write %d of at most %d this run", n, b.MaxWrites)
	}
	if d.Verdict == Refuse {
		d.To = d.From
	}
	return d
}
