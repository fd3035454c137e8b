//go:build !integration

package cli

import "testing"

// fleetLocation is the store of the fleet tests: without the integration tag,
// the SQLite file sqlite.
func fleetLocation(_ testing.TB, sqlite string) string { return sqlite }
