package tools_test

import (
	"reflect"
	"testing"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/policy"
)

// TestTestPolicyIsTheDefaultPolicy keeps the tools tests' literal policy equal
// to the one the product builds from the configuration defaults.
func TestTestPolicyIsTheDefaultPolicy(t *testing.T) {
	cfg := config.Defaults()
	cfg.Kubernetes.AllowedNamespaces = []string{ns}
	want := policy.FromConfig(cfg)
	got := testPolicy()
	got.Targets = want.Targets // the tools do not verify
	if !reflect.DeepEqual(got, want) {
		t.Errorf("testPolicy() has drifted from policy.FromConfig(defaults):\n got %+v\nwant %+v", got, want)
	}
}
