// Package plain renders agent events for non-terminal output: a transcript
// shaped like the spec's worked incidents, and JSON Lines.
package plain

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/tools"
)

// Transcript collects a run's events and writes the numbered transcript when
// the summary arrives.
type Transcript struct {
	w      io.Writer
	mu     sync.Mutex
	start  agent.RunStarted
	lines  map[agent.Phase][]string
	note   string
	header string
	answer []string // the planner's words, for conversation turns
}

// NewTranscript writes transcripts to w. header, if set, is printed under the
// alert (e.g. which platform runs).
func NewTranscript(w io.Writer, header string) *Transcript {
	return &Transcript{w: w, header: header, lines: map[agent.Phase][]string{}}
}

// Emit consumes one event.
func (t *Transcript) Emit(e agent.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch ev := e.(type) {
	case agent.RunStarted:
		t.start, t.lines, t.note, t.answer = ev, map[agent.Phase][]string{}, "", nil
	case agent.PlannerSwitched:
		t.note = fmt.Sprintf("%s → %s: %s", ev.From, ev.To, ev.Reason)
	case agent.ModelText:
		t.modelText(ev)
	case agent.ToolDone:
		t.toolDone(ev)
	case agent.Verified:
		t.verified(ev)
	case agent.Notified:
		t.notified(ev)
	case agent.Summary:
		t.write(ev)
	}
}

func (t *Transcript) add(p agent.Phase, s string) { t.lines[p] = append(t.lines[p], s) }

// modelText puts the planner's reasoning under "Analyse cause". In a final
// answer, diagnosis, cause and decision lines still belong there; the rest is
// the planner's closing word, shown with the notification.
func (t *Transcript) modelText(ev agent.ModelText) {
	if t.start.Alert.Source == "chat" {
		t.answer = append(t.answer, strings.TrimSpace(ev.Text))
		return
	}
	for _, line := range strings.Split(ev.Text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if ev.Final && !isAnalysis(line) {
			t.add(agent.PhaseNotify, "Planner: "+line)
			continue
		}
		for _, part := range splitDiagnosis(line) {
			t.add(agent.PhaseAnalys, part)
		}
	}
}

