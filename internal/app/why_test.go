package app

import (
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/cli"
)

// "why did you scale backend?" after a dozen actions: the answer used to be
// cut to the planner's budget and read as "The history could not be read:"
// with no reason.
func TestWhyAfterADozenActionsListsTheNewest(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 13; i++ {
		if code := h.run("--simulate", highCPUAlert); code != cli.ExitOK {
			t.Fatalf("incident %d: exit %d\n%s", i, code, h.errOut.String())
		}
		h.clock.Step(10 * time.Minute)
	}
	code := h.run("--simulate", "why did you scale backend?")
	out := h.out.String()
	if code != cli.ExitOK || strings.Contains(out, "could not be read") {
		t.Fatalf("exit %d:\n%s%s", code, out, h.errOut.String())
	}
	if n := strings.Count(out, "scale up ai-data-labs/backend from 3 to 4 replicas [executed, rule scale_up.cpu]"); n == 0 {
		t.Errorf("no scale listed:\n%s", out)
	}
	if !strings.Contains(out, "older, not shown") {
		t.Errorf("the answer does not say older actions are left out:\n%s", out)
	}
}
