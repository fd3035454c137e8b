package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/llm"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenStart is the date of the spec's incident INC-2026-02-16-001.
var goldenStart = time.Date(2026, 2, 16, 10, 0, 0, 0, time.UTC)

// harness runs ops-skill in process with buffers, a map environment and a fake clock.
type harness struct {
	t      *testing.T
	env    map[string]string
	clock  *testingclock.FakeClock
	stdin  string
	out    bytes.Buffer
	errOut bytes.Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{t: t, env: map[string]string{"OPS_SKILL_STATE_DIR": t.TempDir()}, clock: testingclock.NewFakeClock(goldenStart)}
}

func (h *harness) lookup(name string) (string, bool) {
	v, ok := h.env[name]
	return v, ok
}

// run executes one command line and returns its exit code; stdout and stderr
// stay in h.out and h.errOut until the next run.
func (h *harness) run(args ...string) int {
	h.t.Helper()
	h.out.Reset()
	h.errOut.Reset()
	d := deps{io: cli.Test(strings.NewReader(h.stdin), &h.out, &h.errOut), env: h.lookup, clock: h.clock, newLLM: h.noLLM}
	return Run(context.Background(), d, args)
}

func (h *harness) noLLM(config.LLM) (llm.Client, error) {
	h.t.Errorf("an LLM client was built although none is configured")
	return nil, errors.New("no LLM in this test")
}

func goldenPath(name string) string {
	return filepath.Join("..", "..", "testdata", "golden", name)
}

// checkGolden compares got with testdata/golden/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := goldenPath(name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/app -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended):\n%s", name, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first line where want and got differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(same lines, different bytes)"
}
