package agent_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/tools"
)

// The spec's ClickHouse incident on the simulated platform, as on a real
// cluster: the memory raise of the crash-looping StatefulSet recycles its
// two not-ready pods (the controller would wait for them), and the run's
// summary and headline say which.
func TestMemoryRaiseSummaryNamesTheRecycledPods(t *testing.T) {
	h := newHarness(t, setup{scenario: "clickhouse-oom"})
	sum := h.run()
	var recycled []string
	for _, a := range sum.Actions {
		if a.Tool == tools.UpdateResources {
			recycled = a.Recycled
		}
	}
	want := []string{"clickhouse-0", "clickhouse-1"}
	if !slices.Equal(recycled, want) {
		t.Errorf("updateResources recycled %q, want %q (actions %+v)", recycled, want, sum.Actions)
	}
	if !strings.Contains(sum.Headline, "recycled its not-ready pods clickhouse-0, clickhouse-1") {
		t.Errorf("headline %q does not name the recycled pods", sum.Headline)
	}
	if s := h.after().Services["clickhouse"]; !s.Healthy || s.CrashLooping != 0 {
		t.Errorf("clickhouse after the run: %+v", s)
	}
}
