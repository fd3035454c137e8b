package alert

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeListsEveryKnownAlert keeps the README's section "Alerts ops-skill
// knows" and the table in step: every alert of the table is listed under its family, and the
// section names no alert the table does not know.
func TestReadmeListsEveryKnownAlert(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Alerts ops-skill knows\n")
	if !ok {
		t.Fatal("README.md has no section \"Alerts ops-skill knows\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	listed := map[string]Family{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| ") || len(cells) < 4 {
			continue
		}
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[1], -1) {
			listed[m[1]] = Family(strings.TrimPrefix(cells[0], "| "))
		}
	}
	for _, r := range Rules() {
		if f, ok := listed[r.Alertname]; !ok || f != r.Family {
			t.Errorf("%s (%s) is not in the README's table under its family (found %q)", r.Alertname, r.Family, f)
		}
		delete(listed, r.Alertname)
	}
	for name := range listed {
		t.Errorf("the README lists %s, which the table does not know", name)
	}
}
