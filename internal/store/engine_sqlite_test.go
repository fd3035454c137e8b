//go:build !integration

package store

import "testing"

// newLocation is where a test's new database lives. Without the integration
// tag every test runs on SQLite: the location is sqlite, a file path or
// MemoryPath.
func newLocation(_ testing.TB, sqlite string) string { return sqlite }
