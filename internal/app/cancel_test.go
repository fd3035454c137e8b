package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/ui/tui"
)

// cancellingWriter is standard output that cancels the run when a piece of
// text has been written: Ctrl-C at a point of the run, by event order.
type cancellingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	when   string
	cancel context.CancelFunc
}

func (w *cancellingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.when) {
		w.cancel()
	}
	return n, err
}

// runCancelled runs args and cancels when stdout shows when.
func (h *harness) runCancelled(when string, args ...string) (code int, out string) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.errOut.Reset()
	w := &cancellingWriter{when: when, cancel: cancel}
	d := deps{io: cli.Test(strings.NewReader(""), w, &h.errOut), env: h.lookup, clock: h.clock, newLLM: h.noLLM}
	code = Run(ctx, d, args)
	return code, w.buf.String()
}

func TestCtrlCAfterTheScaleEnds130WithWhatWasDone(t *testing.T) {
	h := newHarness(t)
	code, out := h.runCancelled("Done: scale ai-data-labs/backend", highCPUAlert)
	if code != cli.ExitCancelled {
		t.Errorf("exit %d, want %d; stderr %q", code, cli.ExitCancelled, h.errOut.String())
	}
	for _, want := range []string{
		"3. Action:\n   - Done: scale ai-data-labs/backend from 3 to 4 replicas (guard: allowed)\n",
		"Resolution: Scaled ai-data-labs/backend from 3 to 4 replicas; cancelled before verification\n",
		"Outcome: cancelled\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Verification") || strings.Contains(out, "fell back") {
		t.Errorf("a cancelled run verified or fell back:\n%s", out)
	}
	if got := h.errOut.String(); got != "ops-skill: cancelled\n" {
		t.Errorf("stderr = %q", got)
	}
}

func TestCtrlCWithJSONStillEndsWithTheSummary(t *testing.T) {
	h := newHarness(t)
	code, out := h.runCancelled(`"tool":"scaleDeployment","target"`, "-o", "json", highCPUAlert)
	if code != cli.ExitCancelled {
		t.Errorf("exit %d, want %d", code, cli.ExitCancelled)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var s struct {
		Type       string `json:"type"`
		Resolution string `json:"resolution"`
		Actions    []struct {
			Tool string `json:"tool"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatal(err)
	}
	if s.Type != "summary" || s.Resolution != "cancelled" || len(s.Actions) != 1 || s.Actions[0].Tool != "scaleDeployment" {
		t.Errorf("last line = %s", lines[len(lines)-1])
	}
}

func TestEveryCancellationExits130(t *testing.T) {
	d := deps{io: cli.Test(nil, &bytes.Buffer{}, &bytes.Buffer{})}
	for _, err := range []error{
		context.Canceled,
		tui.ErrCancelled,
		fmt.Errorf("run: %w", context.Canceled),
		&cli.ExitError{Code: cli.ExitFailed, Err: tui.ErrCancelled},
	} {
		if code := exitCode(d, err); code != cli.ExitCancelled {
			t.Errorf("exitCode(%v) = %d, want %d", err, code, cli.ExitCancelled)
		}
	}
	if code := exitCode(d, errors.New("boom")); code != cli.ExitFailed {
		t.Errorf("an ordinary error exits %d", code)
	}
}
