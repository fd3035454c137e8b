package pgtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// BinDirEnv names the directory of initdb, pg_ctl and postgres
// (.testenv/env.d/postgres.env).
const BinDirEnv = "POSTGRES_BIN_DIR"

// Server is a PostgreSQL server of one test only, started from the test
// stack's binaries, so that it can be stopped and started again while the
// shared server keeps serving the other tests.
type Server struct {
	t        testing.TB
	bin, dir string
	port     int
}

// StartServer initialises and starts a server on a free loopback port
// (trust authentication, fsync off), stopped and removed at the end of the
// test. The test skips, saying why, when BinDirEnv is not set.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv(BinDirEnv)
	if bin == "" {
		t.Skipf("%s is not set: start PostgreSQL with `bash scripts/testenv/postgres.sh up` and export .testenv/env.d/postgres.env", BinDirEnv)
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
	p := &Server{t: t, bin: bin, dir: dir, port: port}
	p.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "--no-sync")
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// command runs a PostgreSQL program as the postgres user.
func (p *Server) command(prog string, args ...string) *osexec.Cmd {
	if u, err := user.Current(); err == nil && u.Username != "postgres" {
		return osexec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, prog)}, args...)...)
	}
	return osexec.Command(filepath.Join(p.bin, prog), args...)
}

func (p *Server) run(prog string, args ...string) {
	p.t.Helper()
	if out, err := p.command(prog, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("%s: %v\n%s", prog, err, out)
	}
}

// Start starts the server (again), waiting until it accepts connections.
func (p *Server) Start() {
	p.t.Helper()
	p.run("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-l", filepath.Join(p.dir, "log"), "-w", "-t", "30",
		"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", p.port, p.dir), "start")
}

// Stop stops the server at once (immediate mode: a crash, for its clients).
func (p *Server) Stop() {
	_ = p.command("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop").Run()
}

// URL is the server's postgres:// URL, with a password the server (trust
// authentication) ignores: tests check that it never shows.
func (p *Server) URL(password string) string {
	return (&url.URL{Scheme: "postgres", User: url.UserPassword("postgres", password), Host: fmt.Sprintf("127.0.0.1:%d", p.port),
		Path: "/postgres", RawQuery: "sslmode=disable&connect_timeout=2"}).String()
}
