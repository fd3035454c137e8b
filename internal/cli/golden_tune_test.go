package cli

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under internal/cli/testdata")

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestTuneAndReplayReportsMatchTheirGoldenFiles(t *testing.T) {
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"tune.txt", []string{"tune", "--since", "30d"}},
		{"replay-scale-up-cpu-99.txt", []string{"replay", "--since", "30d", "--set", "scale_up.cpu=99"}},
		{"scale-history-chart.txt", []string{"--scale-history", "--since", "30d", "--service", "backend", "--limit", "4", "--chart"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			f, out := plantedFactory(t)
			if err := runRoot(f, c.args...); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.golden, out.String())
		})
	}
}
