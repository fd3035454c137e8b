//go:build integration

package prom

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testEnv reads .testenv/env.d/<component>.env (written by
// scripts/testenv/<component>.sh up) and skips the test when it is absent.
func testEnv(t *testing.T, component string) map[string]string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("project root (go.mod) not found")
		}
		dir = parent
	}
	path := filepath.Join(dir, ".testenv", "env.d", component+".env")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%s is not running (no %s): run scripts/testenv/%s.sh up, or make testenv-up", component, path, component)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env
}
