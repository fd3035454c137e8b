package tui

import (
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/agent"
)

// keyWidth is the width of the keys in boxes ("Time to resolution").
const keyWidth = 18

// row is one key and its value in a box.
type row struct {
	key, value string
	tone       Tone
}

// summaryBox closes an incident: resolution, actions, refusals, time to
// resolution, incident, dashboard link, planner and error.
func (m *Model) summaryBox(r *runState) []string {
	s := r.summary
	rows := []row{{"Resolution", s.Headline, ToneNone}, {"Outcome", string(s.Resolution), resolutionTone(s.Resolution)}}
	if len(s.Actions) == 0 {
		rows = append(rows, row{"Actions", "none", ToneDim})
	}
	for i, a := range s.Actions {
		rows = append(rows, row{keyOnce(i, "Actions"), actionText(a, r.start.Where.On()), ToneNone})
	}
	for i, f := range s.Refusals {
		rows = append(rows, row{keyOnce(i, "Refused"), fmt.Sprintf("%s %s — %s: %s", f.Tool, f.Target, f.Rule, f.Reason), ToneWarn})
	}
	ttr := ""
	if s.TimeToResolution > 0 {
		ttr = s.TimeToResolution.String()
	}
	for _, x := range []row{{"Time to resolution", ttr, ToneNone}, {"Incident", s.Incident, ToneNone},
		{"Dashboard", m.dashboard(r), ToneInfo}, {"Planner", plannerText(s), ToneDim}, {"Error", s.Error, ToneBad}} {
		if x.value != "" {
			rows = append(rows, x)
		}
	}
	return m.box(m.st.bold.Render("Summary"), rows, resolutionTone(s.Resolution))
}

// actionText is a write's result ("scale ai-data-labs/backend from 3 to 4
// replicas"), which names its target, where it acted (on, on a cluster) and
// its status.
func actionText(a agent.Action, on string) string {
	what := a.Result
	if what == "" || (a.Target != "" && !strings.Contains(what, a.Target)) {
		what = strings.TrimSpace(string(a.Tool) + " " + a.Target + ": " + what)
	}
	return capital(what) + on + " (" + strings.ReplaceAll(a.Status, "_", " ") + ")"
}

func keyOnce(i int, key string) string {
	if i == 0 {
		return key
	}
	return ""
}

func plannerText(s *agent.Summary) string {
	if s.PlannerNote != "" {
		return s.Planner + " (" + s.PlannerNote + ")"
	}
	return s.Planner
}

// dashboard is the link to the alerted service's dashboard, if any.
func (m *Model) dashboard(r *runState) string {
	if m.o.Dashboard == nil {
		return ""
	}
	service := r.start.Alert.Service
	if service == "" && r.summary != nil {
		if _, name, ok := strings.Cut(r.summary.Target, "/"); ok {
			service = name
		}
	}
	if service == "" {
		return ""
	}
	return m.o.Dashboard(service)
}

// box draws a bordered box of key/value rows at the view's width.
func (m *Model) box(title string, rows []row, t Tone) []string {
	inner := max(m.width-4, keyWidth+12)
	lines := []string{title}
	for _, r := range rows {
		vw := inner - keyWidth - 1
		vals := wrapText(r.value, vw, "")
		for i, v := range vals {
			k := ""
			if i == 0 {
				k = r.key
			}
			lines = append(lines, m.st.dim.Render(fmt.Sprintf("%-*s", keyWidth, k))+" "+m.st.of(r.tone).Render(v))
		}
	}
	box := m.st.border(t).Width(inner + 2).Render(strings.Join(lines, "\n"))
	return strings.Split(box, "\n")
}

// footerLines are the approval prompt, the text input or the keys.
func (m *Model) footerLines() []string {
	if m.pending != nil {
		return m.approvalBox()
	}
	var out []string
	if m.chat {
		out = append(out, "", fit(m.input.View(), m.width))
	}
	return append(out, m.st.dim.Render(fit(m.help(), m.width)))
}

func (m *Model) help() string {
	switch {
	case m.cancelled:
		return "cancelling: the agent ends its current step and records the cancellation · ctrl-c again leaves now"
	case m.chat && m.busy:
		return "working · esc or ctrl-c cancels this request · " + m.selectKeys() + " select a call"
	case m.chat && m.hist != nil:
		return "enter send · ↑/↓ history · shift+↑/↓ select a call · enter on an empty line expands it · ctrl-d quit"
	case m.chat:
		return "enter send · ↑/↓ select a call · enter on an empty line expands it · ctrl-d quit"
	case m.o.In == nil:
		return "keys unavailable: standard input is not a terminal"
	}
	return "↑/↓ or j/k move · enter expands a call · q or ctrl-c cancels"
}

// selectKeys are the keys that move over the calls in a conversation.
func (m *Model) selectKeys() string {
	if m.hist != nil {
		return "shift+↑/↓"
	}
	return "↑/↓"
}

// approvalBox shows what a write will change and asks y/N.
func (m *Model) approvalBox() []string {
	p := m.pending.plan
	d := p.Decision
	guard := fmt.Sprintf("%s · %s", verdictWord(string(d.Verdict)), d.Rule)
	if d.Reason != "" {
		guard += " — " + d.Reason
	}
	where, wtone := "", ToneNone
	if r := m.lastRun(); r != nil {
		where = r.start.Where.String()
		if !r.start.Where.Simulated() {
			wtone = ToneWarn // a real cluster: the one thing to check before y
		}
	}
	rows := []row{{"Change", p.Summary, ToneNone}, {"Where", where, wtone}, {"Target", p.Target, ToneNone},
		{"Parameters", params(p.Params), ToneNone}, {"Partitions", strings.Join(p.Partitions, ", "), ToneNone},
		{"Guard", guard, verdictTone(string(d.Verdict))}}
	var keep []row
	for _, r := range rows {
		if r.value != "" {
			keep = append(keep, r)
		}
	}
	keep = append(keep, row{"", "[y] approve   [n] decline (default)", ToneInfo})
	return m.box(m.st.prompt.Render("Approve this change?"), keep, ToneInfo)
}

func verdictWord(v string) string {
	switch v {
	case "allow":
		return "allowed"
	case "clamp":
		return "clamped"
	case "refuse":
		return "refused"
	}
	return v
}

func verdictTone(v string) Tone {
	switch v {
	case "allow":
		return ToneGood
	case "clamp":
		return ToneWarn
	}
	return ToneBad
}
