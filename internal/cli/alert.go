package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/ui/plain"
	"github.com/duet-company/ops-skill/internal/ui/tui"
)

// input is the raw alert as the user gave it.
type input struct {
	raw    []byte
	source string // argument, stdin or file
}

func (o *rootOptions) readInput(args []string) (input, error) {
	switch {
	case o.alertFile != "" && len(args) > 0:
		return input{}, usageError("give the alert as an argument or with --alert-file, not both")
	case o.alertFile != "":
		b, err := readBounded(o.alertFile)
		if err != nil {
			return input{}, &ExitError{Code: ExitUsage, Err: fmt.Errorf("read --alert-file: %w", err)}
		}
		return input{raw: b, source: "file"}, nil
	case len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(io.LimitReader(o.f.IO.In, alert.MaxPayloadBytes+1))
		if err != nil {
			return input{}, &ExitError{Code: ExitUsage, Err: fmt.Errorf("read standard input: %w", err)}
		}
		return input{raw: b, source: "stdin"}, nil
	case len(args) == 0:
		return input{}, usageError(`no alert given: pass it as an argument, e.g. ops-skill "Alert: Backend service CPU at 85%% for 5 minutes", with --alert-file FILE, or on standard input with "-"`)
	}
	return input{raw: []byte(strings.Join(args, " ")), source: "argument"}, nil
}

// checkSize refuses input past the payload limit; reading stops one byte past
// it, so the real size is unknown and the message says "more than".
func checkSize(in input) error {
	if len(in.raw) > alert.MaxPayloadBytes {
		return fmt.Errorf("%w: the alert from %s is more than %d bytes; at most %d are accepted: pass the alert's summary or the Alertmanager payload, not a log dump", alert.ErrInvalid, in.source, alert.MaxPayloadBytes, alert.MaxPayloadBytes)
	}
	return nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, alert.MaxPayloadBytes+1))
}

// matchText is the text used to choose a simulated scenario.
func (in input) matchText() string {
	if !alert.LooksLikeJSON(in.raw) {
		return string(in.raw)
	}
	w, err := alert.DecodeWebhook(in.raw, false)
	if err != nil {
		return ""
	}
	var parts []string
	for _, a := range w.Alerts {
		parts = append(parts, a.Labels["alertname"], a.Annotations["summary"], a.Annotations["description"])
	}
	return strings.Join(parts, " ")
}

func (o *rootOptions) runAlert(cmd *cobra.Command, args []string) error {
	ctx := cmd.Context()
	if len(args) == 0 && o.alertFile == "" && o.f.IO.InTTY && o.f.IO.ErrTTY {
		return o.runChat(cmd, chatOptions{}) // no alert on a terminal: talk to the agent
	}
	in, err := o.readInput(args)
	if err != nil {
		return err
	}
	cfg, err := o.f.LoadConfig(o.configFile, cmd.Flags())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	rt, err := o.f.NewRuntime(ctx, cfg, RuntimeOptions{Simulate: o.simulate, Scenario: o.scenario, MatchText: in.matchText(), Output: o.output, Notify: o.notify})
	if err != nil {
		return err
	}
	defer rt.Close()
	if err := checkSize(in); err != nil {
		return o.reject(ctx, rt, in, err)
	}
	if req, ok := asRequest(rt, in); ok {
		return o.handleRequest(ctx, rt, cfg, req)
	}
	alerts, err := parseAlerts(in, rt)
	if err != nil {
		return o.reject(ctx, rt, in, err)
	}
	if rt.Preflight != nil {
		if err := rt.Preflight(ctx, alerts); err != nil {
			return err
		}
	}
	return o.handle(ctx, rt, cfg, alerts)
}

func parseAlerts(in input, rt *Runtime) ([]alert.Alert, error) {
	now := rt.Now()
	if !alert.LooksLikeJSON(in.raw) {
		a, err := rt.Parser.ParseText(string(in.raw), now)
		return []alert.Alert{a}, err
	}
	w, err := alert.DecodeWebhook(in.raw, true)
	if err != nil {
		return nil, err
	}
	return rt.Parser.ParseWebhook(w, now)
}

