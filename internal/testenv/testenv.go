// Package testenv gives integration tests the connection settings of the
// local real servers that scripts/testenv/<component>.sh starts: each writes
// KEY=VALUE lines to .testenv/env.d/<component>.env in the project root.
package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Load reads the settings of one component and skips the test, naming the
// script to run, when the component is not up.
func Load(t testing.TB, component string) map[string]string {
	t.Helper()
	env, err := Read(component)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%v: run scripts/testenv/%s.sh up, or make testenv-up", err, component)
	}
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// Read reads the settings of one component; an error matching
// os.ErrNotExist means the component is not up.
func Read(component string) (map[string]string, error) {
	root, err := projectRoot()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(root, ".testenv", "env.d", component+".env")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s is not running (no %s): %w", component, path, err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return env, nil
}

// Root is the project root, the directory of go.mod.
func Root(t testing.TB) string {
	t.Helper()
	root, err := projectRoot()
	if err != nil {
		t.Fatal("project root (go.mod) not found above the working directory")
	}
	return root
}

// projectRoot walks up from the working directory to the directory of go.mod.
func projectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
