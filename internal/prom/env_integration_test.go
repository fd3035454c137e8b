//go:build integration

package prom

import (
	"testing"

	"github.com/duet-company/ops-skill/internal/testenv"
)

// testEnv reads .testenv/env.d/<component>.env (written by
// scripts/testenv/<component>.sh up) and skips the test when it is absent.
func testEnv(t *testing.T, component string) map[string]string {
	t.Helper()
	return testenv.Load(t, component)
}
