package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/serve"
	"github.com/duet-company/ops-skill/internal/store"
)

// TestServeSimulatedEndToEnd runs `ops-skill serve --simulate` in process:
// a delivery is answered 202, its duplicate 200, the agent scales the
// backend once, and the history says so after a graceful stop.
func TestServeSimulatedEndToEnd(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("e2e-secret-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OPS_SKILL_STATE_DIR": dir}
	logs, logw := io.Pipe()
	d := deps{io: cli.Test(strings.NewReader(""), io.Discard, logw), clock: testingclock.NewFakeClock(goldenStart),
		env:    func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		newLLM: newModel}
	ctx, stop := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- Run(ctx, d, []string{"serve", "--simulate", "--scenario", "high-cpu", "--listen", "127.0.0.1:0",
			"--auth-token-file", token, "--no-health-loop", "--escalation-period", "0"})
		logw.Close()
	}()
	lines := make(chan string, 1000)
	go func() { // the log is read all the time, so logging never blocks the server
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	started := waitLogs(t, lines, "serving", "leading: acting on alerts and running the loops")
	addr := started["serving"]["address"].(string)
	body, err := os.ReadFile("../../testdata/alerts/am-high-cpu.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{http.StatusAccepted, http.StatusOK} {
		if got := postWebhook(t, addr, "e2e-secret-token-0123456789abcdef", body); got != want {
			t.Fatalf("POST /webhook: %d, want %d", got, want)
		}
	}
	if got := postWebhook(t, addr, "wrong", body); got != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d, want 401", got)
	}
	run := waitLogs(t, lines, "run finished")["run finished"]
	if run["resolution"] != "resolved" || run["actions"] != 1.0 {
		t.Fatalf("run %v, want resolved with one action", run)
	}
	stop()
	if code := <-exited; code != 0 {
		t.Fatalf("exit %d after the stop signal, want 0", code)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "history.db"), testingclock.NewFakeClock(goldenStart))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	alerts, _ := st.ListAlerts(context.Background(), store.AlertFilter{})
	scales, _ := st.ListScaleEvents(context.Background(), store.ScaleFilter{})
	if len(alerts) != 1 || len(scales) != 1 || scales[0].From != 3 || scales[0].To != 4 {
		t.Fatalf("history: %d alerts, scale events %+v; want one alert and one scale 3 → 4", len(alerts), scales)
	}
}

