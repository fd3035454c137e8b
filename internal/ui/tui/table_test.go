package tui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

var historyRows = [][]string{
	{"RECEIVED", "SERVICE", "OUTCOME", "ALERT"},
	{"2026-02-16T10:00:00Z", "backend", "resolved", "Backend service CPU at 85% for 5 minutes"},
	{"2026-02-16T11:00:00Z", "clickhouse", "escalated", "ClickHouse database connection failed (3 attempts)"},
	{"2026-02-16T12:00:00Z", "-", "rejected", "rejected input: {"},
}

func TestTableAlignsColumnsWithoutColour(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, historyRows, TableOptions{NoColor: true}); err != nil {
		t.Fatal(err)
	}
	want := `RECEIVED              SERVICE     OUTCOME    ALERT
2026-02-16T10:00:00Z  backend     resolved   Backend service CPU at 85% for 5 minutes
2026-02-16T11:00:00Z  clickhouse  escalated  ClickHouse database connection failed (3 attempts)
2026-02-16T12:00:00Z  -           rejected   rejected input: {
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestTableCutsTheLastColumnToTheWidth(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, historyRows, TableOptions{NoColor: true, Width: 80}); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if w := lipgloss.Width(l); w > 80 {
			t.Errorf("line is %d wide: %q", w, l)
		}
	}
	if !strings.Contains(b.String(), "ClickHouse database connection fai…") {
		t.Errorf("the long alert is not cut with an ellipsis:\n%s", b.String())
	}
}

func TestTableMovesWhatDoesNotFitUnderItsRow(t *testing.T) {
	rows := [][]string{
		{"AT", "WORKLOAD", "FROM", "TO", "RULE", "ENV", "REASON"},
		{"2026-02-16T10:00:00Z", "ai-data-labs/clickhouse", "2", "3", "scale_out.error_rate", "simulated", "restore capacity after the OOM loop"},
	}
	var b bytes.Buffer
	if err := WriteTable(&b, rows, TableOptions{NoColor: true, Width: 80}); err != nil {
		t.Fatal(err)
	}
	want := `AT                    WORKLOAD                 FROM  TO  RULE
    ENV · REASON
2026-02-16T10:00:00Z  ai-data-labs/clickhouse  2     3   scale_out.error_rate
    simulated · restore capacity after the OOM loop
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteTable(&b, rows, TableOptions{NoColor: true, Width: 30}); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if w := lipgloss.Width(l); w > 30 && !strings.HasPrefix(l, "2026") && !strings.HasPrefix(l, "AT") {
			t.Errorf("continuation line is %d wide: %q", w, l)
		}
	}
}

func TestTableColoursStatusWords(t *testing.T) {
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(termenv.ANSI)
	got := renderTable(historyRows, TableOptions{}, newStyles(r))
	for _, want := range []string{"\x1b[32mresolved", "\x1b[33mescalated", "\x1b[31mrejected", "\x1b[90m-"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%q", want, got)
		}
	}
	if !strings.Contains(got, "\x1b[1mRECEIVED") {
		t.Errorf("the header is not bold:\n%q", got)
	}
}

func TestTableToneFuncSeesTheRow(t *testing.T) {
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(termenv.ANSI)
	rows := [][]string{{"FROM", "TO"}, {"3", "4"}, {"4", "3"}}
	up := func(_, row []string, col int) Tone {
		if col == 1 && row[1] > row[0] {
			return ToneWarn
		}
		return ToneNone
	}
	got := renderTable(rows, TableOptions{Tone: up}, newStyles(r))
	if !strings.Contains(got, "\x1b[33m4") || strings.Contains(got, "\x1b[33m3") {
		t.Errorf("only the scale up should be toned:\n%q", got)
	}
}

func TestStatusTone(t *testing.T) {
	tests := map[string]Tone{"resolved": ToneGood, "no_action": ToneGood, "escalated": ToneWarn, "open": ToneWarn,
		"failed": ToneBad, "rejected": ToneBad, "-": ToneDim, "backend": ToneNone}
	for cell, want := range tests {
		if got := StatusTone(cell); got != want {
			t.Errorf("StatusTone(%q) = %v, want %v", cell, got, want)
		}
	}
}
