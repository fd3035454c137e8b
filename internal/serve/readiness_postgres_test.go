//go:build integration

package serve

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/tools"
)

// ownPostgres is a PostgreSQL server of this test only (the test stack's
// binaries, POSTGRES_BIN_DIR), so that it can be stopped and started again
// while the shared one keeps serving the other tests.
type ownPostgres struct {
	t        *testing.T
	bin, dir string
	port     int
}

func startOwnPostgres(t *testing.T) *ownPostgres {
	t.Helper()
	bin := os.Getenv("POSTGRES_BIN_DIR")
	if bin == "" {
		t.Skip("POSTGRES_BIN_DIR is not set: start PostgreSQL with `bash scripts/testenv/postgres.sh up` and export .testenv/env.d/postgres.env")
	}
	dir, err := os.MkdirTemp("", "ops-skill-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if u, err := user.Current(); err == nil && u.Username != "postgres" {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Skipf("cannot give the data directory to postgres: %v", err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	p := &ownPostgres{t: t, bin: bin, dir: dir, port: port}
	p.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "--no-sync")
	p.start()
	t.Cleanup(p.stop)
	return p
}

// run runs a PostgreSQL program as the postgres user.
func (p *ownPostgres) run(prog string, args ...string) {
	p.t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, prog), args...)
	if u, err := user.Current(); err == nil && u.Username != "postgres" {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, prog)}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("%s: %v\n%s", prog, err, out)
	}
}

func (p *ownPostgres) start() {
	p.t.Helper()
	p.run("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-l", filepath.Join(p.dir, "log"), "-w", "-t", "30",
		"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", p.port, p.dir), "start")
}

// stop stops the server at once (a crash, for its clients).
func (p *ownPostgres) stop() {
	cmd := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(p.bin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop")
	if u, err := user.Current(); err == nil && u.Username == "postgres" {
		cmd = exec.Command(filepath.Join(p.bin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop")
	}
	_ = cmd.Run()
}

// url is the server's postgres:// URL, with a password the server (trust
// authentication) ignores: it must never show.
func (p *ownPostgres) url(password string) string {
	return (&url.URL{Scheme: "postgres", User: url.UserPassword("postgres", password), Host: fmt.Sprintf("127.0.0.1:%d", p.port),
		Path: "/postgres", RawQuery: "sslmode=disable&connect_timeout=2"}).String()
}

// TestReadinessFollowsPostgres: /readyz is 200 while PostgreSQL answers, 503
// naming the store (not its password) while it is down, and 200 again once
// it is back, with the same Store handle.
func TestReadinessFollowsPostgres(t *testing.T) {
	pg := startOwnPostgres(t)
	const password = "readiness-s3cret-pw"
	e := newTestEnvAt(t, quietConfig(), tools.Deps{}, pg.url(password))
	readyz := func() (int, Readiness, string) {
		rec := httptest.NewRecorder()
		e.s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var rd Readiness
		_ = json.Unmarshal(rec.Body.Bytes(), &rd)
		return rec.Code, rd, rec.Body.String()
	}
	if code, rd, _ := readyz(); code != http.StatusOK || rd.Store != "ok" {
		t.Fatalf("PostgreSQL up: %d %+v, want ready", code, rd)
	}
	pg.stop()
	code, rd, body := readyz()
	if code != http.StatusServiceUnavailable || rd.Ready || rd.Store == "ok" || rd.Store == "" {
		t.Errorf("PostgreSQL down: %d %+v, want 503 saying what the store answered", code, rd)
	}
	if strings.Contains(body, password) {
		t.Errorf("/readyz shows the store's password: %s", body)
	}
	pg.start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, rd, _ := readyz()
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL back: still %d %+v after 30s", code, rd)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
