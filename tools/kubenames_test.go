package tools_test

import (
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/tools"
)

// Names are checked with apimachinery's rules: a namespace is a DNS-1123
// label, a workload a DNS-1123 subdomain (dots allowed, 253 characters).
func TestWorkloadNamesFollowKubernetesRules(t *testing.T) {
	cases := []struct {
		ns, name string
		ok       bool
	}{
		{"ai-data-labs", "backend", true},
		{"shop", "api.v2", true},
		{"shop", strings.Repeat("a", 253), true},
		{"shop", strings.Repeat("a", 254), false},
		{"shop.prod", "backend", false},
		{strings.Repeat("n", 64), "backend", false},
		{"shop", "Backend", false},
		{"shop", "back_end", false},
		{"shop", "-backend", false},
	}
	for _, c := range cases {
		err := tools.WorkloadArgs{Namespace: c.ns, Name: c.name}.Validate()
		if (err == nil) != c.ok {
			t.Errorf("%q/%q: err = %v, want ok=%v", c.ns, c.name, err, c.ok)
		}
	}
}
