package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/ui/tui"
)

// maxRequestBytes bounds one line of a conversation.
const maxRequestBytes = 16 << 10

func newChatCmd(f *Factory, root *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "chat",
		Short: "Talk to the agent: free-text requests and follow-ups, with the same tools and guardrails",
		Long: `Talk to the agent. Ask in free text — "check system health and auto-scale if needed",
"why did you scale backend?", "show ClickHouse disk growth", "what would you do if CPU stayed at 90%?" —
and follow up; each request is answered with the same tools, guard, modes and history as an alert.
Without a terminal, each line of standard input is one request.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return root.runChat(cmd)
		},
	}
}

func (o *rootOptions) runChat(cmd *cobra.Command) error {
	if err := o.checkOutput(); err != nil {
		return err
	}
	ctx := cmd.Context()
	cfg, err := o.f.LoadConfig(o.configFile, cmd.Flags())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	rt, err := o.f.NewRuntime(ctx, cfg, RuntimeOptions{Simulate: o.simulate, Scenario: o.scenario, Output: o.output, Notify: o.notify})
	if err != nil {
		return err
	}
	defer rt.Close()
	if o.f.IO.InTTY && o.f.IO.ErrTTY {
		return o.chatInTUI(ctx, rt, cfg)
	}
	sink, flush := o.sink(rt)
	conv := rt.NewAgent(sink, newTerminalApprover(o.f.IO, rt.Where)).NewConversation()
	worst, err := o.converse(ctx, rt, conv, o.f.IO.In)
	if ferr := flush(); ferr != nil && err == nil {
		err = ferr
	}
	if ctx.Err() != nil {
		return cancelled(ctx)
	}
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if worst != ExitOK {
		return silent(worst)
	}
	return nil
}

// chatInTUI holds the conversation in the terminal UI: a text input at the
// bottom, each request's events streaming into the view. It ends with the
// worst exit code of the turns, as converse does.
func (o *rootOptions) chatInTUI(ctx context.Context, rt *Runtime, cfg config.Config) error {
	ui := tui.New(o.tuiOptions(rt, cfg))
	side, flush := o.sideSink(rt)
	conv := rt.NewAgent(agent.Sinks{ui.Sink(), side}, ui.Approver()).NewConversation()
	worst := ExitOK
	err := ui.Chat(ctx, func(ctx context.Context, line string) error {
		req, err := rt.Parser.ParseRequest(line, rt.Now())
		if err != nil {
			worst = worseCode(worst, ExitUsage)
			return err
		}
		worst = worseCode(worst, exitCode(conv.Ask(ctx, req).Resolution))
		return nil
	})
	if ferr := flush(); ferr != nil && err == nil {
		err = ferr
	}
	if ctx.Err() != nil {
		return cancelled(ctx)
	}
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if worst != ExitOK {
		return silent(worst)
	}
	return nil
}

// converse answers each line of in as one request and returns the worst exit code.
func (o *rootOptions) converse(ctx context.Context, rt *Runtime, conv *agent.Conversation, in io.Reader) (int, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 4096), maxRequestBytes)
	worst := ExitOK
	for sc.Scan() && ctx.Err() == nil {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line == "exit" || line == "quit" {
			break
		}
		req, err := rt.Parser.ParseRequest(line, rt.Now())
		if err != nil {
			fmt.Fprintf(o.f.IO.ErrOut, "ops-skill: %v\n", err)
			worst = worseCode(worst, ExitUsage)
			continue
		}
		s := conv.Ask(ctx, req)
		worst = worseCode(worst, exitCode(s.Resolution))
	}
	if err := sc.Err(); err != nil {
		return worst, fmt.Errorf("read requests: %w (one request is at most %d bytes)", err, maxRequestBytes)
	}
	return worst, ctx.Err()
}

// asRequest reports whether free text given on the command line is a request
// for the conversation (e.g. "check system health and auto-scale if needed")
// rather than an alert to handle.
func asRequest(rt *Runtime, in input) (alert.Alert, bool) {
	if alert.LooksLikeJSON(in.raw) || in.source != "argument" {
		return alert.Alert{}, false
	}
	text := string(in.raw)
	lower := strings.ToLower(strings.TrimSpace(text))
	if strings.HasPrefix(lower, "alert") || strings.HasPrefix(lower, "[firing") {
		return alert.Alert{}, false
	}
	req, err := rt.Parser.ParseRequest(text, rt.Now())
	if err != nil || req.Intent == alert.IntentIncident || req.Intent == alert.IntentHelp {
		return alert.Alert{}, false
	}
	switch req.Intent {
	case alert.IntentAutoscale, alert.IntentHistory, alert.IntentWhatIf:
		return req, true
	}
	// "show ClickHouse disk growth" asks; "Frontend health check failed" reports.
	first, _, _ := strings.Cut(lower, " ")
	switch strings.Trim(first, "?!.,:") {
	case "check", "show", "list", "status", "what", "why", "how", "is", "are", "can", "tell", "explain", "give", "please":
		return req, true
	}
	return alert.Alert{}, false
}
