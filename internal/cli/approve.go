package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// terminalApprover asks y/N on the terminal for each write in approve mode.
// Without a terminal it is not interactive, and the gate refuses the write.
type terminalApprover struct {
	io    *IOStreams
	in    *bufio.Reader
	where platform.Where
}

// newTerminalApprover asks on io about writes on where, which every prompt names.
func newTerminalApprover(io *IOStreams, where platform.Where) *terminalApprover {
	return &terminalApprover{io: io, in: bufio.NewReader(io.In), where: where}
}

// Interactive reports whether a person can answer.
func (a *terminalApprover) Interactive() bool { return a.io.InTTY && a.io.ErrTTY }

// Approve asks about one plan; anything but y or yes is a no.
func (a *terminalApprover) Approve(ctx context.Context, p tools.Plan) (bool, error) {
	fmt.Fprintf(a.io.ErrOut, "\nops-skill wants to %s\n  on: %s\n  guard: %s (%s)\nApprove? [y/N] ", p.Summary, a.where, p.Decision.Verdict, p.Decision.Rule)
	answer := make(chan string, 1)
	go func() {
		line, _ := a.in.ReadString('\n')
		answer <- strings.ToLower(strings.TrimSpace(line))
	}()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case s := <-answer:
		return s == "y" || s == "yes", nil
	}
}
