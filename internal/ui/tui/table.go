package tui

import (
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// TableOptions configure a history table drawn on a terminal.
type TableOptions struct {
	// NoColor forces the ASCII profile (NO_COLOR, --no-color).
	NoColor bool
	// Width is the terminal's width; the last column is cut to fit. 0: no limit.
	Width int
	// Tone colours the cell at col of a row (header is the first row); nil:
	// the cell's status word (StatusTone).
	Tone func(header, row []string, col int) Tone
}

// gap separates the columns.
const gap = "  "

// WriteTable writes rows (the first is the header) as aligned columns: the
// header bold, each cell in its tone, no trailing spaces. Columns that do not
// fit the width go on an indented line under their row.
func WriteTable(w io.Writer, rows [][]string, o TableOptions) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := io.WriteString(w, renderTable(rows, o, newStyles(newRenderer(w, o.NoColor))))
	return err
}

func renderTable(rows [][]string, o TableOptions, st styles) string {
	tone := o.Tone
	if tone == nil {
		tone = func(_, row []string, col int) Tone { return StatusTone(row[col]) }
	}
	widths, inline := columnWidths(rows, o.Width)
	var b strings.Builder
	for i, r := range rows {
		style := func(j int, c string) string {
			if i == 0 {
				return st.heading.Render(c)
			}
			return st.tone(tone(rows[0], r, j), c)
		}
		cells := make([]string, 0, len(r))
		for j, c := range r[:min(inline, len(r))] {
			c = fit(c, widths[j])
			cells = append(cells, style(j, c)+strings.Repeat(" ", widths[j]-lipgloss.Width(c)))
		}
		b.WriteString(strings.TrimRight(strings.Join(cells, gap), " ") + "\n")
		if inline < len(r) {
			b.WriteString(continuation(r[inline:], inline, o.Width, style) + "\n")
		}
	}
	return b.String()
}

// indentRest indents the columns that do not fit, under their row.
const indentRest = "    "

// continuation puts the columns that do not fit on a line of their own, under
// the row, joined by " · ".
func continuation(cells []string, first, width int, style func(int, string) string) string {
	room := width - len(indentRest)
	parts := make([]string, 0, len(cells))
	for k, c := range cells {
		if room <= 0 {
			break
		}
		c = fit(c, room)
		room -= lipgloss.Width(c) + len(" · ")
		parts = append(parts, style(first+k, c))
	}
	return indentRest + strings.Join(parts, " · ")
}

// minLast is the least room the last column is cut to before it moves to a
// line of its own.
const minLast = 20

// columnWidths is the widest cell of each column, and how many columns go on
// the row's line. Within width (if given) the last column is cut, down to
// minLast; past that, the columns that do not fit go on a line under the row.
func columnWidths(rows [][]string, width int) ([]int, int) {
	n := 0
	for _, r := range rows {
		n = max(n, len(r))
	}
	widths := make([]int, n)
	for _, r := range rows {
		for j, c := range r {
			widths[j] = max(widths[j], lipgloss.Width(c))
		}
	}
	if width <= 0 || n == 0 {
		return widths, n
	}
	used := 0
	for j, w := range widths[:n-1] {
		used += w + len(gap)
		if used-len(gap) > width {
			return widths, max(j, 1)
		}
	}
	switch last := width - used; {
	case last >= widths[n-1]:
	case last >= minLast:
		widths[n-1] = last
	default:
		return widths, n - 1
	}
	return widths, n
}

// StatusTone colours outcomes and statuses: resolved and executed are good;
// unresolved, escalated, open and dry runs are warnings; failed, rejected
// and refused are bad; "-" is dim.
func StatusTone(cell string) Tone {
	switch cell {
	case "resolved", "no_action", "executed", "ok", "allow", "mitigated":
		return ToneGood
	case "unresolved", "escalated", "open", "dry_run", "clamp":
		return ToneWarn
	case "failed", "rejected", "refused", "refuse", "error":
		return ToneBad
	case "-":
		return ToneDim
	}
	return ToneNone
}