// waitLogs reads JSON log lines until each message of msgs was seen, in
// any order, and returns their fields.
func waitLogs(t *testing.T, lines <-chan string, msgs ...string) map[string]map[string]any {
	t.Helper()
	got := map[string]map[string]any{}
	for line := range lines {
		if strings.Contains(line, "e2e-secret-token-0123456789abcdef") {
			t.Fatalf("a log line shows the token: %s", line)
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		for _, msg := range msgs {
			if m["msg"] == msg {
				got[msg] = m
			}
		}
		if len(got) == len(msgs) {
			return got
		}
	}
	t.Fatalf("the log ended before %v (saw %d)", msgs, len(got))
	return nil
}

func postWebhook(t *testing.T, addr, token string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhook", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeReadsSecretsFromFilesOnly(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
		return p
	}
	const token = "abc123-s3cr3t-0123456789abcdef-xyz" // 34 bytes
	tests := []struct {
		name     string
		opts     config.Serve
		wantErr  string // in the message
		wantWeak bool   // errWeakSecret
	}{
		{"token", config.Serve{AuthTokenFile: write("t", token+"\n", 0o600)}, "", false},
		{"token readable by its group", config.Serve{AuthTokenFile: write("g", token+"\n", 0o640)}, "", false},
		{"token of exactly 32 bytes", config.Serve{AuthTokenFile: write("32", strings.Repeat("k", 32), 0o400)}, "", false},
		{"basic", config.Serve{BasicAuthFile: write("b", "alertmanager:pa:ss\n", 0o600)}, "", false},
		{"empty token file", config.Serve{AuthTokenFile: write("e", "\n", 0o600)}, "one non-empty line", false},
		{"basic without a colon", config.Serve{BasicAuthFile: write("n", "justuser-s3cr3t", 0o600)}, "user:password", false},
		{"missing file", config.Serve{AuthTokenFile: filepath.Join(dir, "absent")}, "--auth-token-file", false},
		{"world-readable token file", config.Serve{AuthTokenFile: write("w", token+"\n", 0o644)},
			"--auth-token-file " + filepath.Join(dir, "w") + ": the file is readable by every user (mode 0644); make it private: `chmod 600 " + filepath.Join(dir, "w") + "`", true},
		{"world-readable, even read-only", config.Serve{AuthTokenFile: write("r", token+"\n", 0o444)}, "(mode 0444)", true},
		{"world-readable basic-auth file", config.Serve{BasicAuthFile: write("wb", "alertmanager:pa:ss\n", 0o604)}, "--basic-auth-file", true},
		{"token of 31 bytes", config.Serve{AuthTokenFile: write("31", strings.Repeat("s3cr3t", 5)+"x", 0o600)},
			"--auth-token-file " + filepath.Join(dir, "31") + ": the token is 31 bytes, at least 32 are needed; write a new one, e.g. `openssl rand -hex 32 > " + filepath.Join(dir, "31") + "`", true},
		{"short token, surrounding space not counted", config.Serve{AuthTokenFile: write("sp", "  s3cr3t  \n", 0o600)}, "the token is 6 bytes", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := readAuth(tt.opts)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err %v, want one naming %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "s3cr3t"):
				t.Fatalf("the error shows the secret: %v", err)
			case errors.Is(err, errWeakSecret) != tt.wantWeak:
				t.Fatalf("err %v: errors.Is(errWeakSecret) = %v, want %v", err, errors.Is(err, errWeakSecret), tt.wantWeak)
			}
			if tt.name == "basic" && (a.Username != "alertmanager" || a.Password != "pa:ss") {
				t.Errorf("basic auth read as %q / %q", a.Username, a.Password)
			}
			if strings.Contains(a.String(), "s3cr3t") {
				t.Error("Auth.String shows the token")
			}
		})
	}
}

