package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/mcpserver"
	"github.com/duet-company/ops-skill/tools"
)

const mcpToken = "e2e-secret-token-mcp-0123456789abcdef"

// startServeMCP runs `ops-skill serve --simulate --mcp-mode mode` in process
// and returns the address it listens on; it stops with the test.
func startServeMCP(t *testing.T, mode string) string {
	t.Helper()
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte(mcpToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OPS_SKILL_STATE_DIR": dir}
	logs, logw := io.Pipe()
	d := deps{io: cli.Test(strings.NewReader(""), io.Discard, logw), clock: testingclock.NewFakeClock(goldenStart),
		env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, newLLM: newModel}
	ctx, stop := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- Run(ctx, d, []string{"serve", "--simulate", "--scenario", "high-cpu", "--listen", "127.0.0.1:0",
			"--auth-token-file", token, "--no-health-loop", "--escalation-period", "0", "--mcp-mode", mode})
		logw.Close()
	}()
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if strings.Contains(sc.Text(), mcpToken) {
				t.Errorf("a log line shows the token: %s", sc.Text())
			}
			lines <- sc.Text()
		}
		close(lines)
	}()
	started := waitLogs(t, lines, "serving", "MCP endpoint at /mcp")
	go func() { // keep reading, so logging never blocks the server
		for range lines {
		}
	}()
	t.Cleanup(func() {
		stop()
		if code := <-exited; code != 0 {
			t.Errorf("serve exit %d after the stop, want 0", code)
		}
	})
	return started["serving"]["address"].(string)
}

// bearer adds the token to every request of the client.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func connectHTTP(t *testing.T, addr, token, protocol string, opts *sdk.ClientOptions) (*sdk.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := &sdk.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp", HTTPClient: &http.Client{Transport: bearer{token}}, MaxRetries: -1}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "http-test", Version: "1"}, opts).Connect(ctx, tr, &sdk.ClientSessionOptions{ProtocolVersion: protocol})
	if err == nil {
		t.Cleanup(func() { _ = cs.Close() })
	}
	return cs, err
}

func httpCall(t *testing.T, cs *sdk.ClientSession, tool string, args any) (*sdk.CallToolResult, mcpserver.Result) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	var out mcpserver.Result
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	return res, out
}

// TestServeMCPOverStreamableHTTP drives serve's /mcp with the go-sdk
// client: the webhook's authentication, the tools, a read, and guarded
// writes — clamped and refused in auto mode; declined and accepted through
// elicitation in approve mode (the answer comes back in a second request,
// with the state the server signed) — on both protocol versions.
func TestServeMCPOverStreamableHTTP(t *testing.T) {
	for _, protocol := range []string{"", "2025-11-25"} {
		name := firstNonEmptyString(protocol, "latest")
		t.Run("auto "+name, func(t *testing.T) {
			addr := startServeMCP(t, "auto")
			if _, err := connectHTTP(t, addr, "wrong-token", protocol, nil); err == nil {
				t.Fatal("a client with a wrong token connected")
			}
			cs, err := connectHTTP(t, addr, mcpToken, protocol, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res, err := cs.ListTools(context.Background(), nil); err != nil || len(res.Tools) != len(tools.AllNames()) {
				t.Fatalf("tools/list: %v", err)
			}
			for _, c := range []struct {
				tool    string
				args    map[string]any
				status  tools.Status
				rule    string
				verdict guard.Verdict
			}{
				{"getServiceStatus", map[string]any{"name": "backend"}, tools.StatusOK, "", ""},
				{"scaleDeployment", map[string]any{"name": "backend", "replicas": 9}, tools.StatusExecuted, guard.RuleScaleUpCPU, guard.Clamp},
				{"scaleDeployment", map[string]any{"name": "frontend", "replicas": 3, "namespace": "kube-system"}, tools.StatusRefused, guard.RuleNamespaceNotAllowed, guard.Refuse},
				// Again: a client session is one run, which makes the same write once.
				{"scaleDeployment", map[string]any{"name": "backend", "replicas": 5}, tools.StatusRefused, guard.RuleWritesDuplicate, guard.Refuse},
			} {
				res, out := httpCall(t, cs, c.tool, c.args)
				if out.Status != c.status || out.Rule != c.rule || out.Verdict != c.verdict || res.IsError {
					t.Errorf("%s %v: %s %q %q (isError %v), want %s %q %q", c.tool, c.args, out.Status, out.Rule, out.Verdict, res.IsError, c.status, c.rule, c.verdict)
				}
			}
		})
		t.Run("approve "+name, func(t *testing.T) {
			addr := startServeMCP(t, "approve")
			answer := "decline"
			var asked []string
			cs, err := connectHTTP(t, addr, mcpToken, protocol, &sdk.ClientOptions{ElicitationHandler: func(_ context.Context, r *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
				asked = append(asked, r.Params.Message)
				return &sdk.ElicitResult{Action: answer}, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			scale := map[string]any{"name": "backend", "replicas": 4}
			if _, out := httpCall(t, cs, "scaleDeployment", scale); out.Status != tools.StatusRefused || out.Rule != guard.RuleApprovalDeclined {
				t.Errorf("declined: %+v", out)
			}
			answer = "accept"
			if _, out := httpCall(t, cs, "scaleDeployment", scale); out.Status != tools.StatusExecuted || out.Rule != guard.RuleScaleUpCPU {
				t.Errorf("accepted: %+v", out)
			}
			if len(asked) != 2 || !strings.Contains(asked[1], "scale ai-data-labs/backend from 3 to 4 replicas") {
				t.Errorf("asked %q", asked)
			}
		})
	}
}
