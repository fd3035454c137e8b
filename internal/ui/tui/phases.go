package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

var titles = map[agent.Phase]string{
	agent.PhaseCheck: "Check current state", agent.PhaseAnalys: "Analyse cause", agent.PhaseAction: "Action",
	agent.PhaseVerify: "Verification", agent.PhaseNotify: "Notification",
}

func phaseTitle(p agent.Phase) string {
	if t, ok := titles[p]; ok {
		return strings.ToLower(t)
	}
	return "starting"
}

// indent of what sits under a phase title.
const under = 5

// phaseLines renders one phase: its title with a spinner or a mark and the
// elapsed time, a one-line result, its calls and its notes.
func (m *Model) phaseLines(r *runState, n int, p agent.Phase, sel *call, live bool) ([]string, int) {
	ps := r.phases[p]
	icon, tone := m.phaseMark(r, p, live)
	left := icon + " " + m.st.of(tone).Bold(tone != ToneDim).Render(fmt.Sprintf("%d. %s", n, titles[p]))
	if p == agent.PhaseVerify && r.running(p) && r.waiting != nil {
		left += m.st.dim.Render(" · verifying at " + r.waiting.Until.Format(time.TimeOnly))
	}
	right := ""
	if d, ok := r.elapsed(p, m.o.Clock.Now()); ok {
		right = m.st.dim.Render(fmtDuration(d))
	}
	out := []string{left}
	if right != "" {
		out[0] += strings.Repeat(" ", max(m.width-lipgloss.Width(left)-lipgloss.Width(right), 1)) + right
	}
	result, rtone := m.phaseResult(r, p)
	if result != "" {
		out = append(out, m.para(result, m.st.of(rtone), under, "  ")...)
	}
	cur := -1
	for _, c := range ps.calls {
		if c == sel {
			cur = len(out)
		}
		out = append(out, m.callLines(c, c == sel, live, under-2)...)
	}
	for _, nt := range ps.notes {
		if nt.text == result {
			continue
		}
		if nt.quote {
			out = append(out, m.para("│ "+nt.text, m.st.quote, under, "│ ")...)
			continue
		}
		out = append(out, m.para(nt.text, m.st.of(nt.tone), under, "  ")...)
	}
	return out, cur
}

// phaseMark is a spinner while the phase runs, a dot before, a dash when it
// never ran, and a tick, a warning or a cross when done.
func (m *Model) phaseMark(r *runState, p agent.Phase, live bool) (string, Tone) {
	ps := r.phases[p]
	switch {
	case r.running(p):
		return m.spinner(live), ToneInfo
	case !ps.started && !r.finished():
		return m.st.dim.Render("·"), ToneDim
	case !ps.started && len(ps.calls) == 0 && len(ps.notes) == 0:
		return m.st.dim.Render("–"), ToneDim
	}
	switch t := phaseTone(r, p); t {
	case ToneBad:
		return m.st.bad.Render("✗"), ToneBad
	case ToneWarn:
		return m.st.warn.Render("!"), ToneWarn
	}
	return m.st.good.Render("✓"), ToneNone
}

// phaseTone is bad for a failed call or a worse signal, a warning for a
// refusal or a signal still firing.
func phaseTone(r *runState, p agent.Phase) Tone {
	t := ToneNone
	for _, c := range r.phases[p].calls {
		switch c.out.Status {
		case tools.StatusFailed, tools.StatusCanceled:
			return ToneBad
		case tools.StatusRefused, tools.StatusInvalid:
			t = ToneWarn
		}
	}
	if p == agent.PhaseVerify && r.verified != nil {
		if vt := verifiedTone(r.verified.Result); vt != ToneGood {
			return vt
		}
	}
	return t
}

// phaseResult is the one line that says what a phase found or did.
func (m *Model) phaseResult(r *runState, p agent.Phase) (string, Tone) {
	ps := r.phases[p]
	switch p {
	case agent.PhaseAnalys:
		if r.decision != "" {
			return r.decision, ToneNone
		}
	case agent.PhaseAction:
		return actionResult(r, ps)
	case agent.PhaseVerify:
		if r.verified != nil {
			return verifiedLine(*r.verified), verifiedTone(r.verified.Result)
		}
		if r.running(p) && r.waiting != nil {
			return r.waiting.Doing(), ToneDim
		}
		if r.running(p) {
			return "waiting for the change to settle, then reading the signal again", ToneDim
		}
	case agent.PhaseNotify:
		for _, n := range ps.notes {
			if !n.quote {
				return n.text, n.tone
			}
		}
	case agent.PhaseCheck:
		if len(ps.calls) > 0 && ps.calls[0].done {
			c := ps.calls[0]
			return firstNonEmpty(c.out.Summary, c.out.Error), ToneNone
		}
	}
	if r.finished() && !ps.started && len(ps.calls) == 0 && len(ps.notes) == 0 {
		return "skipped", ToneDim
	}
	return "", ToneNone
}

// actionResult sums up the writes; on a cluster it says which (Where.On).
func actionResult(r *runState, ps *phaseState) (string, Tone) {
	on := r.start.Where.On()
	var done, refused, failed []*call
	for _, c := range ps.calls {
		switch {
		case !c.done:
		case c.out.Status == tools.StatusExecuted || c.out.Status == tools.StatusDryRun:
			done = append(done, c)
		case c.out.Status == tools.StatusRefused:
			refused = append(refused, c)
		case c.out.Status == tools.StatusFailed || c.out.Status == tools.StatusCanceled:
			failed = append(failed, c)
		}
	}
	switch {
	case len(done)+len(refused)+len(failed) == 0 && r.finished():
		return "No action taken", ToneDim
	case len(done)+len(refused)+len(failed) == 0:
		return "", ToneNone
	case len(done) == 1 && len(refused)+len(failed) == 0:
		return capital(done[0].out.Summary) + on, ToneGood
	case len(refused) == 1 && len(done)+len(failed) == 0:
		return "Refused: " + refused[0].tool + r.start.Where.On() + " — " + refused[0].out.Rule, ToneWarn
	}
	parts := []string{}
	for _, x := range []struct {
		n    int
		what string
	}{{len(done), "done"}, {len(refused), "refused"}, {len(failed), "failed"}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	t := ToneGood
	if len(failed) > 0 {
		t = ToneBad
	} else if len(refused) > 0 {
		t = ToneWarn
	}
	return "Changes: " + strings.Join(parts, ", ") + on, t
}

func resolutionTone(r agent.Resolution) Tone {
	switch r {
	case agent.Resolved, agent.NoAction:
		return ToneGood
	case agent.Unresolved, agent.Escalated, agent.Cancelled:
		return ToneWarn
	}
	return ToneBad
}

func fmtDuration(d time.Duration) string { return units.Duration(d) }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