// TestServeRefusesAWeakTokenFileWithExit2 runs serve as a user would: a
// world-readable token file stops it before it listens, exit 2, and the
// message names the file and the fix.
func TestServeRefusesAWeakTokenFileWithExit2(t *testing.T) {
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("e2e-secret-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(token, 0o644); err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	env := map[string]string{"OPS_SKILL_STATE_DIR": t.TempDir()}
	d := deps{io: cli.Test(strings.NewReader(""), io.Discard, &errOut), clock: testingclock.NewFakeClock(goldenStart),
		env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, newLLM: newModel}
	code := Run(context.Background(), d, []string{"serve", "--simulate", "--listen", "127.0.0.1:0", "--auth-token-file", token})
	if code != cli.ExitUsage {
		t.Errorf("exit %d, want %d", code, cli.ExitUsage)
	}
	if msg := errOut.String(); !strings.Contains(msg, token) || !strings.Contains(msg, "readable by every user") || !strings.Contains(msg, "chmod 600") {
		t.Errorf("message %q, want the file, what is wrong and chmod 600", msg)
	}
	if strings.Contains(errOut.String(), "e2e-secret-token") {
		t.Error("the message shows the token")
	}
}

func TestServeWorkloadsDefaultToTheNamespace(t *testing.T) {
	cfg := config.Defaults()
	cfg.Serve.Listen, cfg.Serve.QueueSize, cfg.Serve.Workers = ":1", 1, 1
	cfg.Serve.ScaleWorkloads = []string{"backend", "other/clickhouse"}
	c, err := serveConfig(cfg, serve.Auth{Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ScaleWorkloads) != 2 || c.ScaleWorkloads[0].String() != "ai-data-labs/backend" || c.ScaleWorkloads[1].String() != "other/clickhouse" {
		t.Fatalf("workloads %v", c.ScaleWorkloads)
	}
	cfg.Serve.ScaleWorkloads = []string{"a/b/c"}
	if _, err := serveConfig(cfg, serve.Auth{Token: "t"}); err == nil {
		t.Fatal("a/b/c accepted as a workload")
	}
}

// serve checks the configured model once at start: a refused key is
// reported once with its fix, and what serve does next depends on the
// planner; a provider that is only down now is tried again on each alert.
func TestServeProbesTheModelOnceAtStart(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		planner string
		log     string // the message logged about the model
		exit    int    // -1: serve runs until stopped
	}{
		{"a refused key, planner auto", http.StatusUnauthorized, "auto", "llm refused the configuration at start; the rules planner decides every alert until it is fixed and serve restarted", -1},
		{"an unknown model, planner llm", http.StatusNotFound, "llm", "", cli.ExitUsage},
		{"a provider down", http.StatusServiceUnavailable, "auto", "llm not reachable at start; each alert tries it and falls back to the rules planner", -1},
		{"a model that answers", http.StatusOK, "auto", "llm ready", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.Func(func(llmtest.RecordedRequest) llmtest.Reply {
				return llmtest.Reply{Status: tt.status, Content: "OK"}
			}), llmtest.AllowInvalidRequests())
			dir := t.TempDir()
			env := map[string]string{"OPS_SKILL_STATE_DIR": dir, "LLM_PROVIDER": "openai", "LLM_MODEL": "probe-model",
				"LLM_BASE_URL": srv.URL(), "OPS_SKILL_PLANNER": tt.planner}
			logs, logw := io.Pipe()
			var errOut strings.Builder
			out := io.Writer(logw)
			if tt.exit >= 0 {
				out = &errOut
			}
			d := deps{io: cli.Test(strings.NewReader(""), io.Discard, out), clock: testingclock.NewFakeClock(goldenStart),
				env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, newLLM: newModel}
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			exited := make(chan int, 1)
			go func() {
				exited <- Run(ctx, d, []string{"serve", "--simulate", "--listen", "127.0.0.1:0", "--allow-anonymous", "--no-health-loop"})
				logw.Close()
			}()
			if tt.exit >= 0 {
				if code := <-exited; code != tt.exit || !strings.Contains(errOut.String(), "LLM_MODEL") {
					t.Fatalf("exit %d, stderr %q; want %d naming the fix", code, errOut.String(), tt.exit)
				}
				return
			}
			lines := make(chan string, 1000)
			go func() {
				sc := bufio.NewScanner(logs)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			waitLogs(t, lines, tt.log, "serving")
			stop()
			if code := <-exited; code != 0 {
				t.Fatalf("exit %d after the stop signal, want 0", code)
			}
			if srv.Calls() < 1 {
				t.Error("the model was not probed")
			}
		})
	}
}

func TestClaimTimeoutOutlivesARun(t *testing.T) {
	tests := []struct {
		name     string
		run, def time.Duration
		want     time.Duration
	}{
		{"no run timeout: the default", 0, 15 * time.Minute, 15 * time.Minute},
		{"the default run timeout", 15 * time.Minute, 15 * time.Minute, 16*time.Minute + 30*time.Second},
		{"a short run timeout: at least a minute", 20 * time.Second, 15 * time.Minute, time.Minute},
		{"past the age of a dead run's alert", 80 * time.Second, 15 * time.Minute, 100 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := claimTimeout(tt.run, tt.def); got != tt.want {
				t.Errorf("claimTimeout(%s) = %s, want %s", tt.run, got, tt.want)
			}
		})
	}
}

func TestResumePolicyFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.MemoryPath, testingclock.NewFakePassiveClock(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Defaults()
	cfg.Agent.RunTimeout = time.Minute
	got := resumePolicy(cfg, st)
	if !got.TurnsSpanWriters || got.After != time.Minute+resumeGrace {
		t.Errorf("SQLite: %+v, want the file locks to count and the age past the run timeout", got)
	}
	if c := claimTimeout(cfg.Agent.RunTimeout, 15*time.Minute); c <= got.After {
		t.Errorf("claim timeout %s, want longer than the age %s of a dead run's alert", c, got.After)
	}
	cfg.Agent.RunTimeout = 0
	if got := resumePolicy(cfg, st); got.After != 0 {
		t.Errorf("no run timeout: %+v, want no age", got)
	}
}
