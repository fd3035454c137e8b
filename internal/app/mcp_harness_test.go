package app

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/mcpserver"
	"github.com/duet-company/ops-skill/internal/testenv"
)

// mcpRun is `ops-skill mcp` running in process, as the binary runs it
// (cobra, the configuration, the one runtime, the server), its standard
// input and output connected by pipes to a go-sdk client.
type mcpRun struct {
	cs     *sdk.ClientSession
	state  string
	stderr *testenv.SyncBuffer
	code   chan int
}

// mcpClient is what a test's client is: its options and protocol version
// ("" for the SDK's latest); env adds to the server's environment.
type mcpClient struct {
	opts     *sdk.ClientOptions
	protocol string
	env      map[string]string
}

// startMCP runs ops-skill with args (which include "mcp") in state and
// connects a client to it; the run ends with the test.
func startMCP(t testing.TB, state string, c mcpClient, args ...string) *mcpRun {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r := &mcpRun{state: state, stderr: &testenv.SyncBuffer{}, code: make(chan int, 1)}
	env := map[string]string{"OPS_SKILL_STATE_DIR": state}
	for k, v := range c.env {
		env[k] = v
	}
	d := deps{io: cli.Test(inR, outW, r.stderr), clock: testingclock.NewFakeClock(goldenStart),
		env:    func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		newLLM: newModel}
	go func() {
		r.code <- Run(context.Background(), d, args)
		_ = outW.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "ops-skill-test", Version: "1"}, c.opts).
		Connect(ctx, &sdk.IOTransport{Reader: outR, Writer: inW}, &sdk.ClientSessionOptions{ProtocolVersion: c.protocol})
	if err != nil {
		_ = inW.Close()
		t.Fatalf("connect to ops-skill %q: %v\nstderr:\n%s", args, err, r.stderr)
	}
	r.cs = cs
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop closes the client (standard input) and waits for the exit code.
func (r *mcpRun) stop(t testing.TB) int {
	t.Helper()
	if r.cs != nil {
		_ = r.cs.Close()
		r.cs = nil
	}
	select {
	case code := <-r.code:
		r.code <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("ops-skill mcp did not exit after its client left\nstderr:\n%s", r.stderr)
	}
	return -1
}

// call calls a tool and returns the result with its structured content.
func (r *mcpRun) call(t testing.TB, tool string, args any) (*sdk.CallToolResult, mcpserver.Result) {
	t.Helper()
	res, err := r.cs.CallTool(context.Background(), &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v\nstderr:\n%s", tool, err, r.stderr)
	}
	var out mcpserver.Result
	b, err := json.Marshal(res.StructuredContent)
	if err != nil || json.Unmarshal(b, &out) != nil {
		t.Fatalf("call %s: structured content %v is not a result (%v)", tool, res.StructuredContent, err)
	}
	return res, out
}

// read reads a resource's text.
func (r *mcpRun) read(t testing.TB, uri string) string {
	t.Helper()
	res, err := r.cs.ReadResource(context.Background(), &sdk.ReadResourceParams{URI: uri})
	if err != nil {
		t.Fatalf("read %s: %v", uri, err)
	}
	if len(res.Contents) != 1 {
		t.Fatalf("read %s: %d contents", uri, len(res.Contents))
	}
	return res.Contents[0].Text
}

// text is the text of a result's content.
func text(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
