// Package plain renders agent events for non-terminal output: a transcript
// shaped like the spec's worked incidents, and JSON Lines.
package plain

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/ui/lines"
)

// Transcript writes a run's numbered transcript while the run goes on: the
// header when the run starts, each phase heading with the phase's first line,
// each line when its event arrives, and the resolution with the summary. Every
// line is written (and flushed) as it comes, so a pipe shows progress.
//
// Events arrive in phase order in the common case, and the transcript is then
// the one the spec shows. Where they interleave, the rules are:
//   - a phase that gets a line after another phase's gets its heading again,
//     with its first number: "2. Analyse cause (continued):" (a read after a
//     write, a second check);
//   - the planner's words go under "Analyse cause", or under "Action" when
//     they come between writes; a diagnosis, cause or decision always goes
//     under "Analyse cause"; a planner fallback is such a line, printed when
//     it happens;
//   - "Action: No action taken" comes before the first later phase (or the
//     resolution) when no write was tried;
//   - the notification phase (the planner's closing words, incidents opened,
//     notifications sent) is written once the agent has verified and enters
//     that phase, or with the summary.
//
// Waiting events (the settle time before verification on a real platform)
// go to progress, the standard error, as a line of their own.
type Transcript struct {
	out      io.Writer
	progress io.Writer
	header   string

	mu        sync.Mutex
	err       error
	started   bool
	start     agent.RunStarted
	open      agent.Phase         // the phase whose heading was written last
	numbers   map[agent.Phase]int // the number of each phase headed so far
	held      []string            // notification lines waiting for that phase
	notifying bool                // the agent has entered the notification phase
}

// NewTranscript writes transcripts to out and waiting lines to progress (nil:
// none). header, if set, is printed under the alert (e.g. which platform runs).
func NewTranscript(out, progress io.Writer, header string) *Transcript {
	return &Transcript{out: out, progress: progress, header: header, numbers: map[agent.Phase]int{}}
}

// Emit consumes one event.
func (t *Transcript) Emit(e agent.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch ev := e.(type) {
	case agent.RunStarted:
		t.begin(ev)
		return
	case agent.Summary:
		if !t.started {
			t.begin(agent.RunStarted{At: ev.At, Alert: alert.Alert{Text: ev.Alert}, Planner: ev.Planner, Mode: ev.Mode})
		}
		t.end(ev)
		return
	}
	if !t.started {
		t.begin(agent.RunStarted{})
	}
	switch ev := e.(type) {
	case agent.PhaseStarted:
		if ev.Phase == agent.PhaseNotify && !t.chat() {
			t.notifying = true
			t.release()
		}
	case agent.Waiting:
		if !ev.Virtual && t.progress != nil {
			_, _ = io.WriteString(t.progress, ev.String()+"\n")
			flush(t.progress)
		}
	default:
		for _, l := range lines.Project(e, t.start) {
			t.place(l)
		}
	}
}

// Err reports the first error writing the transcript.
func (t *Transcript) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *Transcript) chat() bool { return t.start.Alert.Source == alert.SourceChat }

// write writes one piece of the transcript and flushes it.
func (t *Transcript) write(s string) {
	if _, err := io.WriteString(t.out, s); err != nil && t.err == nil {
		t.err = err
	}
	if err := flush(t.out); err != nil && t.err == nil {
		t.err = err
	}
}

