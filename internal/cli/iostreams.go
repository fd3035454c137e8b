// Package cli holds the cobra commands of ops-skill. Each command parses and
// validates its input, then hands off to the runtime that internal/app builds.
package cli

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// IOStreams owns standard input, output and error, and whether each is a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	InTTY, OutTTY, ErrTTY bool
	NoColor               bool // NO_COLOR is set

	// OutWidth reports the width of standard output's terminal, 0 when unknown.
	OutWidth func() int
}

// System returns the process's streams with terminal detection.
func System() *IOStreams {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY: isTTY(os.Stdin), OutTTY: isTTY(os.Stdout), ErrTTY: isTTY(os.Stderr), NoColor: noColor,
		OutWidth: func() int {
			w, _, err := term.GetSize(int(os.Stdout.Fd()))
			if err != nil {
				return 0
			}
			return w
		}}
}

// TerminalWidth is the width of standard output's terminal, 0 when unknown.
func (s *IOStreams) TerminalWidth() int {
	if s.OutWidth == nil {
		return 0
	}
	return s.OutWidth()
}

// UseTUI reports whether the terminal UI is drawn: standard error is a
// terminal (the view goes there, so standard output stays pipeable).
func (s *IOStreams) UseTUI() bool { return s.ErrTTY }

// Keys is where the terminal UI reads keys: standard input when it is a
// terminal, else nil (no keys; approvals are then refused).
func (s *IOStreams) Keys() io.Reader {
	if s.InTTY {
		return s.In
	}
	return nil
}

func isTTY(f *os.File) bool { return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()) }

// Test returns streams over buffers, none of them a terminal.
func Test(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: in, Out: out, ErrOut: errOut, NoColor: true}
}
