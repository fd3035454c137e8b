//go:build integration

package store

import (
	"testing"

	"github.com/duet-company/ops-skill/internal/store/pgtest"
)

// newLocation is where a test's new database lives. With the integration tag
// the store tests run on the test stack's PostgreSQL, each in a schema of its
// own (pgtest.URL); the tests of SQLite's own behaviour open SQLite files
// directly and still run.
func newLocation(t testing.TB, _ string) string {
	t.Helper()
	return pgtest.URL(t)
}
