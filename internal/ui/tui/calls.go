package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/tools"
)

// maxResultLines bounds the result shown when a call is expanded.
const maxResultLines = 12

// callLines renders a call: its mark, number, tool and summary on one line,
// the guard's decision under a write, and its details when expanded.
func (m *Model) callLines(c *call, selected, live bool, indent int) []string {
	cursor := "  "
	if selected {
		cursor = m.st.info.Render("▸") + " "
	}
	mark := m.callMark(c, live)
	head := fmt.Sprintf("#%d %s", c.n, c.tool)
	if selected {
		head = m.st.sel.Render(head)
	} else {
		head = m.st.bold.Render(head)
	}
	line := strings.Repeat(" ", indent) + cursor + mark + " " + head + "  " + m.st.dim.Render(m.callDetail(c))
	out := []string{fit(line, m.width)}
	sub := indent + 6
	if text, tone, ok := m.guardText(c); ok {
		out = append(out, m.para(text, m.st.of(tone), sub, "  ")...)
	}
	if c.expanded {
		out = append(out, m.expanded(c, sub)...)
	}
	return out
}

// callMark says how a call ended: ✓ ok or executed, ~ dry run, ⊘ refused,
// ! invalid, ✗ failed; a spinner while it runs.
func (m *Model) callMark(c *call, live bool) string {
	if !c.done {
		return m.spinner(live)
	}
	switch c.out.Status {
	case tools.StatusOK, tools.StatusExecuted:
		return m.st.good.Render("✓")
	case tools.StatusDryRun:
		return m.st.info.Render("~")
	case tools.StatusRefused:
		return m.st.bad.Render("⊘")
	case tools.StatusInvalid:
		return m.st.warn.Render("!")
	}
	return m.st.bad.Render("✗")
}

// callDetail is the call's summary when done, else what it targets. A
// write's names the cluster it acts on (c.on).
func (m *Model) callDetail(c *call) string {
	if c.done {
		on := ""
		if c.out.Risk.ChangesPlatform() {
			on = c.on
		}
		switch {
		case c.out.Status == tools.StatusFailed && on != "":
			return c.out.Target + on + ": " + firstNonEmpty(c.out.Error, c.out.Summary)
		case c.out.Status == tools.StatusInvalid || c.out.Status == tools.StatusFailed:
			return firstNonEmpty(c.out.Error, c.out.Summary)
		case c.out.Status == tools.StatusRefused:
			return firstNonEmpty(c.out.Target, c.out.Summary) + on
		}
		return firstNonEmpty(c.out.Summary, c.out.Target) + on
	}
	if m.pending != nil && c.phase == agent.PhaseAction {
		return "awaiting approval: " + m.pending.plan.Summary + c.on
	}
	return compactArgs(c.args)
}

// guardText is the guard's decision on a write (or any refusal), worded so
// that allowed, clamped and refused read differently without colour.
func (m *Model) guardText(c *call) (string, Tone, bool) {
	o := c.out
	if !c.done || (c.verdict == "" && !o.Risk.ChangesPlatform() && o.Status != tools.StatusRefused) {
		return "", ToneNone, false
	}
	var text string
	tone := ToneGood
	switch {
	case o.Status == tools.StatusRefused:
		text, tone = "guard: refused · "+o.Rule+" — "+o.Reason, ToneBad
	case c.verdict == "clamp":
		text, tone = fmt.Sprintf("guard: clamped %s → %s · %s — %s", m.clampFrom(c), valueOf(o.Params, "to", c.to), o.Rule, o.Reason), ToneWarn
	case o.Status == tools.StatusFailed || o.Status == tools.StatusCanceled:
		text, tone = "failed: "+o.Error, ToneBad
		if c.verdict != "" {
			text = "guard: allowed · " + o.Rule + " — " + text
		}
	default:
		text = "guard: allowed · " + firstNonEmpty(o.Rule, "policy")
	}
	if c.approval != "" {
		text += " · " + c.approval + " by the operator"
	}
	if o.Status == tools.StatusDryRun {
		text += " · dry run, nothing changed"
	}
	return text, tone, true
}

// clampFrom is what was asked for of a clamped write, else its current value.
func (m *Model) clampFrom(c *call) string {
	if req, ok := c.out.Params["requested"]; ok {
		return fmt.Sprint(req)
	}
	return valueOf(c.out.Params, "from", c.from)
}

func valueOf(params map[string]any, key string, fallback int64) string {
	if v, ok := params[key]; ok {
		return fmt.Sprint(v)
	}
	return fmt.Sprint(fallback)
}

// expanded lists a call's arguments, who asked, its parameters, error and a
// bounded view of its result.
func (m *Model) expanded(c *call, indent int) []string {
	var out []string
	kv := func(k, v string) {
		if v != "" {
			out = append(out, m.para(fmt.Sprintf("%-7s %s", k, v), m.st.dim, indent, "        ")...)
		}
	}
	kv("args", compactArgs(c.args))
	kv("by", c.by)
	if c.done {
		kv("status", string(c.out.Status))
		kv("change", params(c.out.Params))
		kv("error", c.out.Error)
		kv("result", c.out.Summary)
		for _, l := range resultLines(c.out.Result, m.width-indent-8) {
			out = append(out, strings.Repeat(" ", indent+8)+m.st.dim.Render(l))
		}
	}
	return out
}

// resultLines is the typed result as indented JSON, at most maxResultLines.
func resultLines(v any, width int) []string {
	if v == nil {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil || string(b) == "null" {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	more := len(lines) - maxResultLines
	if more > 0 {
		lines = append(lines[:maxResultLines], fmt.Sprintf("… %d more lines", more))
	}
	for i, l := range lines {
		lines[i] = fit(l, width)
	}
	return lines
}

func compactArgs(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	if s := b.String(); s != "{}" && s != "null" {
		return s
	}
	return ""
}

// params renders what a write changes as sorted key=value pairs.
func params(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, p[k])
	}
	return strings.Join(parts, " ")
}
