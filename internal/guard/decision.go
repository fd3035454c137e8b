package guard

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Verdict is the outcome of a guard decision.
type Verdict string

// The three verdicts. Clamp means the action may proceed with a smaller change
// than requested (Decision.To).
const (
	Allow  Verdict = "allow"
	Clamp  Verdict = "clamp"
	Refuse Verdict = "refuse"
)

// ErrDenied is matched (errors.Is) by every *Violation.
var ErrDenied = errors.New("denied by guardrail")

// Decision is the answer of the guard to one proposed action.
type Decision struct {
	Verdict Verdict `json:"verdict"`
	// Rule names the rule that decided, such as "scale_up.cpu" or "max_replicas".
	Rule string `json:"rule"`
	// Reason is a sentence for a human, with the numbers that decided.
	Reason string `json:"reason"`
	// From, To and Requested are the current, decided and requested values of
	// numeric actions (replicas, memory bytes); To equals From when refused.
	From      int64 `json:"from,omitempty"`
	To        int64 `json:"to,omitempty"`
	Requested int64 `json:"requested,omitempty"`
	// Inputs records what the decision looked at, for history and transcripts.
	Inputs map[string]string `json:"inputs,omitempty"`
	// Basis is the whole input of a replayable decision (scale, restart),
	// for the history; nil for the others.
	Basis *Basis `json:"-"`
}

// Allowed reports whether the action may proceed (allow or clamp). A zero
// Decision is not allowed.
func (d Decision) Allowed() bool { return d.Verdict == Allow || d.Verdict == Clamp }

// Err returns nil when the decision allows the action, and a *Violation
// otherwise.
func (d Decision) Err() error {
	if d.Allowed() {
		return nil
	}
	rule, reason := d.Rule, d.Reason
	if rule == "" {
		rule, reason = "invalid_decision", "the decision has no verdict"
	}
	return &Violation{Rule: rule, Reason: reason}
}

// String renders the decision as "verdict rule: reason".
func (d Decision) String() string {
	return string(d.Verdict) + " " + d.Rule + ": " + d.Reason
}

// Violation is the error of a refused decision. errors.Is(v, ErrDenied) is true.
type Violation struct {
	Rule   string
	Reason string
}

// Error implements error.
func (v *Violation) Error() string { return "denied by guardrail " + v.Rule + ": " + v.Reason }

// Is makes errors.Is(v, ErrDenied) true.
func (v *Violation) Is(target error) bool { return target == ErrDenied }

// ErrInvalidPolicy is matched (errors.Is) by every *PolicyError.
var ErrInvalidPolicy = errors.New("invalid policy")

// PolicyError names the policy key whose value is invalid, in the key names
// of --update-threshold (e.g. "scale_down.cpu").
type PolicyError struct {
	Key     string
	Problem string
}

// Error implements error.
func (e *PolicyError) Error() string { return "invalid policy: " + e.Key + " " + e.Problem }

// Is makes errors.Is(e, ErrInvalidPolicy) true.
func (e *PolicyError) Is(target error) bool { return target == ErrInvalidPolicy }

// problems collects policy errors during validation.
type problems []error

func (ps *problems) check(ok bool, key, format string, args ...any) {
	if !ok {
		*ps = append(*ps, &PolicyError{Key: key, Problem: fmt.Sprintf(format, args...)})
	}
}

func (ps problems) err() error { return errors.Join(ps...) }

func decide(v Verdict, rule, reason string) Decision {
	return Decision{Verdict: v, Rule: rule, Reason: reason}
}

func refuse(rule, format string, args ...any) Decision {
	return decide(Refuse, rule, fmt.Sprintf(format, args...))
}

func allow(rule, format string, args ...any) Decision {
	return decide(Allow, rule, fmt.Sprintf(format, args...))
}

// invalidPolicy refuses because the policy itself does not validate.
func invalidPolicy(err error) Decision {
	return refuse(RulePolicyInvalid, "the policy is invalid, nothing is allowed until it is fixed: %s",
		strings.ReplaceAll(err.Error(), "\n", "; "))
}

// fmtDur renders a duration compactly: 5m, 1h30m, 90s → 1m30s, 2.5s.
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// fmtPct renders a measured percentage with one decimal.
func fmtPct(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "%" }

// fmtThr renders a configured threshold as written (80%, 12.5%).
func fmtThr(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) + "%" }

// fmtClock renders an instant as UTC wall-clock time.
func fmtClock(t time.Time) string { return t.UTC().Format("15:04:05") }

// fmtBytes renders a byte count with binary units (4.0 GiB).
func fmtBytes[T int64 | uint64](n T) string {
	v := float64(n)
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(int64(n), 10) + " B"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}
