//go:build integration

package health

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

// proc is a server process a test starts and stops.
type proc struct {
	t    *testing.T
	args []string
	cmd  *exec.Cmd
}

func (p *proc) start(ready func() bool) {
	p.t.Helper()
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(p.stop)
	if !poll(30*time.Second, ready) {
		p.t.Fatalf("%s did not come up", filepath.Base(p.args[0]))
	}
}

func (p *proc) stop() {
	if p.cmd != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
	}
}

// poll reports whether cond held within limit (real servers take real time
// to start), trying every 50ms.
func poll(limit time.Duration, cond func() bool) bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(limit); !cond(); <-tick.C {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

func dialable(addr string) func() bool {
	return func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
}

// redisServer is a redis-server of the test's own on a fixed port, so it can
// come back at the same address.
func redisServer(t *testing.T) (*proc, string) {
	env := testEnv(t, "redis")
	port := freePort(t)
	p := &proc{t: t, args: []string{env["REDIS_SERVER_BIN"], "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", t.TempDir()}}
	addr := "127.0.0.1:" + port
	p.start(dialable(addr))
	return p, addr
}

// clickhouseServer is a chdbfront of the test's own on a fixed port.
func clickhouseServer(t *testing.T) (*proc, string) {
	env := testEnv(t, "clickhouse")
	port := freePort(t)
	p := &proc{t: t, args: []string{env["CHDB_FRONT_BIN"], "-listen", "127.0.0.1:" + port, "-path", filepath.Join(t.TempDir(), "data")}}
	addr := "127.0.0.1:" + port
	p.start(func() bool {
		resp, err := http.Get("http://" + addr + "/ping")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	return p, addr
}

func results(rs []platform.HealthResult) map[string]platform.HealthResult {
	out := map[string]platform.HealthResult{}
	for _, r := range rs {
		out[r.Service] = r
	}
	return out
}

func TestChecksGoRedAndGreenAsRealServersStopAndStart(t *testing.T) {
	redis, redisAddr := redisServer(t)
	ch, chAddr := clickhouseServer(t)
	clk := clocktesting.NewFakeClock(time.Now())
	c, err := New(Matrix{
		{Service: "redis", Type: Redis, Target: redisAddr},
		{Service: "redis", Type: TCP, Target: redisAddr},
		{Service: "clickhouse", Type: TCP, Target: chAddr},
		{Service: "clickhouse", Type: HTTP, Target: "http://" + chAddr + "/ping"},
	}.WithDefaults(30*time.Second), clk)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	round := func(step time.Duration) map[string]platform.HealthResult {
		clk.Step(step)
		return results(c.RunOnce(ctx))
	}
	expect := func(phase string, got map[string]platform.HealthResult, ok bool, fails int, detail string) {
		t.Helper()
		for _, s := range []string{"redis", "clickhouse"} {
			r := got[s]
			if r.OK != ok || r.ConsecutiveFailures != fails || !strings.Contains(r.Detail, detail) {
				t.Fatalf("%s: %s = ok %v, %d failures, %q; want ok %v, %d failures, detail %q", phase, s, r.OK, r.ConsecutiveFailures, r.Detail, ok, fails, detail)
			}
		}
	}
	expect("running", round(0), true, 0, "")
	redis.stop()
	ch.stop()
	expect("stopped", round(30*time.Second), false, 1, "connection refused")
	expect("still stopped", round(30*time.Second), false, 2, "connection refused")
	expect("still stopped", round(30*time.Second), false, 3, "connection refused")
	redis.start(dialable(redisAddr))
	ch.start(dialable(chAddr))
	expect("restarted", round(30*time.Second), true, 0, "")
}

// TestRunOnceOverTheFullMatrix runs the spec's matrix against the real
// servers of the test environment (backend and frontend are HTTP servers of
// the test) and reports how long one round takes.
func TestRunOnceOverTheFullMatrix(t *testing.T) {
	ch := testEnv(t, "clickhouse")["CLICKHOUSE_URL"]
	pg := testEnv(t, "postgres")["POSTGRES_ADDR"]
	redis := testEnv(t, "redis")["REDIS_ADDR"]
	healthy := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	backend, frontend := httptest.NewServer(healthy), httptest.NewServer(healthy)
	t.Cleanup(backend.Close)
	t.Cleanup(frontend.Close)
	chAddr := strings.TrimSuffix(strings.TrimPrefix(ch, "http://"), "/")
	m := Matrix{
		{Service: "backend", Type: HTTP, Target: backend.URL + "/health"},
		{Service: "frontend", Type: HTTP, Target: frontend.URL + "/health"},
		{Service: "clickhouse", Type: TCP, Target: chAddr},
		{Service: "clickhouse", Type: HTTP, Target: "http://" + chAddr + "/ping"},
		{Service: "postgresql", Type: TCP, Target: pg},
		{Service: "postgresql", Type: Postgres, Target: pg},
		{Service: "redis", Type: TCP, Target: redis},
		{Service: "redis", Type: Redis, Target: redis},
	}.WithDefaults(30 * time.Second)
	c, err := New(m, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	c.RunOnce(context.Background()) // warm up (first connections, DNS-free loopback)
	const rounds = 20
	start := time.Now()
	var last []platform.HealthResult
	for range rounds {
		last = c.RunOnce(context.Background())
	}
	per := time.Since(start) / rounds
	failing, err := PrintTable(os.Stdout, last)
	if err != nil || failing != 0 {
		t.Fatalf("%d services failing (%v)", failing, err)
	}
	t.Logf("one RunOnce over the full matrix (5 services, 8 checks): %s (mean of %d)", per, rounds)
}
