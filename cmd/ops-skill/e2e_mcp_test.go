package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"go.yaml.in/yaml/v3"
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

// TestMCPInspectorCLI runs the official MCP Inspector's CLI mode
// (npm @modelcontextprotocol/inspector, `mcp-inspector --cli`) against the
// binary: it lists the tools, calls one, reads a resource and gets the
// prompt. It needs the inspector: OPS_SKILL_MCP_INSPECTOR names its
// mcp-inspector script, or mcp-inspector is on PATH (npm install
// @modelcontextprotocol/inspector); otherwise it is skipped.
func TestMCPInspectorCLI(t *testing.T) {
	inspector := os.Getenv("OPS_SKILL_MCP_INSPECTOR")
	if inspector == "" {
		p, err := exec.LookPath("mcp-inspector")
		if err != nil {
			t.Skip("the MCP Inspector is not installed: set OPS_SKILL_MCP_INSPECTOR to its mcp-inspector, or put it on PATH")
		}
		inspector = p
	}
	s := newSandbox(t)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, inspector, append([]string{"--cli", binary, "mcp", "--simulate", "--scenario", "high-cpu"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.home, "OPS_SKILL_STATE_DIR=" + s.state}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("mcp-inspector %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--method", "tools/list"}, []string{`"name": "scaleDeployment"`, `"destructiveHint": true`, `"readOnlyHint": true`}},
		{[]string{"--method", "tools/call", "--tool-name", "scaleDeployment", "--tool-arg", "name=backend", "--tool-arg", "replicas=4"},
			[]string{`"status": "dry_run"`, `"rule": "scale_up.cpu"`, `"mode": "observe"`}},
		{[]string{"--method", "resources/read", "--uri", "history://actions"}, []string{`\"verdict\": \"dry_run\"`}},
		{[]string{"--method", "prompts/get", "--prompt-name", "incident", "--prompt-args", "alert=Alert: Backend service CPU at 85% for 5 minutes"},
			[]string{"kind cpu, subject ai-data-labs/backend"}},
	} {
		out := run(c.args...)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("mcp-inspector %q does not show %s:\n%s", c.args, w, out)
			}
		}
	}
}

// TestTheReadmesMCPConfigurationsStartTheServer takes each client
// configuration of the README's section "MCP server" — the Claude Code
// command line, the JSON of Claude Desktop and Cursor, kubectl-ai's YAML —
// and starts the command it names with its arguments, as the client would,
// then lists the tools over it.
func TestTheReadmesMCPConfigurationsStartTheServer(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## MCP server\n")
	if !ok {
		t.Fatal("README.md has no section \"MCP server\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	commands := readmeMCPCommands(t, section)
	if len(commands) != 4 {
		t.Fatalf("found %d client configurations in the README's MCP section, want 4 (Claude Code, Claude Desktop, Cursor, kubectl-ai): %q", len(commands), commands)
	}
	for _, argv := range commands {
		t.Run(strings.Join(argv, " "), func(t *testing.T) {
			if filepath.Base(argv[0]) != "ops-skill" {
				t.Fatalf("the configuration runs %s, not ops-skill", argv[0])
			}
			s := newSandbox(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.Command(binary, argv[1:]...)
			cmd.Dir = s.home
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.home, "OPS_SKILL_STATE_DIR=" + s.state}
			cs, err := sdk.NewClient(&sdk.Implementation{Name: "readme", Version: "1"}, nil).Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
			if err != nil {
				t.Fatalf("start %q: %v", argv, err)
			}
			defer cs.Close()
			if res, err := cs.ListTools(ctx, nil); err != nil || len(res.Tools) != 14 {
				t.Errorf("tools/list over %q: %v", argv, err)
			}
		})
	}
}

// readmeMCPCommands reads the command lines the section's configurations
// start: `claude mcp add NAME -- COMMAND ARGS…` lines, "mcpServers" JSON
// and kubectl-ai's "servers" YAML.
func readmeMCPCommands(t *testing.T, section string) [][]string {
	t.Helper()
	var out [][]string
	blocks := strings.Split(section, "```")
	for i := 1; i < len(blocks); i += 2 {
		lang, body, _ := strings.Cut(blocks[i], "\n")
		switch lang {
		case "json":
			var c struct {
				MCPServers map[string]struct {
					Command string   `json:"command"`
					Args    []string `json:"args"`
				} `json:"mcpServers"`
			}
			if err := json.Unmarshal([]byte(body), &c); err != nil {
				t.Fatalf("a JSON configuration of the README does not parse: %v\n%s", err, body)
			}
			for _, s := range c.MCPServers {
				out = append(out, append([]string{s.Command}, s.Args...))
			}
		case "yaml":
			var c struct {
				Servers []struct {
					Command string   `yaml:"command"`
					Args    []string `yaml:"args"`
				} `yaml:"servers"`
			}
			if err := yaml.Unmarshal([]byte(body), &c); err != nil {
				t.Fatalf("the YAML configuration of the README does not parse: %v\n%s", err, body)
			}
			for _, s := range c.Servers {
				out = append(out, append([]string{s.Command}, s.Args...))
			}
		default:
			for _, line := range strings.Split(body, "\n") {
				if _, argv, ok := strings.Cut(line, "claude mcp add ops-skill -- "); ok {
					out = append(out, strings.Fields(argv))
				}
			}
		}
	}
	return out
}
