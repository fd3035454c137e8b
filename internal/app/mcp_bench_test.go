package app

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// BenchmarkMCPCallOverStdio measures tool calls through the whole path a
// client's call takes: the go-sdk client, newline-delimited JSON-RPC over a
// pipe, `ops-skill mcp`'s server, the gate (decode, scope, read) and the
// history record in SQLite, on the simulated platform.
func BenchmarkMCPCallOverStdio(b *testing.B) {
	for _, c := range []struct {
		name, tool string
		args       map[string]any
	}{
		{"read getServiceStatus", "getServiceStatus", map[string]any{"name": "backend"}},
		{"read queryMetrics", "queryMetrics", map[string]any{"name": "backend", "metric": "cpu_utilization", "range": "15m"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := startMCP(b, b.TempDir(), mcpClient{}, "--simulate", "--scenario", "high-cpu", "mcp")
			if _, out := r.call(b, c.tool, c.args); out.Status != tools.StatusOK {
				b.Fatalf("%s: %+v", c.tool, out)
			}
			b.ResetTimer()
			for b.Loop() {
				r.call(b, c.tool, c.args)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// BenchmarkGateAlone is the same read through the same runtime's gate
// (Registry.Invoke, the history in SQLite) without MCP: what the protocol
// adds is the difference to BenchmarkMCPCallOverStdio.
func BenchmarkGateAlone(b *testing.B) {
	env := map[string]string{"OPS_SKILL_STATE_DIR": b.TempDir()}
	d := deps{io: cli.Test(strings.NewReader(""), io.Discard, io.Discard), clock: testingclock.NewFakeClock(goldenStart),
		env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, newLLM: newModel}
	cfg, err := config.Load(config.LoadOptions{Env: d.env})
	if err != nil {
		b.Fatal(err)
	}
	rt, err := d.newRuntime(context.Background(), cfg, cli.RuntimeOptions{Simulate: true, Scenario: "high-cpu"})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	run := tools.NewRun(0, guard.ModeObserve, nil, cfg.Agent.MaxWrites)
	call := tools.Call{ID: "b", Tool: tools.GetServiceStatus, Args: json.RawMessage(`{"namespace":"ai-data-labs","name":"backend"}`)}
	for b.Loop() {
		if o := rt.Registry.Invoke(context.Background(), run, call); o.Status != tools.StatusOK {
			b.Fatalf("%+v", o)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