// reject records bad input in history and ends with the right code: nothing
// firing is "nothing to do" (with --output json, a no_action summary line),
// anything else is an input error.
func (o *rootOptions) reject(ctx context.Context, rt *Runtime, in input, cause error) error {
	outcome, code := store.OutcomeRejected, ExitUsage
	if errors.Is(cause, alert.ErrNothingFiring) {
		outcome, code = store.OutcomeNoAction, ExitOK
	}
	var id int64
	if rt.Store != nil {
		src := store.SourceText
		if alert.LooksLikeJSON(in.raw) {
			src = store.SourceAlertmanager
		}
		var err error
		id, err = rt.Store.RecordAlert(ctx, store.AlertRecord{Source: src, Summary: "rejected input: " + text.Clip(strings.ToValidUTF8(string(in.raw), "?"), 160),
			Env: rt.Env, Outcome: outcome, Error: text.Clip(cause.Error(), 500), Kind: "unknown"})
		if err != nil {
			// The history promises every input: one it cannot record never
			// ends in success (a usage error keeps its code).
			if code == ExitOK {
				code = ExitFailed
			}
			return &ExitError{Code: code, Err: fmt.Errorf("%w (and the history could not record it: %w)", cause, err)}
		}
	}
	switch {
	case code != ExitOK:
		return &ExitError{Code: code, Err: cause}
	case o.output == "json":
		j := plain.NewJSONLines(o.f.IO.Out)
		rt.NewAgent(j, nil).NothingToDo(in.summary(), cause.Error(), id)
		return j.Err()
	}
	fmt.Fprintf(o.f.IO.ErrOut, "nothing to do: %v\n", cause)
	return nil
}

