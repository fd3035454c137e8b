package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/cli"
)

func TestAnAllResolvedPayloadEndsWithANoActionSummaryInJSON(t *testing.T) {
	payload, err := os.ReadFile(filepath.Join("..", "..", "testdata", "alerts", "am-resolved-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.stdin = string(payload)
	if code := h.run("-o", "json", "-"); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, h.errOut.String())
	}
	events := decodeLines(t, h.out.Bytes())
	if len(events) != 1 {
		t.Fatalf("%d lines, want the summary alone:\n%s", len(events), h.out.String())
	}
	s := events[0]
	c := incidentCase{resolution: "no_action"}
	c.checkSummary(t, s)
	if s["alert"] != "Backend service CPU at 85% for 5 minutes" || !strings.HasPrefix(s["headline"].(string), "Nothing to do: no firing alert") {
		t.Errorf("summary = %v", s)
	}
	if id, _ := s["alertId"].(float64); id != 1 {
		t.Errorf("alertId = %v, want the history record 1", s["alertId"])
	}
	if h.errOut.Len() != 0 {
		t.Errorf("stderr = %q, want nothing beside the JSON", h.errOut.String())
	}

	h.stdin = string(payload)
	if code := h.run("-"); code != cli.ExitOK || h.out.Len() != 0 || !strings.HasPrefix(h.errOut.String(), "nothing to do: no firing alert") {
		t.Errorf("text mode: exit %d, stdout %q, stderr %q", code, h.out.String(), h.errOut.String())
	}
}
