//go:build integration

package cli

import (
	"testing"

	"github.com/duet-company/ops-skill/internal/store/pgtest"
)

// fleetLocation is the store of the fleet tests: with the integration tag, a
// new schema of the test stack's PostgreSQL (pgtest.URL), as replicas and
// clusters share it.
func fleetLocation(t testing.TB, _ string) string {
	t.Helper()
	return pgtest.URL(t)
}
