package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/ui/tui"
)

func TestWhatGoesToStandardOutputBesideTheView(t *testing.T) {
	summary := agent.Summary{Alert: "Backend CPU", Resolution: agent.Resolved, Headline: "Scaled", Planner: "rules", Mode: "auto"}
	tests := []struct {
		name        string
		output      string
		outTTY      bool
		beforeFlush string // written while the view runs
		after       string // written by the end
	}{
		{"json to a pipe streams", "json", false, `{"type":"summary"`, `{"type":"summary"`},
		{"json to the terminal waits for the view to end", "json", true, "", `{"type":"summary"`},
		{"text to a pipe is the plain transcript", "text", false, "Resolution: Scaled", "Resolution: Scaled"},
		{"text on the terminal is the view alone", "text", true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			streams := Test(nil, &out, &bytes.Buffer{})
			streams.OutTTY, streams.ErrTTY = tt.outTTY, true
			o := &rootOptions{f: &Factory{IO: streams}, output: tt.output}
			sink, flush := o.sideSink(&Runtime{Platform: "Planner: rules"})
			sink.Emit(agent.RunStarted{})
			sink.Emit(summary)
			if got := out.String(); !contains(got, tt.beforeFlush) {
				t.Errorf("before the view ended: %q, want %q", got, tt.beforeFlush)
			}
			if err := flush(); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); !contains(got, tt.after) || (tt.after == "" && got != "") {
				t.Errorf("at the end: %q, want %q", got, tt.after)
			}
			if n := strings.Count(out.String(), `"type":"summary"`); n > 1 {
				t.Errorf("the summary was written %d times", n)
			}
		})
	}
}

func TestAWaitOnAClusterIsAnnouncedOnStandardErrorUnlessTheViewShowsIt(t *testing.T) {
	until := time.Date(2026, 2, 16, 10, 42, 10, 0, time.UTC)
	wait := agent.Waiting{At: until.Add(-2 * time.Minute), Until: until, Reason: "the scale of shop/backend"}
	for _, view := range []bool{false, true} {
		var out, errOut bytes.Buffer
		streams := Test(nil, &out, &errOut)
		streams.ErrTTY = view
		o := &rootOptions{f: &Factory{IO: streams}, output: "text"}
		sink, _ := o.sink(&Runtime{})
		if view {
			sink, _ = o.sideSink(&Runtime{})
		}
		sink.Emit(agent.RunStarted{})
		sink.Emit(wait)
		want := "waiting for the scale of shop/backend to settle, verifying at 10:42:10\n"
		if view {
			want = "" // the view shows it in its phase line
		}
		if errOut.String() != want || strings.Contains(out.String(), "waiting") {
			t.Errorf("view %v: stderr %q, stdout %q; want stderr %q", view, errOut.String(), out.String(), want)
		}
	}
}

func contains(got, want string) bool {
	if want == "" {
		return got == ""
	}
	return strings.Contains(got, want)
}

func TestScaleTableColoursTheDirection(t *testing.T) {
	header := []string{"AT", "WORKLOAD", "FROM", "TO", "RULE"}
	tests := []struct {
		row  []string
		col  int
		want tui.Tone
	}{
		{[]string{"t", "ai-data-labs/backend", "3", "4", "scale_up.cpu"}, 3, tui.ToneWarn},
		{[]string{"t", "ai-data-labs/backend", "4", "3", "scale_down.cpu"}, 3, tui.ToneGood},
		{[]string{"t", "ai-data-labs/backend", "3", "3", "-"}, 3, tui.ToneNone},
		{[]string{"t", "ai-data-labs/backend", "3", "4", "-"}, 4, tui.ToneDim},
	}
	for _, tt := range tests {
		if got := scaleTone(header, tt.row, tt.col); got != tt.want {
			t.Errorf("scaleTone(%v, %d) = %v, want %v", tt.row, tt.col, got, tt.want)
		}
	}
}

func TestTerminalTableFitsTheTerminal(t *testing.T) {
	var out bytes.Buffer
	streams := Test(nil, &out, &bytes.Buffer{})
	streams.OutTTY, streams.OutWidth = true, func() int { return 40 }
	o := &rootOptions{f: &Factory{IO: streams}}
	rows := [][]string{{"RECEIVED", "OUTCOME", "ALERT"}, {"2026-02-16T10:00:00Z", "resolved", "Backend service CPU at 85% for 5 minutes"}}
	if err := o.table(rows); err != nil {
		t.Fatal(err)
	}
	want := "RECEIVED              OUTCOME\n    ALERT\n2026-02-16T10:00:00Z  resolved\n    Backend service CPU at 85% for 5 mi…\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}
