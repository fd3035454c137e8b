package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

var now = time.Date(2026, 2, 16, 10, 0, 0, 0, time.UTC)

func TestParseSince(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"24h", now.Add(-24 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"1h30m", now.Add(-90 * time.Minute)},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSinceRejectsWhatIsNotADuration(t *testing.T) {
	for _, in := range []string{"yesterday", "0d", "-1d", "-5m", "0s", "3651d", "7 d", "d"} {
		_, err := parseSince(in, now)
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != ExitUsage {
			t.Errorf("parseSince(%q): err = %v, want a usage error", in, err)
			continue
		}
		if !strings.Contains(err.Error(), "--since") {
			t.Errorf("parseSince(%q): message %q does not name the flag", in, err)
		}
	}
}

func TestExitCodeOfEachResolution(t *testing.T) {
	tests := map[agent.Resolution]int{
		agent.Resolved: ExitOK, agent.NoAction: ExitOK, agent.Unresolved: ExitUnresolved,
		agent.Escalated: ExitUnresolved, agent.Failed: ExitFailed, "something new": ExitFailed,
	}
	for r, want := range tests {
		if got := exitCode(r); got != want {
			t.Errorf("exitCode(%q) = %d, want %d", r, got, want)
		}
	}
}

func TestWorseCodeKeepsTheMostSevere(t *testing.T) {
	tests := []struct{ a, b, want int }{
		{ExitOK, ExitOK, ExitOK},
		{ExitOK, ExitUnresolved, ExitUnresolved},
		{ExitUnresolved, ExitOK, ExitUnresolved},
		{ExitUnresolved, ExitFailed, ExitFailed},
		{ExitFailed, ExitUnresolved, ExitFailed},
		{ExitFailed, ExitUsage, ExitUsage},
	}
	for _, tt := range tests {
		if got := worseCode(tt.a, tt.b); got != tt.want {
			t.Errorf("worseCode(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestExitErrorUnwraps(t *testing.T) {
	cause := errors.New("cause")
	err := error(&ExitError{Code: ExitUsage, Err: cause})
	if !errors.Is(err, cause) || err.Error() != "cause" {
		t.Errorf("ExitError hides its cause: %v", err)
	}
	if s := silent(ExitUnresolved).Error(); s != "exit 3" {
		t.Errorf("silent error = %q", s)
	}
}

func TestOneLineKeepsTableCellsOnOneLine(t *testing.T) {
	got := oneLine("{\n  \"version\":\t\"4\"\n}", 80)
	if got != `{ "version": "4" }` {
		t.Errorf("oneLine = %q", got)
	}
	if got := oneLine(strings.Repeat("x", 100), 10); got != "xxxxxxxxxx…" {
		t.Errorf("oneLine clips to %q", got)
	}
}

func TestTableIsTabSeparatedWhenNotATerminal(t *testing.T) {
	var out, errOut bytes.Buffer
	o := &rootOptions{f: &Factory{IO: Test(nil, &out, &errOut)}}
	if err := o.table([][]string{{"A", "B"}, {"1", "two words"}}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "A\tB\n1\ttwo words\n" {
		t.Errorf("table = %q", out.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr = %q", errOut.String())
	}
}

func TestTableAlignsOnATerminalAndSaysWhenEmpty(t *testing.T) {
	var out, errOut bytes.Buffer
	streams := Test(nil, &out, &errOut)
	streams.OutTTY = true
	o := &rootOptions{f: &Factory{IO: streams}}
	if err := o.table([][]string{{"AT", "KEY"}}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "AT  KEY\n" {
		t.Errorf("table = %q", out.String())
	}
	if errOut.String() != "no entries\n" {
		t.Errorf("stderr = %q", errOut.String())
	}
}

func TestReadInputRefusesTwoAlerts(t *testing.T) {
	o := &rootOptions{f: &Factory{IO: Test(strings.NewReader(""), nil, nil)}, alertFile: "am.json"}
	_, err := o.readInput([]string{"Backend CPU at 85%"})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage {
		t.Errorf("err = %v, want a usage error", err)
	}
}

func TestReadInputJoinsArguments(t *testing.T) {
	o := &rootOptions{f: &Factory{IO: Test(strings.NewReader(""), nil, nil)}}
	in, err := o.readInput([]string{"Backend", "CPU at 85%"})
	if err != nil || string(in.raw) != "Backend CPU at 85%" || in.source != "argument" {
		t.Errorf("readInput = %+v, %v", in, err)
	}
}

func TestMatchTextOfAPayloadIsItsAlertsText(t *testing.T) {
	in := input{raw: []byte(`{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"DiskFull"},"annotations":{"summary":"Database disk usage at 85%"}}]}`)}
	got := in.matchText()
	if !strings.Contains(got, "DiskFull") || !strings.Contains(got, "Database disk usage at 85%") {
		t.Errorf("matchText = %q", got)
	}
	if got := (input{raw: []byte("{")}).matchText(); got != "" {
		t.Errorf("matchText of bad JSON = %q, want empty", got)
	}
}

func TestApproverWithoutATerminalIsNotInteractive(t *testing.T) {
	a := newTerminalApprover(Test(strings.NewReader("y\n"), nil, nil), platform.Where{})
	if a.Interactive() {
		t.Error("buffers count as a terminal")
	}
}

func TestApproverAcceptsOnlyYes(t *testing.T) {
	plan := tools.Plan{Summary: "scale ai-data-labs/backend from 3 to 4 replicas", Decision: guard.Decision{Verdict: "allow", Rule: "scale_up.cpu"}}
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, " yes \n": true, "n\n": false, "\n": false, "": false, "sure\n": false} {
		var errOut bytes.Buffer
		a := newTerminalApprover(Test(strings.NewReader(in), nil, &errOut), platform.Where{})
		got, err := a.Approve(context.Background(), plan)
		if err != nil || got != want {
			t.Errorf("answer %q: approve = %v, %v; want %v", in, got, err, want)
		}
		if !strings.Contains(errOut.String(), plan.Summary) || !strings.Contains(errOut.String(), "[y/N]") {
			t.Errorf("prompt = %q", errOut.String())
		}
	}
}

func TestApproverGivesUpWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, w := io.Pipe()
	defer w.Close()
	a := newTerminalApprover(Test(r, nil, &bytes.Buffer{}), platform.Where{})
	ok, err := a.Approve(ctx, tools.Plan{})
	if ok || !errors.Is(err, context.Canceled) {
		t.Errorf("approve = %v, %v; want a refusal with context.Canceled", ok, err)
	}
}
