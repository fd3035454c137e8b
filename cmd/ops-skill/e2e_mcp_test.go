package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestMCPOverStdioOfTheBinary starts `ops-skill mcp` as an MCP client
// starts it (Claude Code, Cursor: a command and its arguments) and talks
// to it with the go-sdk client: the tools are listed, a read runs, a write
// is a dry run in the default observe mode, and the history keeps both.
func TestMCPOverStdioOfTheBinary(t *testing.T) {
	s := newSandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.Command(binary, "mcp", "--simulate", "--scenario", "high-cpu")
	cmd.Dir = s.home
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.home, "OPS_SKILL_STATE_DIR=" + s.state, "OPS_SKILL_MODE=auto"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "e2e", Version: "1"}, nil).Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr.String())
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 14 {
		t.Fatalf("tools/list: %v, %d tools", err, len(tools.Tools))
	}
	for _, c := range []struct {
		tool, args, status string
	}{
		{"getServiceStatus", `{"name":"backend"}`, "ok"},
		{"scaleDeployment", `{"name":"backend","replicas":4}`, "dry_run"},
	} {
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: c.tool, Arguments: json.RawMessage(c.args)})
		if err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
		b, _ := json.Marshal(res.StructuredContent)
		var out struct{ Status, Mode string }
		if json.Unmarshal(b, &out) != nil || out.Status != c.status || out.Mode != "observe" || res.IsError {
			t.Errorf("%s: %s (isError %v), want status %s in observe mode", c.tool, b, res.IsError, c.status)
		}
	}
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v\n%s", err, stderr.String())
	}
	// Another process reads the write back from the history.
	r := s.must(0, "", "--simulate", "tools", "call", "queryHistory", "--args", `{"what":"actions"}`)
	var answer struct {
		Result struct {
			Entries []struct{ Kind, Target, Status string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &answer); err != nil {
		t.Fatalf("queryHistory: %v\n%s", err, r)
	}
	if e := answer.Result.Entries; len(e) != 1 || e[0].Kind != "scaleDeployment" || e[0].Target != "ai-data-labs/backend" || e[0].Status != "dry_run" {
		t.Errorf("the history after the MCP session: %+v\n%s", e, r.stdout)
	}
}
