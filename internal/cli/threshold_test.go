package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/store"
)

// thresholdRoot runs ops-skill with the real config loader and history in
// stateDir.
func thresholdRoot(t *testing.T, stateDir string, args ...string) (string, error) {
	t.Helper()
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"HOME": t.TempDir(), "OPS_SKILL_STATE_DIR": stateDir, "USER": "test"}[k]
		return v, ok
	}
	var out, errOut bytes.Buffer
	f := forbidden(t, &out, &errOut)
	f.Env = env
	f.LoadConfig = func(file string, flags *pflag.FlagSet) (config.Config, error) {
		return config.Load(config.LoadOptions{ConfigFile: file, Env: env, Flags: flags})
	}
	f.OpenStore = func(ctx context.Context, cfg config.Config) (*store.Store, error) {
		return store.Open(ctx, filepath.Join(cfg.StateDir, "history.db"), testingclock.NewFakeClock(now))
	}
	root := NewRoot(f, BuildInfo{Version: "test"})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func readOrAbsent(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "(absent)"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAnUpdateThatBreaksThePolicyIsRefusedAndNothingIsSaved(t *testing.T) {
	tests := []struct {
		assignment string
		want       []string // in the message: key, value, rule, example
	}{
		{"scale_up.duration=1ns", []string{"auto_scaling.scale_up_duration", "1ns", "at least the metrics sample step (15s)", "e.g. 5m"}},
		{"scale_up.duration=10s", []string{"auto_scaling.scale_up_duration", "10s", "at least the metrics sample step (15s)", "e.g. 5m"}},
		{"scale_down.duration=0s", []string{"auto_scaling.scale_down_duration", "must be a positive duration", "e.g. 15m"}},
		{"scale_out.step=11", []string{"auto_scaling.error_rate_step", "11", "must not be above max_replicas (10)", "e.g. 2"}},
		{"self_healing.replacement_threshold=3", []string{"self_healing.replacement_threshold", "3", "must be above restart_threshold (3)"}},
		{"scale_down.cpu=90", []string{"auto_scaling.scale_down_threshold", "90", "must be below scale_up_threshold"}},
	}
	for _, earlier := range []string{"", "scale_up.cpu=85"} {
		for _, tt := range tests {
			t.Run(tt.assignment+" after "+earlier, func(t *testing.T) {
				dir := t.TempDir()
				if earlier != "" {
					if _, err := thresholdRoot(t, dir, "--update-threshold", earlier); err != nil {
						t.Fatal(err)
					}
				}
				file := config.OverridesFile(dir)
				before := readOrAbsent(t, file)
				_, err := thresholdRoot(t, dir, "--update-threshold", tt.assignment)
				if !usageCode(err) || !errors.Is(err, config.ErrInvalid) {
					t.Fatalf("err = %v, want a usage error matching config.ErrInvalid", err)
				}
				for _, w := range append(tt.want, "--update-threshold") {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%q does not say %q", err, w)
					}
				}
				if after := readOrAbsent(t, file); after != before {
					t.Errorf("thresholds file changed:\n%s\nwas:\n%s", after, before)
				}
			})
		}
	}
}

func TestAnUpdateCanRepairAnInvalidSavedPolicy(t *testing.T) {
	dir := t.TempDir()
	file := config.OverridesFile(dir)
	if err := os.WriteFile(file, []byte("operations:\n  auto_scaling:\n    scale_up_duration: 1ns\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := thresholdRoot(t, dir, "--update-threshold", "scale_up.cpu=85")
	if !usageCode(err) || !strings.Contains(err.Error(), "auto_scaling.scale_up_duration") {
		t.Fatalf("an update that leaves the policy broken: err = %v, want the broken key named", err)
	}
	out, err := thresholdRoot(t, dir, "--update-threshold", "scale_up.duration=5m")
	if err != nil || !strings.Contains(out, "scale_up_duration: 5m") {
		t.Fatalf("repair: err = %v, stdout:\n%s", err, out)
	}
	if got := readOrAbsent(t, file); !strings.Contains(got, "scale_up_duration: 5m") {
		t.Errorf("thresholds file:\n%s", got)
	}
}

func TestConfigShowSaysWhereEachValueCameFrom(t *testing.T) {
	dir := t.TempDir()
	if _, err := thresholdRoot(t, dir, "--update-threshold", "scale_up.cpu=85"); err != nil {
		t.Fatal(err)
	}
	out, err := thresholdRoot(t, dir, "-n", "shop", "config", "show")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"namespace: shop # flag --namespace", "scale_up_threshold: 85 # override", "state_dir: " + dir + " # env OPS_SKILL_STATE_DIR",
		"# overrides: " + config.OverridesFile(dir), "# config file: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("config show does not say %q:\n%s", want, out)
		}
	}
	out, err = thresholdRoot(t, dir, "config", "show", "-o", "json")
	if err != nil || !strings.Contains(out, `"kubernetes.namespace": "default"`) || !strings.Contains(out, `"auto_scaling.scale_up_threshold": "override"`) ||
		!strings.Contains(out, `"role": "overrides"`) {
		t.Errorf("config show -o json: %v\n%s", err, out)
	}
}
