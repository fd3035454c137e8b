package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/planner"
	"github.com/duet-company/ops-skill/internal/policy"
)

// TestEveryProjectionFollowsTheOnePolicy changes the configuration and checks
// that the gate's policy, the rules planner's, the verification targets and
// the prompt's sentence all say the same thing.
func TestEveryProjectionFollowsTheOnePolicy(t *testing.T) {
	cfg := config.Defaults()
	cfg.AutoScaling.ScaleUpThreshold, cfg.AutoScaling.ScaleUpDuration = 70, 7*time.Minute
	cfg.AutoScaling.ErrorRateThreshold, cfg.AutoScaling.MaxReplicas = 4, 6
	cfg.Storage.RetentionDays = 30
	p := policy.FromConfig(cfg)
	if err := p.Scaling.Validate(); err != nil {
		t.Fatalf("the default-derived scaling policy is invalid: %v", err)
	}
	rules := planner.PolicyFrom(p)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"gate up threshold", p.Scaling.Up.Threshold, 70},
		{"planner up threshold", rules.ScaleUpThreshold, 70},
		{"verification CPU target", p.Targets.CPUPct, 70},
		{"planner up window (min)", rules.UpWindow.Minutes(), 7},
		{"planner out threshold", rules.ErrorRateThreshold, 4},
		{"verification error target", p.Targets.ErrorRatePct, 4},
		{"planner max replicas", float64(rules.MaxReplicas), 6},
		{"planner retention days", float64(rules.RetentionDays), 30},
		{"planner disk target", rules.DiskTargetPct, p.Targets.DiskPct},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	s := p.Sentence()
	for _, want := range []string{"CPU>70% for 7m", "errors>4%", "replicas 2-6", "older than 30d"} {
		if !strings.Contains(s, want) {
			t.Errorf("sentence %q lacks %q", s, want)
		}
	}
}
