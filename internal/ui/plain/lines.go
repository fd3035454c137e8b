package plain

import (
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// line is one line of the transcript and the phase it goes under.
type line struct {
	phase agent.Phase
	text  string
}

// Where a line goes when it is not a phase of its own: the Transcript
// places it (see its rules).
const (
	phasePlanner  agent.Phase = "planner"  // the planner's words while it works
	phaseFallback agent.Phase = "fallback" // a planner fallback note
	phaseAnswer   agent.Phase = "answer"   // the planner's words in a conversation turn
	phaseHere     agent.Phase = "here"     // under the phase written last: a failed history write
)

// project is the one projection of events to transcript lines: what each
// event of the run started by run says, and under which phase. Streaming,
// numbering and headings are the Transcript's.
func project(e agent.Event, run agent.RunStarted) []line {
	chat := run.Alert.Source == "chat"
	switch ev := e.(type) {
	case agent.PlannerSwitched:
		return []line{{phaseFallback, fmt.Sprintf("Planner fallback: %s → %s: %s", ev.From, ev.To, ev.Reason)}}
	case agent.ModelText:
		if chat {
			return []line{{phaseAnswer, strings.TrimSpace(ev.Text)}}
		}
		return modelText(ev)
	case agent.ToolDone:
		if l, ok := toolDone(ev, run.Where); ok {
			return []line{l}
		}
	case agent.Verified:
		return verified(ev)
	case agent.Notified:
		return notified(ev)
	case agent.HistoryFailed:
		return []line{{phaseHere, capital(ev.String())}}
	}
	return nil
}

// modelText puts the planner's reasoning with its work; in a final answer,
// diagnosis, cause and decision lines still belong under "Analyse cause" and
// the rest is the planner's closing word, shown with the notification.
func modelText(ev agent.ModelText) []line {
	var out []line
	for _, s := range strings.Split(ev.Text, "\n") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case isAnalysis(s):
			for _, part := range splitDiagnosis(s) {
				out = append(out, line{agent.PhaseAnalys, part})
			}
		case ev.Final:
			out = append(out, line{agent.PhaseNotify, "Planner: " + s})
		default:
			out = append(out, line{phasePlanner, s})
		}
	}
	return out
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

// toolDone is the line of a call's outcome; a write's names the cluster it
// acted on (where.On), so that no line about a change leaves it unsaid.
func toolDone(ev agent.ToolDone, where platform.Where) (line, bool) {
	o := ev.Outcome
	on := ""
	if o.Risk.ChangesPlatform() {
		on = where.On()
	}
	switch {
	case o.Status == tools.StatusInvalid:
		return line{ev.Phase, fmt.Sprintf("Invalid call %s: %s", o.Tool, o.Error)}, true
	case o.Status == tools.StatusRefused:
		return line{phaseOf(ev), fmt.Sprintf("Refused %s %s%s — %s: %s", o.Tool, o.Target, on, o.Rule, o.Reason)}, true
	case o.Status == tools.StatusFailed || o.Status == tools.StatusCanceled:
		return line{phaseOf(ev), fmt.Sprintf("Failed %s %s%s: %s", o.Tool, o.Target, on, o.Error)}, true
	case o.Risk.ChangesPlatform():
		return line{agent.PhaseAction, actionLine(ev, on)}, true
	case ev.Phase == agent.PhaseVerify:
		return line{}, false // the Verified event says it better
	case ev.Phase == agent.PhaseCheck:
		return line{ev.Phase, o.Summary}, true
	case o.Status == tools.StatusDryRun: // a record in observe mode: what it would have done
		return line{agent.PhaseNotify, capital(o.Summary)}, true
	case o.Tool == tools.CreateIncident:
		return line{agent.PhaseNotify, "Created incident ticket: " + strings.TrimPrefix(o.Summary, "opened incident ")}, true
	}
	return line{agent.PhaseAnalys, "Checked: " + o.Summary}, true
}

func phaseOf(ev agent.ToolDone) agent.Phase {
	if ev.Outcome.Risk.ChangesPlatform() {
		return agent.PhaseAction
	}
	return ev.Phase
}

func actionLine(ev agent.ToolDone, on string) string {
	o := ev.Outcome
	verdict := "allowed"
	if ev.Verdict == "clamp" {
		verdict = fmt.Sprintf("clamped to %d by %s (%s)", ev.To, o.Rule, o.Reason)
	}
	if o.Status == tools.StatusDryRun {
		return fmt.Sprintf("%s%s (guard: %s)", capital(o.Summary), on, verdict)
	}
	return fmt.Sprintf("Done: %s%s (guard: %s)", o.Summary, on, verdict)
}

var statusWords = map[platform.VerifyResult]string{platform.VerifyResolved: "Healthy", platform.VerifyWorse: "Worse", platform.VerifyUnresolved: "Still firing", platform.VerifyUnknown: "Unknown"}

func verified(ev agent.Verified) []line {
	first := fmt.Sprintf("%s now: %s", capital(ev.Signal), ev.After)
	if ev.Waited > 0 {
		first = fmt.Sprintf("%s after %s: %s (was %s)", capital(ev.Signal), ev.Waited, ev.After, ev.Before)
	}
	return []line{{agent.PhaseVerify, first}, {agent.PhaseVerify, "Status: " + statusWords[ev.Result]}}
}

func notified(ev agent.Notified) []line {
	var text string
	switch {
	case ev.Held != "":
		text = "Notification not sent: " + ev.Held
	case ev.Suppressed != "":
		text = "Notification not repeated: " + ev.Suppressed
	case ev.Error != "":
		text = "Notification not delivered: " + strings.TrimPrefix(ev.Error, "notification not delivered: ")
	case ev.Delivered:
		text = "Team notified (" + ev.Channel + ")"
	default:
		text = "Notification kept in this transcript (set ALERT_WEBHOOK to deliver it)"
	}
	out := []line{{agent.PhaseNotify, text}}
	if ev.Escalated {
		out = append(out, line{agent.PhaseNotify, "Escalated to engineering"})
	}
	return out
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
