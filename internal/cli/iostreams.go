// Package cli holds the cobra commands of ops-skill. Each command parses and
// validates its input, then hands off to the runtime that internal/app builds.
package cli

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams owns standard input, output and error, and whether each is a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	InTTY, OutTTY, ErrTTY bool
	NoColor               bool
}

// System returns the process's streams with terminal detection.
func System() *IOStreams {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY: isTTY(os.Stdin), OutTTY: isTTY(os.Stdout), ErrTTY: isTTY(os.Stderr), NoColor: noColor}
}

func isTTY(f *os.File) bool { return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()) }

// Test returns streams over buffers, none of them a terminal.
func Test(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: in, Out: out, ErrOut: errOut, NoColor: true}
}