// isAnalysis reports a line of the planner's that explains rather than reports.
func isAnalysis(line string) bool {
	for _, p := range []string{"Diagnosis: ", "Cause: ", "Decision: "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// splitDiagnosis turns "Diagnosis: a; b; c" into bullets a, b, c.
func splitDiagnosis(line string) []string {
	body, ok := strings.CutPrefix(line, "Diagnosis: ")
	if !ok {
		return []string{line}
	}
	return strings.Split(body, "; ")
}

func (t *Transcript) toolDone(ev agent.ToolDone) {
	o := ev.Outcome
	switch {
	case o.Status == tools.StatusInvalid:
		t.add(ev.Phase, fmt.Sprintf("Invalid call %s: %s", o.Tool, o.Error))
	case o.Status == tools.StatusRefused:
		t.add(phaseOf(ev), fmt.Sprintf("Refused %s %s — %s: %s", o.Tool, o.Target, o.Rule, o.Reason))
	case o.Status == tools.StatusFailed || o.Status == tools.StatusCanceled:
		t.add(phaseOf(ev), fmt.Sprintf("Failed %s %s: %s", o.Tool, o.Target, o.Error))
	case o.Risk.ChangesPlatform():
		t.add(agent.PhaseAction, actionLine(ev))
	case ev.Phase == agent.PhaseVerify:
		// the Verified event says it better
	case ev.Phase == agent.PhaseCheck:
		t.add(ev.Phase, o.Summary)
	case o.Tool == "createIncident":
		t.add(agent.PhaseNotify, "Created incident ticket: "+strings.TrimPrefix(o.Summary, "opened incident "))
	default:
		t.add(agent.PhaseAnalys, "Checked: "+o.Summary)
	}
}

func phaseOf(ev agent.ToolDone) agent.Phase {
	if ev.Outcome.Risk.ChangesPlatform() {
		return agent.PhaseAction
	}
	return ev.Phase
}

func actionLine(ev agent.ToolDone) string {
	o := ev.Outcome
	verdict := "allowed"
	if ev.Verdict == "clamp" {
		verdict = fmt.Sprintf("clamped to %d by %s (%s)", ev.To, o.Rule, o.Reason)
	}
	if o.Status == tools.StatusDryRun {
		return fmt.Sprintf("%s (guard: %s)", capital(o.Summary), verdict)
	}
	return fmt.Sprintf("Done: %s (guard: %s)", o.Summary, verdict)
}

func (t *Transcript) verified(ev agent.Verified) {
	if ev.Waited > 0 {
		t.add(agent.PhaseVerify, fmt.Sprintf("%s after %s: %s (was %s)", capital(ev.Signal), ev.Waited, ev.After, ev.Before))
	} else {
		t.add(agent.PhaseVerify, fmt.Sprintf("%s now: %s", capital(ev.Signal), ev.After))
	}
	t.add(agent.PhaseVerify, "Status: "+map[string]string{"resolved": "Healthy", "worse": "Worse", "unresolved": "Still firing", "unknown": "Unknown"}[ev.Result])
}

func (t *Transcript) notified(ev agent.Notified) {
	switch {
	case ev.Suppressed != "":
		t.add(agent.PhaseNotify, "Notification not repeated: "+ev.Suppressed)
	case ev.Error != "":
		t.add(agent.PhaseNotify, "Notification not delivered: "+strings.TrimPrefix(ev.Error, "notification not delivered: "))
	case ev.Delivered:
		t.add(agent.PhaseNotify, "Team notified ("+ev.Channel+")")
	default:
		t.add(agent.PhaseNotify, "Notification kept in this transcript (set ALERT_WEBHOOK to deliver it)")
	}
	if ev.Escalated {
		t.add(agent.PhaseNotify, "Escalated to engineering")
	}
}

var titles = map[agent.Phase]string{
	agent.PhaseCheck: "Check current state", agent.PhaseAnalys: "Analyse cause", agent.PhaseAction: "Action",
	agent.PhaseVerify: "Verification", agent.PhaseNotify: "Notification",
}

// writeTurn renders a conversation turn: the request, the answer, then what
// was done and verified.
func (t *Transcript) writeTurn(s agent.Summary) {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s\n\n", s.Alert)
	for _, a := range t.answer {
		b.WriteString(a + "\n")
	}
	for _, ph := range []agent.Phase{agent.PhaseAction, agent.PhaseVerify, agent.PhaseNotify} {
		for _, l := range t.lines[ph] {
			fmt.Fprintf(&b, "  - %s\n", l)
		}
	}
	if len(s.Actions) > 0 || len(s.Refusals) > 0 || s.Error != "" {
		fmt.Fprintf(&b, "Resolution: %s\nOutcome: %s\n", s.Headline, s.Resolution)
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "Error: %s\n", s.Error)
	}
	_, _ = io.WriteString(t.w, b.String()+"\n")
}

func (t *Transcript) write(s agent.Summary) {
	if t.start.Alert.Source == "chat" {
		t.writeTurn(s)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Alert: %q\n", alertText(s.Alert))
	if t.header != "" {
		fmt.Fprintf(&b, "%s · Mode: %s\n", t.header, s.Mode)
	} else {
		fmt.Fprintf(&b, "Planner: %s · Mode: %s\n", s.Planner, s.Mode)
	}
	if t.note != "" {
		fmt.Fprintf(&b, "Planner fallback: %s\n", t.note)
	}
	b.WriteString("\nAutomatic Actions Taken:\n")
	n := 0
	for _, ph := range agent.Phases {
		lines := t.lines[ph]
		if ph == agent.PhaseAction && len(lines) == 0 {
			lines = []string{"No action taken"}
		}
		if len(lines) == 0 {
			continue
		}
		n++
		fmt.Fprintf(&b, "\n%d. %s:\n", n, titles[ph])
		for _, l := range lines {
			fmt.Fprintf(&b, "   - %s\n", l)
		}
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
	_, _ = io.WriteString(t.w, b.String())
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// alertText drops the "Alert:" a user often types before the text, so the
// header reads Alert: "Backend service CPU at 85%", as in the spec.
func alertText(s string) string {
	if len(s) > len("alert:") && strings.EqualFold(s[:len("alert:")], "alert:") {
		return strings.TrimSpace(s[len("alert:"):])
	}
	return s
}
