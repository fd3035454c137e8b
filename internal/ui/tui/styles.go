package tui

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Tone is the meaning a piece of text carries, rendered as a colour.
type Tone int

// Tones, from none to bad.
const (
	ToneNone Tone = iota
	ToneGood
	ToneWarn
	ToneBad
	ToneDim
	ToneInfo
)

// styles are the lipgloss styles of one renderer. Colours are the terminal's
// own 16 ANSI colours, so they follow its theme and no background query is
// ever sent to the terminal.
type styles struct {
	r       *lipgloss.Renderer
	bold    lipgloss.Style
	dim     lipgloss.Style
	good    lipgloss.Style
	warn    lipgloss.Style
	bad     lipgloss.Style
	info    lipgloss.Style
	title   lipgloss.Style
	sel     lipgloss.Style
	quote   lipgloss.Style
	box     lipgloss.Style
	prompt  lipgloss.Style
	heading lipgloss.Style
}

// newRenderer returns a renderer for w; noColor forces the ASCII profile
// (no colour, no attributes), as NO_COLOR and --no-color ask.
func newRenderer(w io.Writer, noColor bool) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(w)
	if noColor {
		r.SetColorProfile(termenv.Ascii)
	}
	return r
}

func newStyles(r *lipgloss.Renderer) styles {
	s := styles{r: r}
	c := func(n string) lipgloss.Style { return r.NewStyle().Foreground(lipgloss.Color(n)) }
	s.bold = r.NewStyle().Bold(true)
	s.dim = c("8")
	s.good = c("2")
	s.warn = c("3")
	s.bad = c("1")
	s.info = c("6")
	s.title = r.NewStyle().Bold(true).Foreground(lipgloss.Color("6"))
	s.sel = r.NewStyle().Bold(true).Reverse(true)
	s.quote = c("7").Italic(true)
	s.box = r.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1)
	s.prompt = c("5").Bold(true)
	s.heading = r.NewStyle().Bold(true)
	return s
}

// of is the style of a tone.
func (s styles) of(t Tone) lipgloss.Style {
	switch t {
	case ToneGood:
		return s.good
	case ToneWarn:
		return s.warn
	case ToneBad:
		return s.bad
	case ToneDim:
		return s.dim
	case ToneInfo:
		return s.info
	}
	return s.r.NewStyle()
}

// tone renders text in the style of a tone.
func (s styles) tone(t Tone, text string) string { return s.of(t).Render(text) }

// border is the colour of a box of a tone.
func (s styles) border(t Tone) lipgloss.Style {
	colour := map[Tone]string{ToneGood: "2", ToneWarn: "3", ToneBad: "1", ToneInfo: "6"}[t]
	if colour == "" {
		colour = "8"
	}
	return s.box.BorderForeground(lipgloss.Color(colour))
}
