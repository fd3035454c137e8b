package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/duet-company/ops-skill/internal/agent"
)

// View draws the live view, bounded to the terminal's height. Once the
// program quits it draws nothing: the record is printed after it.
func (m *Model) View() string {
	if m.quitting {
		return ""
	}
	head := m.headerLines()
	foot := m.footerLines()
	body, cur := m.bodyLines(true)
	if m.height > 0 {
		body = window(body, cur, m.height-len(head)-len(foot), m.follow, m.st)
	}
	return strings.Join(append(append(head, body...), foot...), "\n")
}

// Record is the whole view without cursor, spinner or keys: what stays on
// screen when the program ends.
func (m *Model) Record() string {
	body, _ := m.bodyLines(false)
	return strings.Join(append(m.headerLines(), body...), "\n") + "\n"
}

// window keeps h lines of body: the newest when following, else those around
// the cursor, with a marker for what is above and below.
func window(lines []string, cur, h int, follow bool, st styles) []string {
	h = max(h, 3)
	if len(lines) <= h {
		return lines
	}
	start := len(lines) - h
	if !follow && cur >= 0 {
		start = min(max(cur-h/3, 0), len(lines)-h)
	}
	out := append([]string(nil), lines[start:start+h]...)
	if start > 0 {
		out[0] = st.dim.Render(fmt.Sprintf("  ↑ %d more lines", start+1))
	}
	if below := len(lines) - start - h; below > 0 {
		out[h-1] = st.dim.Render(fmt.Sprintf("  ↓ %d more lines", below+1))
	}
	return out
}

func (m *Model) headerLines() []string {
	kind := "incident"
	if m.chat {
		kind = "conversation"
	}
	text := "ops-skill " + kind
	if m.o.Header != "" {
		text += " · " + m.o.Header
	}
	lines := wrapText(text, m.width, "  ")
	lines[0] = m.st.title.Render("ops-skill") + " " + m.st.dim.Render(strings.TrimPrefix(lines[0], "ops-skill "))
	for i := 1; i < len(lines); i++ {
		lines[i] = m.st.dim.Render(lines[i])
	}
	if m.o.Notice != "" {
		lines = append(lines, m.para(m.o.Notice, m.st.info, 0, "  ")...)
	}
	return append(lines, "")
}

// bodyLines renders every entry; it returns the index of the cursor's line.
func (m *Model) bodyLines(live bool) ([]string, int) {
	var sel *call
	if cs := m.calls(); live && m.cursor >= 0 && m.cursor < len(cs) {
		sel = cs[m.cursor]
	}
	var out []string
	cur := -1
	for i, e := range m.entries {
		if i > 0 {
			out = append(out, "")
		}
		var lines []string
		c := -1
		if m.chat || (e.run != nil && e.run.chat) {
			lines, c = m.turnLines(e, sel, live)
		} else if e.run != nil {
			lines, c = m.runLines(e.run, sel, live)
		}
		if c >= 0 {
			cur = len(out) + c
		}
		out = append(out, lines...)
	}
	if len(m.entries) == 0 && !m.chat {
		out = append(out, m.spinner(live)+" "+m.st.dim.Render("starting…"))
	}
	return out, cur
}

// runLines renders an incident's run: the alert, the planner, each phase and
// the summary box.
func (m *Model) runLines(r *runState, sel *call, live bool) ([]string, int) {
	out := m.para(fmt.Sprintf("Alert: %q", alertText(r.start.Alert.Text)), m.st.bold, 0, "  ")
	out = append(out, m.plannerLines(r, 0)...)
	out = append(out, "")
	cur := -1
	for i, p := range agent.Phases {
		lines, c := m.phaseLines(r, i+1, p, sel, live)
		if c >= 0 {
			cur = len(out) + c
		}
		out = append(out, lines...)
	}
	if r.summary != nil {
		out = append(out, "")
		out = append(out, m.summaryBox(r)...)
	}
	return out, cur
}

// plannerLines say which planner acts, in which mode, and any fallback.
func (m *Model) plannerLines(r *runState, indent int) []string {
	planner := r.start.Planner
	for _, s := range r.switched {
		planner += " → " + s.To
	}
	var out []string
	if !r.chat {
		line := "Planner: " + planner
		if r.start.Mode != "" {
			line += " · Mode: " + string(r.start.Mode)
		}
		out = m.para(line, m.st.dim, indent, "  ")
	}
	for _, s := range r.switched {
		out = append(out, m.para(fmt.Sprintf("⚠ Planner fallback: %s → %s: %s", s.From, s.To, s.Reason), m.st.warn, indent, "  ")...)
	}
	return out
}

