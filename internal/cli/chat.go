package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/recall"
	"github.com/duet-company/ops-skill/internal/ui/tui"
)

// maxRequestBytes bounds one line of a conversation.
const maxRequestBytes = 16 << 10

// chatOptions are the flags of the chat command.
type chatOptions struct {
	resume bool
}

func newChatCmd(f *Factory, root *rootOptions) *cobra.Command {
	var opts chatOptions
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Talk to the agent: free-text requests and follow-ups, with the same tools and guardrails",
		Long: `Talk to the agent. Ask in free text — "check system health and auto-scale if needed",
"why did you scale backend?", "show ClickHouse disk growth", "what would you do if CPU stayed at 90%?" —
and follow up; each request is answered with the same tools, guard, modes and history as an alert.
Without a terminal, each line of standard input is one request.

Requests typed on a terminal are kept in chat-history in the state directory (the last 500, readable
only by you) and the terminal UI recalls them with ↑/↓, as a shell does (shift+↑/↓ then select a
call). A line that looks like it holds a secret (token=…, password=…, Authorization: Bearer …, an
sk-… key, a URL with user:password@) is not kept. Lines read from a pipe are not kept.

The conversation is saved in the history database after every turn (secrets redacted). --resume
continues the last conversation of the same platform (the simulated one, or the cluster context):
later requests are given its earlier exchanges and its subject, so "why?" or "and for frontend?"
still follow on; the first line says "Resumed conversation from <time> (<n> turns)". Without an
earlier conversation, --resume says so on standard error and starts a new one (exit 0).`,
		Example: `  ops-skill chat
  ops-skill chat --resume
  echo "status of backend" | ops-skill chat --simulate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return root.runChat(cmd, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.resume, "resume", false, "continue the last conversation on this platform (a new one when there is none)")
	return cmd
}

func (o *rootOptions) runChat(cmd *cobra.Command, opts chatOptions) error {
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
	mem, warn := openChatMemory(rt, cfg.StateDir, o.f.IO.InTTY)
	prior, notice, err := mem.prior(ctx, opts.resume, conversationScope(rt))
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if o.f.IO.InTTY && o.f.IO.ErrTTY {
		return o.chatInTUI(ctx, rt, cfg, mem, prior, joinNotices(notice, warn))
	}
	if notice != "" {
		fmt.Fprintln(o.f.IO.ErrOut, notice)
	}
	sink, flush := o.sink(rt)
	conv, err := conversation(rt.NewAgent(sink, newTerminalApprover(o.f.IO, rt.Where)), prior)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	s := &chatSession{rt: rt, conv: conv, mem: mem, warn: func(err error) { fmt.Fprintf(o.f.IO.ErrOut, "ops-skill: warning: %v\n", err) }}
	s.warnIf(warn)
	worst, err := o.converse(ctx, s, o.f.IO.In)
	if ferr := flush(); ferr != nil && err == nil {
		err = ferr
	}
	return chatEnd(ctx, worst, err)
}

// conversationScope names where conversations are resumed from: the
// simulated platform, or one cluster context.
func conversationScope(rt *Runtime) string {
	if rt.Where.Simulated() {
		return "the simulated platform"
	}
	return "context " + rt.Env
}

// chatEnd is how a conversation ends: cancelled, failed, or with the worst
// exit code of its turns.
func chatEnd(ctx context.Context, worst int, err error) error {
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
func (o *rootOptions) chatInTUI(ctx context.Context, rt *Runtime, cfg config.Config, mem *chatMemory, prior *agent.Transcript, notice string) error {
	topts := o.tuiOptions(rt, cfg)
	topts.Notice, topts.Recall = notice, &tui.Recall{Entries: mem.entries(), Keep: recall.Keep}
	ui := tui.New(topts)
	side, flush := o.sideSink(rt)
	conv, err := conversation(rt.NewAgent(agent.Sinks{ui.Sink(), side}, ui.Approver()), prior)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	var warns []error // of the turn that runs: shown under it
	s := &chatSession{rt: rt, conv: conv, mem: mem, warn: func(err error) { warns = append(warns, err) }}
	worst := ExitOK
	err = ui.Chat(ctx, func(ctx context.Context, line string) error {
		warns = nil
		code, err := s.ask(ctx, line)
		worst = worseCode(worst, code)
		return errors.Join(append([]error{err}, warns...)...)
	})
	if ferr := flush(); ferr != nil && err == nil {
		err = ferr
	}
	return chatEnd(ctx, worst, err)
}

// joinNotices puts what the view says under its header on one line.
func joinNotices(notice string, warn error) string {
	if warn == nil {
		return notice
	}
	w := "ops-skill: warning: " + warn.Error()
	if notice == "" {
		return w
	}
	return notice + " · " + w
}

// chatSession is one session of a conversation: each line typed is
// remembered, answered and saved.
type chatSession struct {
	rt   *Runtime
	conv *agent.Conversation
	mem  *chatMemory
	warn func(error) // what the conversation could not keep; it goes on
}

// ask handles one request line and returns its exit code; a line that is
// no request gives ExitUsage and the parse error.
func (s *chatSession) ask(ctx context.Context, line string) (int, error) {
	s.warnIf(s.mem.remember(line))
	req, err := s.rt.Parser.ParseRequest(line, s.rt.Now())
	if err != nil {
		return ExitUsage, err
	}
	code := exitCode(s.conv.Ask(ctx, req).Resolution)
	s.warnIf(s.mem.save(ctx, s.conv))
	return code, nil
}

func (s *chatSession) warnIf(err error) {
	if err != nil {
		s.warn(err)
	}
}

// converse answers each line of in as one request and returns the worst exit code.
func (o *rootOptions) converse(ctx context.Context, s *chatSession, in io.Reader) (int, error) {
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
		code, err := s.ask(ctx, line)
		if err != nil {
			fmt.Fprintf(o.f.IO.ErrOut, "ops-skill: %v\n", err)
		}
		worst = worseCode(worst, code)
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
