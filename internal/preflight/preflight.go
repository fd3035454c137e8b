// Package preflight checks, before a run's first action, that every backend the
// run will use answers and lets ops-skill do what its tools need: the API
// server, the RBAC verbs (SelfSubjectAccessReview), Prometheus and the metrics
// the guard reads for the alert's target, ClickHouse when configured. The same
// checks, with more rows, are `ops-skill doctor`.
//
// The package is pure orchestration over small ports; it knows no adapter.
package preflight

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the result of one check.
type Status string

// The statuses of a check. Only Fail stops a run.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Group names what a check is about.
type Group string

// The groups of checks, in the order doctor prints them.
const (
	GroupConfig     Group = "config"
	GroupCluster    Group = "cluster"
	GroupRBAC       Group = "rbac"
	GroupPrometheus Group = "prometheus"
	GroupMetric     Group = "metric"
	GroupClickHouse Group = "clickhouse"
	GroupNotify     Group = "notify"
	GroupLLM        Group = "llm"
	GroupState      Group = "state"
)

// Check is one row of a preflight or doctor report.
type Check struct {
	Group  Group  `json:"group"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Fix says what to change when the check did not pass.
	Fix string `json:"fix,omitempty"`
	// Kind classifies a failure: ErrUnreachable, ErrDenied or ErrConfig.
	Kind error `json:"-"`
}

// Sentinel kinds of failure; a failed report's error wraps each kind it contains.
var (
	// ErrUnreachable means a backend did not answer (exit 1).
	ErrUnreachable = errors.New("backend unreachable")
	// ErrDenied means a backend answered but refused ops-skill (exit 1).
	ErrDenied = errors.New("access denied")
	// ErrMissingData means a backend answered without the data a run needs (exit 1).
	ErrMissingData = errors.New("data missing")
	// ErrConfig means the configuration itself is wrong (exit 2).
	ErrConfig = errors.New("configuration error")
)

// Report is the list of checks made.
type Report struct {
	Checks []Check `json:"checks"`
}

// Add appends checks.
func (r *Report) Add(c ...Check) { r.Checks = append(r.Checks, c...) }

// Failed lists the checks that failed.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

// Passed reports a report with no failed and no warned check.
func (r Report) Passed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail || c.Status == Warn {
			return false
		}
	}
	return true
}

// Err is nil when no check failed, else an *Error naming every failure.
func (r Report) Err() error {
	if f := r.Failed(); len(f) > 0 {
		return &Error{Failed: f}
	}
	return nil
}

// Error is a failed preflight: what failed, and how to fix each.
type Error struct {
	Failed []Check
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("preflight failed, nothing was done:")
	for _, c := range e.Failed {
		fmt.Fprintf(&b, "\n  - %s %s: %s", c.Group, c.Name, c.Detail)
		if c.Fix != "" {
			b.WriteString("\n    fix: " + c.Fix)
		}
	}
	return b.String()
}

// Unwrap exposes the kinds of the failures, for errors.Is.
func (e *Error) Unwrap() []error {
	var out []error
	seen := map[error]bool{}
	for _, c := range e.Failed {
		if c.Kind != nil && !seen[c.Kind] {
			seen[c.Kind] = true
			out = append(out, c.Kind)
		}
	}
	return out
}

// OnlyConfig reports a failure made only of configuration errors (exit 2).
func (e *Error) OnlyConfig() bool {
	for _, c := range e.Failed {
		if !errors.Is(c.Kind, ErrConfig) {
			return false
		}
	}
	return len(e.Failed) > 0
}
