package sim

import "fmt"

// errorf formats a message and wraps a sentinel after it: "detail: sentinel".
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, sentinel)...)
}
