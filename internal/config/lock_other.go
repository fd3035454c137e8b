//go:build !unix

package config

// lockFile is a no-op where advisory file locks are unavailable; the atomic
// rename still keeps the overrides file whole.
func lockFile(string) (func(), error) { return func() {}, nil }