// summary names what a payload was about: its alerts' summaries (or names).
func (in input) summary() string {
	if !alert.LooksLikeJSON(in.raw) {
		return text.Clip(strings.TrimSpace(string(in.raw)), 300)
	}
	w, err := alert.DecodeWebhook(in.raw, false)
	if err != nil {
		return ""
	}
	var parts []string
	for _, a := range w.Alerts {
		if s := firstNonBlank(a.Annotations["summary"], a.Labels["alertname"]); s != "" && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	return text.Clip(strings.Join(parts, "; "), 300)
}

func firstNonBlank(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// handle runs each firing alert and ends with the worst exit code.
func (o *rootOptions) handle(ctx context.Context, rt *Runtime, cfg config.Config, alerts []alert.Alert) error {
	if o.f.IO.UseTUI() {
		return o.inTUI(ctx, rt, cfg, func(ctx context.Context, ag *agent.Agent) int {
			worst := ExitOK
			for _, a := range alerts {
				if ctx.Err() != nil {
					break
				}
				worst = worseCode(worst, exitCode(ag.Handle(ctx, a).Resolution))
			}
			return worst
		})
	}
	sink, flush := o.sink(rt)
	ag := rt.NewAgent(sink, newTerminalApprover(o.f.IO, rt.Where))
	worst := ExitOK
	for _, a := range alerts {
		if ctx.Err() != nil {
			break // the next alerts are not started
		}
		s := ag.Handle(ctx, a)
		worst = worseCode(worst, exitCode(s.Resolution))
	}
	if err := flush(); err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if ctx.Err() != nil {
		return cancelled(ctx)
	}
	if worst != ExitOK {
		return silent(worst)
	}
	return nil
}

// handleRequest answers a one-shot conversation request given as an argument.
func (o *rootOptions) handleRequest(ctx context.Context, rt *Runtime, cfg config.Config, req alert.Alert) error {
	if o.f.IO.UseTUI() {
		return o.inTUI(ctx, rt, cfg, func(ctx context.Context, ag *agent.Agent) int {
			return exitCode(ag.NewConversation().Ask(ctx, req).Resolution)
		})
	}
	sink, flush := o.sink(rt)
	s := rt.NewAgent(sink, newTerminalApprover(o.f.IO, rt.Where)).NewConversation().Ask(ctx, req)
	if err := flush(); err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if ctx.Err() != nil {
		return cancelled(ctx)
	}
	if code := exitCode(s.Resolution); code != ExitOK {
		return silent(code)
	}
	return nil
}

func (o *rootOptions) sink(rt *Runtime) (agent.Sink, func() error) {
	if o.output == "json" {
		j := plain.NewJSONLines(o.f.IO.Out)
		return j, j.Err
	}
	t := plain.NewTranscript(o.f.IO.Out, o.f.IO.ErrOut, rt.Platform)
	return t, t.Err
}

// inTUI runs work with the terminal UI on standard error: the agent's events
// go to the view (and to sideSink), approvals are asked in it, q or ctrl-c
// cancels. It ends with work's exit code.
func (o *rootOptions) inTUI(ctx context.Context, rt *Runtime, cfg config.Config, work func(context.Context, *agent.Agent) int) error {
	ui := tui.New(o.tuiOptions(rt, cfg))
	side, flush := o.sideSink(rt)
	ag := rt.NewAgent(agent.Sinks{ui.Sink(), side}, ui.Approver())
	code := ExitOK
	err := ui.Incident(ctx, func(ctx context.Context) error {
		code = work(ctx, ag)
		return nil
	})
	if ferr := flush(); ferr != nil && err == nil {
		err = ferr
	}
	switch {
	case errors.Is(err, context.Canceled): // tui.ErrCancelled: the operator pressed q or ctrl-c
		return err
	case err != nil:
		return &ExitError{Code: ExitFailed, Err: err}
	case ctx.Err() != nil:
		return cancelled(ctx)
	case code != ExitOK:
		return silent(code)
	}
	return nil
}

func (o *rootOptions) tuiOptions(rt *Runtime, cfg config.Config) tui.Options {
	now := o.f.Now
	if now == nil {
		now = time.Now
	}
	return tui.Options{Header: rt.Platform, Out: o.f.IO.ErrOut, In: o.f.IO.Keys(), NoColor: o.noColor || o.f.IO.NoColor,
		Clock: wallClock(now), Dashboard: dashboard(cfg.Monitoring.GrafanaURL)}
}

// sideSink is what goes with the view: JSON Lines on standard output with
// --output json (held until the view ends when standard output is the same
// terminal), or the plain transcript when standard output is redirected.
func (o *rootOptions) sideSink(rt *Runtime) (agent.Sink, func() error) {
	io := o.f.IO
	switch {
	case o.output == "json" && io.OutTTY:
		var held bytes.Buffer
		j := plain.NewJSONLines(&held)
		return j, func() error {
			if err := j.Err(); err != nil {
				return err
			}
			_, err := held.WriteTo(io.Out)
			return err
		}
	case o.output == "json":
		j := plain.NewJSONLines(io.Out)
		return j, j.Err
	case !io.OutTTY: // the view shows the waits: no progress lines under it
		t := plain.NewTranscript(io.Out, nil, rt.Platform)
		return t, t.Err
	}
	return agent.SinkFunc(func(agent.Event) {}), func() error { return nil }
}

// dashboard links a service to Grafana, as the agent's notifications do
// (internal/app agentConfig builds the same link).
func dashboard(grafanaURL string) func(string) string {
	if grafanaURL == "" {
		return nil
	}
	return func(service string) string {
		return grafanaURL + "/explore?left=" + url.QueryEscape(`{"queries":[{"expr":"`+service+`"}]}`)
	}
}

// wallClock is the injected wall clock (Factory.Now) as a clock.PassiveClock.
type wallClock func() time.Time

func (c wallClock) Now() time.Time                  { return c() }
func (c wallClock) Since(t time.Time) time.Duration { return c().Sub(t) }

func exitCode(r agent.Resolution) int {
	switch r {
	case agent.Resolved, agent.NoAction:
		return ExitOK
	case agent.Unresolved, agent.Escalated:
		return ExitUnresolved
	}
	return ExitFailed
}

// worseCode orders codes by severity: failed over unresolved over ok.
func worseCode(a, b int) int {
	rank := map[int]int{ExitOK: 0, ExitUnresolved: 1, ExitFailed: 2, ExitUsage: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
