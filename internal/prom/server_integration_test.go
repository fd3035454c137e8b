//go:build integration

package prom

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// server is a Prometheus of a test's own, on loopback.
type server struct {
	URL  string
	cmd  *exec.Cmd
	Stop func()
}

// serverOpts configures startServer.
type serverOpts struct {
	// dataDir holds the TSDB (e.g. blocks made by promtool); empty: a new one.
	dataDir string
	// webConfig is the content of --web.config.file (auth, TLS); empty: none.
	webConfig string
	// scrapeConfig is appended to the config file; empty: scrape nothing.
	scrapeConfig string
}

// startServer starts Debian's Prometheus (PROMETHEUS_BIN) and waits until it
// is ready.
func startServer(t *testing.T, bin string, o serverOpts) *server {
	t.Helper()
	if bin == "" {
		t.Skip("PROMETHEUS_BIN missing from the prometheus env file")
	}
	dir := t.TempDir()
	if o.dataDir == "" {
		o.dataDir = filepath.Join(dir, "data")
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	write(t, cfg, "global:\n  scrape_interval: 1s\n"+o.scrapeConfig)
	port := freePort(t)
	args := []string{"--config.file=" + cfg, "--storage.tsdb.path=" + o.dataDir, "--storage.tsdb.retention.time=100y",
		"--web.listen-address=127.0.0.1:" + port, "--log.level=error"}
	if o.webConfig != "" {
		web := filepath.Join(dir, "web.yml")
		write(t, web, o.webConfig)
		args = append(args, "--web.config.file="+web)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{URL: "http://127.0.0.1:" + port, cmd: cmd}
	s.Stop = func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	t.Cleanup(s.Stop)
	waitFor(t, 30*time.Second, "prometheus ready on "+s.URL, func() bool {
		resp, err := http.Get(s.URL + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized
	})
	return s
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// waitFor polls cond every 100ms until it holds or the deadline passes (a
// real server needs real time to come up or scrape).
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(limit, cond) {
		t.Fatalf("timed out after %s waiting for %s", limit, what)
	}
}

// poll reports whether cond held within limit, trying every 100ms.
func poll(limit time.Duration, cond func() bool) bool {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// backfill writes OpenMetrics text and turns it into TSDB blocks with
// promtool, returning the data directory.
func backfill(t *testing.T, promtool, openMetrics string) string {
	t.Helper()
	if promtool == "" {
		t.Skip("PROMTOOL_BIN missing from the prometheus env file")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "history.om")
	write(t, src, openMetrics)
	data := filepath.Join(dir, "data")
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", src, data).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "BLOCK ULID") && len(out) > 0 {
		t.Logf("promtool: %s", out)
	}
	return data
}
