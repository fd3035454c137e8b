package cli

import (
	"errors"
	"fmt"
)

// Exit codes of ops-skill.
const (
	ExitOK         = 0 // resolved, or nothing to do
	ExitFailed     = 1 // the run failed
	ExitUsage      = 2 // usage, configuration or input error
	ExitUnresolved = 3 // unresolved or escalated
)

// ExitError carries the exit code a command ends with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ErrUsage marks a command used wrongly.
var ErrUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// silent ends a command with a code after it has printed its own result.
func silent(code int) error { return &ExitError{Code: code} }
