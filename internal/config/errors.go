package config

import (
	"errors"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error Load, Validate,
// ParseAssignment and ApplyUpdates return for a bad value, key, file or
// assignment. The application maps it to exit code 2.
var ErrInvalid = errors.New("invalid config")

// ValidationError reports one bad configuration value.
type ValidationError struct {
	Key     string // YAML path under operations:, e.g. "auto_scaling.scale_down_threshold"
	EnvVar  string // environment variable that sets Key, or ""
	Value   string // the offending value as given; secrets and URL credentials masked
	Problem string // what is wrong, e.g. "must be below scale_up_threshold (80)"
	Fix     string // what to do about it
	// Source says where the value came from when known: "environment",
	// "flag --mode", "config file /path", "overrides file /path",
	// "--update-threshold".
	Source string
}

// Error renders, for example:
//
//	invalid config: auto_scaling.scale_down_threshold (SCALE_DOWN_THRESHOLD) = 85 must be below scale_up_threshold (80): lower it or raise the scale-up threshold
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalid.Error())
	b.WriteString(": ")
	b.WriteString(e.Key)
	if e.EnvVar != "" {
		b.WriteString(" (" + e.EnvVar + ")")
	}
	if e.Value != "" {
		b.WriteString(" = " + quoteIfNeeded(e.Value))
	}
	b.WriteString(" " + e.Problem)
	if e.Source != "" {
		b.WriteString(" (from " + e.Source + ")")
	}
	if e.Fix != "" {
		b.WriteString(": " + e.Fix)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// quoteIfNeeded quotes values that would otherwise be ambiguous in a message.
func quoteIfNeeded(s string) string {
	for _, r := range s {
		plain := r == '.' || r == '-' || r == '_' || r == '/' || r == ':' || r == '%' || r == '*' || r == '+' || r == '@' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !plain {
			return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
		}
	}
	return s
}

// invalid builds a *ValidationError for key, filling EnvVar from the field
// table and masking the value when the key holds a secret or a URL.
func invalid(key, value, problem, fix string) *ValidationError {
	e := &ValidationError{Key: key, Value: value, Problem: problem, Fix: fix}
	if f, ok := lookupField(key); ok {
		e.EnvVar = f.env
		e.Value = displayString(f.show, value)
	}
	return e
}
