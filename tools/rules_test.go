package tools_test

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/duet-company/ops-skill/internal/guard"
)

// emitted collects the rule of every outcome the tests see through env.call,
// so TestMain can check each one is in the guard's catalogue.
var emitted sync.Map

func emit(rule string) {
	if rule != "" {
		emitted.Store(rule, true)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if bad := uncatalogued(); len(bad) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: the tools emitted rules that are not in guard.Rules(): %v\n", bad)
			code = 1
		}
	}
	os.Exit(code)
}

func uncatalogued() []string {
	known := guard.Rules()
	var bad []string
	emitted.Range(func(k, _ any) bool {
		if !slices.Contains(known, k.(string)) {
			bad = append(bad, k.(string))
		}
		return true
	})
	sort.Strings(bad)
	return bad
}
