package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/tools"
)

// guardPolicyError is what the guard says of the policy built from cfg.
func guardPolicyError(cfg config.Config) error {
	p := policy.FromConfig(cfg)
	return errors.Join(p.Scaling.Validate(), p.Healing.Validate(), p.Partitions.Validate(), p.Alerting.Validate())
}

// TestWhatTheLoaderAcceptsTheGuardAccepts sets every key to values around
// every bound through the real loader (a config file): a value the loader
// accepts must not make the guard refuse the policy as invalid later, at every
// scale, restart or drop.
func TestWhatTheLoaderAcceptsTheGuardAccepts(t *testing.T) {
	step := tools.SampleStep
	values := []string{"-1", "0", "1", "2", "3", "4", "5", "9", "10", "11", "100", "1000",
		"0.5", "1ns", "1s", (step - 1).String(), step.String(), "1m", "5m", "true", "false"}
	if config.MinSustainedWindow != step {
		t.Errorf("config.MinSustainedWindow = %s, tools.SampleStep = %s: the loader and the guard disagree on the shortest window",
			config.MinSustainedWindow, step)
	}
	base := map[string]string{"HOME": t.TempDir(), "OPS_SKILL_STATE_DIR": t.TempDir()}
	env := func(k string) (string, bool) { v, ok := base[k]; return v, ok }
	dir := t.TempDir()
	for i, k := range config.Keys() {
		section, name, nested := strings.Cut(k.Key, ".")
		if !nested || k.Secret {
			continue
		}
		for j, v := range values {
			path := filepath.Join(dir, fmt.Sprintf("c-%d-%d.yaml", i, j))
			body := "operations:\n  " + section + ":\n    " + name + ": \"" + v + "\"\n"
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(config.LoadOptions{ConfigFile: path, Env: env})
			if err != nil {
				continue // refused when set: fine
			}
			if gerr := guardPolicyError(cfg); gerr != nil {
				t.Errorf("%s = %s: the loader accepts it, the guard refuses the policy: %v", k.Key, v, gerr)
			}
		}
	}
}
