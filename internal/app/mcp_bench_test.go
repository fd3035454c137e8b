package app

import (
	"testing"

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
