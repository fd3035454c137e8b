package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes of ops-skill.
const (
	ExitOK         = 0 // resolved, or nothing to do
	ExitFailed     = 1 // the run failed
	ExitUsage      = 2 // usage, configuration or input error
	ExitUnresolved = 3 // unresolved or escalated
	// ExitCancelled: stopped by Ctrl-C, SIGTERM or q in the view, after
	// printing what was done (128 + SIGINT, as shells report it).
	ExitCancelled = 130
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

// cancelled ends a command whose context was cancelled (Ctrl-C, SIGTERM): it
// says why and wraps the context's error, which internal/app maps (as every
// error wrapping context.Canceled) to ExitCancelled.
func cancelled(ctx context.Context) error {
	return cancelError{err: ctx.Err(), cause: context.Cause(ctx)}
}

type cancelError struct{ err, cause error }

func (e cancelError) Error() string {
	if e.cause == nil || e.cause == e.err {
		return "cancelled"
	}
	return "cancelled: " + e.cause.Error()
}

func (e cancelError) Unwrap() []error { return []error{e.err, e.cause} }

// silent ends a command with a code after it has printed its own result.
func silent(code int) error { return &ExitError{Code: code} }
