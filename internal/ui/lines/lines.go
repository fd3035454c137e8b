// Package lines is the one projection of agent events to transcript lines:
// what each event says, under which phase, in which tone. The plain
// transcript and the terminal UI both read it and only style it — numbering,
// headings, colours and layout are theirs — so the two can never say
// different things about a run.
package lines

import (
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// Place is where a line goes: a phase of the run, or one of the places below,
// which the renderer resolves.
type Place = agent.Phase

// Places that are not a phase of their own.
const (
	// PlaceWork is the planner's words while it works: under "Analyse
	// cause", or under "Action" when they come between writes.
	PlaceWork Place = "planner"
	// PlaceFallback is a planner fallback note, placed as PlaceWork.
	PlaceFallback Place = "fallback"
	// PlaceAnswer is the planner's answer in a conversation turn.
	PlaceAnswer Place = "answer"
	// PlaceHere is under the phase written last (a failed history write).
	PlaceHere Place = "here"
)

// Tone is what a line means for the run; renderers pick the style.
type Tone int

// Tones.
const (
	ToneNone Tone = iota
	ToneGood
	ToneWarn
	ToneBad
	ToneDim
)

// Line is one line of a transcript.
type Line struct {
	Place Place
	Text  string
	Tone  Tone
	// Quote marks the planner's own words (a model's may be anything).
	Quote bool
}

// Project is what event e of the run that run started says. Calls in
// progress, waiting and the summary are the renderers' own. No line carries
// a terminal control sequence, whoever wrote its words.
func Project(e agent.Event, run agent.RunStarted) []Line {
	out := project(e, run)
	for i := range out {
		out[i].Text = text.Printable(out[i].Text)
	}
	return out
}

func project(e agent.Event, run agent.RunStarted) []Line {
	chat := run.Alert.Source == alert.SourceChat
	switch ev := e.(type) {
	case agent.SubjectResolved:
		return []Line{subject(ev)}
	case agent.PlannerSwitched:
		return []Line{{Place: PlaceFallback, Text: fmt.Sprintf("Planner fallback: %s → %s: %s", ev.From, ev.To, ev.Reason), Tone: ToneWarn}}
	case agent.Reported:
		if chat {
			return []Line{{Place: PlaceAnswer, Text: ev.Report.String(), Quote: true}}
		}
		return Report(ev.Report, ev.Final)
	case agent.ToolDone:
		if l, ok := ToolDone(ev, run.Where); ok {
			return []Line{l}
		}
	case agent.Verified:
		return Verified(ev)
	case agent.Notified:
		return Notified(ev)
	case agent.Resumed:
		return []Line{resumed(ev)}
	case agent.HistoryFailed:
		return []Line{{Place: PlaceHere, Text: capital(ev.String()), Tone: ToneBad}}
	}
	return nil
}

// resumed says what a run found left unfinished by a process that died:
// "Resumed alert 12 (its process died): Resumed after its process died: …".
func resumed(ev agent.Resumed) Line {
	t := fmt.Sprintf("Resumed alert %d, left unfinished by a process that died: %s", ev.AlertID, ev.Headline)
	if ev.Unconfirmed > 0 {
		t += fmt.Sprintf(" (%d write(s) recorded only as intents)", ev.Unconfirmed)
	}
	if ev.Notified != nil && ev.Notified.Delivered {
		t += "; notified"
	}
	return Line{Place: agent.PhaseCheck, Text: t, Tone: ToneWarn}
}

// subject says what the alert's object belongs to: "Subject: pod/shop/x →
// replicaset/shop/y → deployment/shop/z".
func subject(ev agent.SubjectResolved) Line {
	r := ev.Resolution
	if ev.Error != "" {
		return Line{Place: agent.PhaseCheck, Text: fmt.Sprintf("Subject %s not resolved: %s", r.Object, ev.Error), Tone: ToneWarn}
	}
	text := "Subject: " + r.Chain()
	switch {
	case r.Node != "":
		text += fmt.Sprintf(" (%d pods)", len(r.Pods))
	case r.Workload.Name == "":
		text += " (no workload owns it)"
	}
	if r.Autoscaler != "" {
		text += "; replicas owned by " + r.Autoscaler
	}
	return Line{Place: agent.PhaseCheck, Text: text}
}

// Report lays out a planner's report: the diagnosis (one line per fact), the
// cause and the decision under "Analyse cause"; its other words with its
// work, or, in its final answer, as its closing word beside the notification.
func Report(rep plan.Report, final bool) []Line {
	var out []Line
	analysis := func(s string) { out = append(out, Line{Place: agent.PhaseAnalys, Text: s, Quote: true}) }
	for _, d := range rep.Diagnosis {
		analysis(d)
	}
	if rep.Cause != "" {
		analysis("Cause: " + rep.Cause)
	}
	if rep.Decision != "" {
		analysis("Decision: " + rep.Decision)
	}
	for _, s := range textLines(rep.Text) {
		if final {
			out = append(out, Line{Place: agent.PhaseNotify, Text: "Planner: " + s, Quote: true})
		} else {
			out = append(out, Line{Place: PlaceWork, Text: s, Quote: true})
		}
	}
	if rep.FollowUp != "" {
		place := Place(agent.PhaseNotify)
		if !final {
			place = PlaceWork
		}
		out = append(out, Line{Place: place, Text: "Follow-up: " + rep.FollowUp, Quote: true})
	}
	return out
}

func textLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Decision is the decision line of a report ("Decision: scale up from 3 to 4
// replicas."), for a renderer's one-line result of "Analyse cause".
func Decision(rep plan.Report) string {
	if rep.Decision == "" {
		return ""
	}
	return "Decision: " + rep.Decision
}

// ToolDone is the line of a call's outcome; a write's names the cluster it
// acted on (where.On), so that no line about a change leaves it unsaid.
func ToolDone(ev agent.ToolDone, where platform.Where) (Line, bool) {
	o := ev.Outcome
	on := ""
	if o.Risk.ChangesPlatform() {
		on = where.On()
	}
	switch {
	case o.Status == tools.StatusInvalid:
		return Line{Place: ev.Phase, Text: fmt.Sprintf("Invalid call %s: %s", o.Tool, o.Error), Tone: ToneWarn}, true
	case o.Status == tools.StatusRefused:
		return Line{Place: phaseOf(ev), Text: fmt.Sprintf("Refused %s %s%s — %s: %s", o.Tool, o.Target, on, o.Rule, o.Reason), Tone: ToneWarn}, true
	case o.Status == tools.StatusFailed || o.Status == tools.StatusCanceled:
		return Line{Place: phaseOf(ev), Text: fmt.Sprintf("Failed %s %s%s: %s", o.Tool, o.Target, on, o.Error), Tone: ToneBad}, true
	case o.Risk.ChangesPlatform():
		return Line{Place: agent.PhaseAction, Text: actionLine(ev, on), Tone: ToneGood}, true
	case ev.Phase == agent.PhaseVerify:
		return Line{}, false // the Verified event says it better
	case ev.Phase == agent.PhaseCheck:
		return Line{Place: ev.Phase, Text: o.Summary}, true
	case o.Status == tools.StatusDryRun: // a record in observe mode: what it would have done
		return Line{Place: agent.PhaseNotify, Text: capital(o.Summary), Tone: ToneDim}, true
	case o.Tool == tools.CreateIncident:
		return Line{Place: agent.PhaseNotify, Text: incidentLine(o)}, true
	}
	return Line{Place: agent.PhaseAnalys, Text: "Checked: " + o.Summary}, true
}

// incidentLine says which incident createIncident opened, or joined.
func incidentLine(o tools.Outcome) string {
	ir, ok := o.Result.(tools.IncidentResult)
	switch {
	case !ok:
		return "Incident: " + o.Summary
	case ir.Joined:
		return "Joined the open incident ticket: " + ir.ID
	}
	return "Created incident ticket: " + ir.ID
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

// Verified is the re-check after the settle time: the signal then and before,
// and the verdict.
func Verified(ev agent.Verified) []Line {
	first := fmt.Sprintf("%s now: %s", capital(ev.Signal), ev.After)
	if ev.Evidence != "" && ev.Waited == 0 {
		// a write whose effect showed at once (a virtual clock)
		first = fmt.Sprintf("%s now: %s (was %s)", capital(ev.Signal), ev.After, ev.Before)
	}
	if ev.Waited > 0 {
		first = fmt.Sprintf("%s after %s: %s (was %s)", capital(ev.Signal), ev.Waited, ev.After, ev.Before)
	}
	status := statusWords[ev.Result]
	if status == "" {
		status = string(ev.Result)
	}
	out := []Line{{Place: agent.PhaseVerify, Text: first}}
	if ev.Evidence != "" {
		out = append(out, Line{Place: agent.PhaseVerify, Text: "Waited for: " + ev.Evidence, Tone: ToneDim})
	}
	return append(out, Line{Place: agent.PhaseVerify, Text: "Status: " + status, Tone: VerifiedTone(ev.Result)})
}

// VerifiedTone is what a verification result means.
func VerifiedTone(result platform.VerifyResult) Tone {
	switch result {
	case platform.VerifyResolved:
		return ToneGood
	case platform.VerifyWorse:
		return ToneBad
	}
	return ToneWarn
}

// Notified says what became of a notification.
func Notified(ev agent.Notified) []Line {
	var l Line
	switch {
	case ev.Held != "":
		l = Line{Text: "Notification not sent: " + ev.Held, Tone: ToneDim}
	case ev.Suppressed != "":
		l = Line{Text: "Notification not repeated: " + ev.Suppressed, Tone: ToneDim}
	case ev.Error != "":
		l = Line{Text: "Notification not delivered: " + strings.TrimPrefix(ev.Error, "notification not delivered: "), Tone: ToneWarn}
	case ev.Delivered:
		l = Line{Text: "Team notified (" + ev.Channel + ")", Tone: ToneGood}
	default:
		l = Line{Text: "Notification kept in this transcript (set ALERT_WEBHOOK to deliver it)", Tone: ToneDim}
	}
	l.Place = agent.PhaseNotify
	out := []Line{l}
	if ev.Escalated {
		out = append(out, Line{Place: agent.PhaseNotify, Text: "Escalated to engineering", Tone: ToneWarn})
	}
	return out
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