// turnLines renders a conversation turn: the request, what the tools did,
// the answer and what was verified and notified.
func (m *Model) turnLines(e *entry, sel *call, live bool) ([]string, int) {
	var out []string
	request := e.request
	if request == "" && e.run != nil {
		request = e.run.start.Alert.Text // a one-shot request from the command line
	}
	if request != "" {
		lines := wrapText("› "+request, m.width, "  ")
		lines[0] = m.st.prompt.Render("›") + m.st.bold.Render(strings.TrimPrefix(lines[0], "›"))
		for i := 1; i < len(lines); i++ {
			lines[i] = m.st.bold.Render(lines[i])
		}
		out = append(out, lines...)
	}
	cur := -1
	if r := e.run; r != nil {
		out = append(out, m.turnRun(r, sel, live, &cur)...)
	} else if e.err == "" && live {
		out = append(out, "  "+m.spinner(live)+" "+m.st.dim.Render("working…"))
	}
	if e.err != "" {
		out = append(out, m.para("ops-skill: "+e.err, m.st.bad, 2, "  ")...)
	}
	return out, cur
}

func (m *Model) turnRun(r *runState, sel *call, live bool, cur *int) []string {
	out := m.plannerLines(r, 2)
	for _, c := range r.calls {
		if c == sel {
			*cur = len(out)
		}
		out = append(out, m.callLines(c, c == sel, live, 2)...)
	}
	for _, a := range r.answer {
		for _, para := range strings.Split(a, "\n") {
			out = append(out, m.para(para, m.st.quote, 2, "")...)
		}
	}
	for _, p := range []agent.Phase{agent.PhaseVerify, agent.PhaseNotify} {
		for _, n := range r.phases[p].notes {
			if !n.quote {
				out = append(out, m.para(n.text, m.st.of(n.tone), 2, "  ")...)
			}
		}
	}
	if r.summary == nil {
		if live {
			text := "working · " + phaseTitle(r.current)
			if el, ok := r.elapsed(r.current, m.o.Clock.Now()); ok {
				text += " · " + fmtDuration(el)
			}
			out = append(out, "  "+m.spinner(live)+" "+m.st.dim.Render(text))
		}
		return out
	}
	return append(out, m.turnOutcome(r)...)
}

// turnOutcome closes a turn that changed, or tried to change, something.
func (m *Model) turnOutcome(r *runState) []string {
	s := r.summary
	if len(s.Actions) == 0 && len(s.Refusals) == 0 && s.Error == "" {
		return nil
	}
	text := "→ " + string(s.Resolution) + " · " + s.Headline
	if s.Incident != "" {
		text += " · " + s.Incident
	}
	out := m.para(text, m.st.of(resolutionTone(s.Resolution)), 2, "  ")
	if s.Error != "" {
		out = append(out, m.para("Error: "+s.Error, m.st.bad, 2, "  ")...)
	}
	return out
}

func (m *Model) spinner(live bool) string {
	if !live {
		return m.st.dim.Render("…")
	}
	return m.spin.View()
}

// para wraps plain text to the width, indented by indent columns (later
// lines by hang more), and styles each line on its own so colours never
// bleed from one line into the next.
func (m *Model) para(text string, style lipgloss.Style, indent int, hang string) []string {
	pad := strings.Repeat(" ", indent)
	lines := wrapText(text, m.width-indent, hang)
	for i, l := range lines {
		lines[i] = pad + style.Render(l)
	}
	return lines
}

// wrapText breaks plain text to width; the lines after the first start with hang.
func wrapText(text string, width int, hang string) []string {
	width = max(width, 10)
	first := strings.Split(ansi.Wrap(text, width, ""), "\n")
	if len(first) == 1 || hang == "" {
		return first
	}
	rest := strings.Split(ansi.Wrap(strings.Join(first[1:], " "), width-len(hang), ""), "\n")
	out := []string{first[0]}
	for _, l := range rest {
		out = append(out, hang+l)
	}
	return out
}

// fit cuts styled text to width.
func fit(s string, width int) string { return ansi.Truncate(s, max(width, 1), "…") }

// alertText drops the "Alert:" a user often types before the text.
func alertText(s string) string {
	if len(s) > len("alert:") && strings.EqualFold(s[:len("alert:")], "alert:") {
		return strings.TrimSpace(s[len("alert:"):])
	}
	return s
}