// flush flushes a buffered writer; other writers write through.
func flush(w io.Writer) error {
	if f, ok := w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// begin starts a run: the alert and the header, or a conversation's request.
func (t *Transcript) begin(ev agent.RunStarted) {
	t.started, t.start = true, ev
	t.open, t.numbers, t.held, t.notifying = "", map[agent.Phase]int{}, nil, false
	if t.chat() {
		t.write(fmt.Sprintf("> %s\n\n", ev.Alert.Text))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Alert: %q\n", alertText(ev.Alert.Text))
	if t.header != "" {
		fmt.Fprintf(&b, "%s · Mode: %s\n", t.header, ev.Mode)
	} else {
		fmt.Fprintf(&b, "Planner: %s · Mode: %s\n", ev.Planner, ev.Mode)
	}
	b.WriteString("\nAutomatic Actions Taken:\n")
	t.write(b.String())
}

// place writes one line under its phase (see the rules on Transcript).
func (t *Transcript) place(l lines.Line) {
	if t.chat() {
		t.placeInTurn(l)
		return
	}
	p := l.Place
	switch {
	case p == lines.PlaceAnswer:
		return
	case (p == lines.PlaceWork || p == lines.PlaceFallback) && t.open == agent.PhaseAction:
		p = agent.PhaseAction
	case p == lines.PlaceWork || p == lines.PlaceFallback:
		p = agent.PhaseAnalys
	case p == lines.PlaceHere:
		p = firstPhase(t.open, agent.PhaseCheck)
	}
	if p == agent.PhaseNotify && !t.notifying {
		t.held = append(t.held, l.Text)
		return
	}
	var b strings.Builder
	t.bullet(&b, p, l.Text)
	t.write(b.String())
}

// bullet adds a line under phase p, with p's heading when another phase's
// line came last.
func (t *Transcript) bullet(b *strings.Builder, p agent.Phase, text string) {
	if p != t.open {
		if order(p) > order(agent.PhaseAction) && t.numbers[agent.PhaseAction] == 0 {
			t.heading(b, agent.PhaseAction)
			b.WriteString("   - No action taken\n")
		}
		t.heading(b, p)
	}
	fmt.Fprintf(b, "   - %s\n", text)
}

func (t *Transcript) heading(b *strings.Builder, p agent.Phase) {
	if n, ok := t.numbers[p]; ok {
		fmt.Fprintf(b, "\n%d. %s (continued):\n", n, titles[p])
	} else {
		n = len(t.numbers) + 1
		t.numbers[p] = n
		fmt.Fprintf(b, "\n%d. %s:\n", n, titles[p])
	}
	t.open = p
}

// release writes the notification lines held until the notification phase.
func (t *Transcript) release() {
	if len(t.held) == 0 {
		return
	}
	var b strings.Builder
	for _, s := range t.held {
		t.bullet(&b, agent.PhaseNotify, s)
	}
	t.held = nil
	t.write(b.String())
}

// end closes a run: what is still held, the placeholder for no action and
// the resolution.
func (t *Transcript) end(s agent.Summary) {
	defer func() { t.started = false }()
	if t.chat() {
		t.endTurn(s)
		return
	}
	t.notifying = true
	t.release()
	var b strings.Builder
	if t.numbers[agent.PhaseAction] == 0 {
		t.heading(&b, agent.PhaseAction)
		b.WriteString("   - No action taken\n")
	}
	fmt.Fprintf(&b, "\nResolution: %s\n", s.Headline)
	fmt.Fprintf(&b, "Outcome: %s\n", s.Resolution)
	if s.TimeToResolution > 0 {
		fmt.Fprintf(&b, "Time to resolution: %s\n", s.TimeToResolution)
	}
	if s.Incident != "" {
		fmt.Fprintf(&b, "Incident: %s\n", s.Incident)
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "Error: %s\n", s.Error)
	}
	t.write(b.String())
}

// placeInTurn writes a line of a conversation turn: the planner's answer as
// it is, what was done, verified and notified as bullets.
func (t *Transcript) placeInTurn(l lines.Line) {
	switch l.Place {
	case lines.PlaceAnswer:
		t.write(l.Text + "\n")
	case agent.PhaseAction, agent.PhaseVerify, agent.PhaseNotify, lines.PlaceFallback, lines.PlaceHere:
		t.write(fmt.Sprintf("  - %s\n", l.Text))
	}
}

// endTurn closes a conversation turn: the outcome when something was changed
// or refused.
func (t *Transcript) endTurn(s agent.Summary) {
	var b strings.Builder
	if len(s.Actions) > 0 || len(s.Refusals) > 0 || s.Error != "" {
		fmt.Fprintf(&b, "Resolution: %s\nOutcome: %s\n", s.Headline, s.Resolution)
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "Error: %s\n", s.Error)
	}
	t.write(b.String() + "\n")
}

func firstPhase(p ...agent.Phase) agent.Phase {
	for _, q := range p {
		if q != "" {
			return q
		}
	}
	return ""
}

// order is p's place in agent.Phases.
func order(p agent.Phase) int {
	for i, q := range agent.Phases {
		if q == p {
			return i
		}
	}
	return -1
}

var titles = map[agent.Phase]string{
	agent.PhaseCheck: "Check current state", agent.PhaseAnalys: "Analyse cause", agent.PhaseAction: "Action",
	agent.PhaseVerify: "Verification", agent.PhaseNotify: "Notification",
}

// alertText drops the "Alert:" a user often types before the text, so the
// header reads Alert: "Backend service CPU at 85%", as in the spec.
func alertText(s string) string {
	if len(s) > len("alert:") && strings.EqualFold(s[:len("alert:")], "alert:") {
		return strings.TrimSpace(s[len("alert:"):])
	}
	return s
}
