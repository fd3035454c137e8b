package tui

import (
	"io"
	"strings"
)

// Finding is one problem of a history analysis as the terminal shows it: a
// headline, evidence lines, the suggested command and a note.
type Finding struct {
	Problem  string // e.g. "thrashing"
	Headline string
	Evidence []string
	// More is how many evidence lines were left out.
	More    int
	Command string // the suggested command, or "no change"
	Note    string
	Charts  []Chart
}

// WriteFindings writes each finding as a block: the problem in the warning
// colour, the evidence dimmed, the command bold.
func WriteFindings(w io.Writer, fs []Finding, noColor bool) error {
	st := newStyles(newRenderer(w, noColor))
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(st.warn.Bold(true).Render(f.Problem) + "  " + f.Headline + "\n")
		for _, e := range f.Evidence {
			b.WriteString("  " + st.dim.Render("· "+e) + "\n")
		}
		if f.More > 0 {
			b.WriteString("  " + st.dim.Render("· … and "+itoa(f.More)+" more") + "\n")
		}
		for _, c := range f.Charts {
			b.WriteString(indent(renderChart(c, st), "  "))
		}
		tone := st.good.Bold(true)
		if f.Command == "no change" {
			tone = st.dim
		}
		b.WriteString("  suggest: " + tone.Render(f.Command) + "\n")
		if f.Note != "" {
			b.WriteString("  " + f.Note + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(s, by string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(by + l)
		}
	}
	return b.String()
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}
