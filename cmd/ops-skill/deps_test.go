package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The binary links no test code (ARCHITECTURE.md, convention 11): neither
// package testing nor net/http/httptest is among its dependencies.
func TestBinaryLinksNoTestPackages(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to list the dependencies with")
		}
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := map[string]bool{"testing": true, "net/http/httptest": true}
	for _, pkg := range strings.Fields(string(out)) {
		if forbidden[pkg] || strings.HasSuffix(pkg, "test") && strings.Contains(pkg, "/ops-skill/") {
			t.Errorf("the binary links %s", pkg)
		}
	}
}
