//go:build integration

package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/testenv"
)

// testEnv reads .testenv/env.d/<component>.env (written by
// scripts/testenv/<component>.sh up) and skips the test when it is absent.
func testEnv(t *testing.T, component string) map[string]string {
	t.Helper()
	return testenv.Load(t, component)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds ops-skill once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ops-skill-serve-it-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ops-skill")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/ops-skill")
		cmd.Dir = testenv.Root(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is one `ops-skill serve` process and its JSON log.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	addr string

	mu     sync.Mutex
	all    []map[string]any
	raw    bytes.Buffer
	wake   chan struct{} // closed and replaced on each new line
	ended  bool
	cursor int // wait looks at lines from here on
}

// cleanEnv is the process environment without anything that would change
// what ops-skill does (a cluster, a model, state, thresholds).
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "KUBECONFIG" || strings.HasPrefix(k, "LLM_") || strings.HasPrefix(k, "OPS_SKILL_") || k == "ALERT_WEBHOOK" ||
			k == "PAGERDUTY_ROUTING_KEY" || k == "GENERIC_WEBHOOK_URL" || k == "NAMESPACE" || k == "XDG_CONFIG_HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startServe runs ops-skill serve on a free loopback port and waits until it
// listens.
func startServe(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(env, "XDG_CONFIG_HOME="+t.TempDir()) // no user config file
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, cmd: cmd, wake: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.read(stderr)
	t.Cleanup(func() {
		p.signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() || os.Getenv("OPS_SKILL_IT_LOGS") == "1" {
			t.Logf("%s log:\n%s", name, p.log())
		}
	})
	p.addr = p.wait("serving", 30*time.Second)["address"].(string)
	return p
}

func (p *proc) read(r interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		_ = json.Unmarshal(sc.Bytes(), &m)
		p.mu.Lock()
		p.raw.WriteString(sc.Text() + "\n")
		if m != nil {
			p.all = append(p.all, m)
		}
		close(p.wake)
		p.wake = make(chan struct{})
		p.mu.Unlock()
	}
	p.mu.Lock()
	p.ended = true
	close(p.wake)
	p.wake = make(chan struct{})
	p.mu.Unlock()
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// wait waits for a line, after the one the previous wait returned, with
// message msg (and the given field values).
func (p *proc) wait(msg string, timeout time.Duration, fields ...string) map[string]any {
	p.t.Helper()
	return p.waitAny([]string{msg}, timeout, fields...)
}

// waitAny is wait for any of several messages.
func (p *proc) waitAny(msgs []string, timeout time.Duration, fields ...string) map[string]any {
	p.t.Helper()
	msg := strings.Join(msgs, " or ")
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		for i := p.cursor; i < len(p.all); i++ {
			if m := p.all[i]; slices.Contains(msgs, fmt.Sprint(m["msg"])) && matches(m, fields) {
				p.cursor = i + 1
				p.mu.Unlock()
				return m
			}
		}
		ended, wake := p.ended, p.wake
		p.mu.Unlock()
		if ended {
			p.t.Fatalf("%s exited before logging %q", p.name, msg)
		}
		select {
		case <-wake:
		case <-timer.C:
			p.t.Fatalf("%s did not log %q %v within %s", p.name, msg, fields, timeout)
		}
	}
}

// count is how many lines so far have message msg (and the field values).
func (p *proc) count(msg string, fields ...string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.all {
		if m["msg"] == msg && matches(m, fields) {
			n++
		}
	}
	return n
}

func matches(m map[string]any, fields []string) bool {
	for i := 0; i+1 < len(fields); i += 2 {
		if fmt.Sprint(m[fields[i]]) != fields[i+1] {
			return false
		}
	}
	return true
}

func (p *proc) signal(sig syscall.Signal) {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// url is the server's base URL.
func (p *proc) url() string { return "http://" + p.addr }

// startAlertmanager runs a private Alertmanager (not clustered) whose only
// receiver posts to each of the webhook URLs with the token of tokenFile.
func startAlertmanager(t *testing.T, bin, tokenFile string, webhooks ...string) string {
	t.Helper()
	route := testenv.AlertmanagerRoute{GroupBy: []string{"alertname", "namespace", "service"}, Repeat: time.Hour}
	return testenv.StartAlertmanager(t, bin, tokenFile, route, webhooks...)
}

// amAlert is an alert as Alertmanager's API v2 takes it.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt,omitzero"`
}

// fire posts alerts to Alertmanager's API (POST /api/v2/alerts).
func fire(t *testing.T, amURL string, alerts ...amAlert) {
	t.Helper()
	b, _ := json.Marshal(alerts)
	resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}
}

// poll checks cond until it holds, for external servers that cannot tell.
func poll(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not within %s", what, timeout)
		}
	}
}

// history opens the shared history of a state directory.
func history(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dir, "history.db"), clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// writeToken writes a token file and returns its path.
func writeToken(t *testing.T, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
