package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestHealthRunsAMatrixOfRealChecks(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
		}
	}))
	defer up.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "worker pool exhausted", http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	matrix := fmt.Sprintf(`- {service: backend, type: http, target: "%s/health", timeout: 2s}
- {service: frontend, type: http, target: "%s/health", timeout: 2s}
- {service: postgresql, type: tcp, target: "%s", timeout: 2s}
- {service: redis, type: tcp, target: "%s", timeout: 2s}
`, up.URL, sick.URL, tcp.Addr(), closedPort(t))
	s := newSandbox(t)
	file := filepath.Join(s.home, "matrix.yaml")
	if err := os.WriteFile(file, []byte(matrix), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.must(3, "", "health", "--matrix", file)
	for _, want := range []string{"backend\thttp /health\tok", "frontend\thttp /health\tFAILING", "postgresql\ttcp", "redis\ttcp"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("health table lacks %q:\n%s", want, r.stdout)
		}
	}
	wantContains(t, "stderr", r.stderr, "2 of 4 health checks failing")

	healthy := fmt.Sprintf("- {service: backend, type: http, target: \"%s/health\"}\n", up.URL)
	if err := os.WriteFile(file, []byte(healthy), 0o600); err != nil {
		t.Fatal(err)
	}
	s.must(0, "", "health", "--matrix", file, "--output", "json")
	s.must(2, "", "health", "--matrix", filepath.Join(s.home, "missing.yaml"))
}

func TestHealthOnTheSimulatedPlatform(t *testing.T) {
	s := newSandbox(t)
	r := s.must(3, "", "health", "--simulate", "--scenario", "clickhouse-oom")
	wantContains(t, "stdout", r.stdout, "clickhouse\ttcp 8123\tFAILING", "backend\thttp /health\tok")
	s.must(0, "", "health", "--simulate")
}
