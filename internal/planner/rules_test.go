package planner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/planner"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// The rules planner is tested the way the agent drives it: a situation in
// (the facts and the typed outcomes so far), one turn out.

func policy() planner.Policy {
	return planner.Policy{ScaleUpThreshold: 80, ScaleDownThreshold: 30, ErrorRateThreshold: 10, UpStep: 1, OutStep: 2,
		MinReplicas: 2, MaxReplicas: 10, DiskTargetPct: 75, MemoryFactor: 2}
}

// conversation builds a run's situation: the facts and the snapshot, then
// turns of calls and their outcomes.
type conversation struct {
	sit plan.Situation
	n   int
}

func start(f plan.Facts, snapshot ...tools.Outcome) *conversation {
	return &conversation{sit: plan.Situation{Facts: f, Outcomes: snapshot}}
}

// turn adds a planner turn that called tools, with the outcome of each call.
func (c *conversation) turn(outs ...tools.Outcome) *conversation {
	for _, o := range outs {
		c.n++
		o.CallID = fmt.Sprintf("call-%d", c.n)
		args, _ := json.Marshal(o.Params)
		c.sit.Asked = append(c.sit.Asked, tools.Call{ID: o.CallID, Tool: o.Tool, Args: args})
		c.sit.Outcomes = append(c.sit.Outcomes, o)
	}
	c.sit.Turns++
	return c
}

func ask(t *testing.T, c *conversation, final bool) plan.Turn {
	t.Helper()
	s := c.sit
	s.Final = final
	turn, err := planner.NewRules(policy()).Next(context.Background(), s)
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return turn
}

// callsOf lists a turn's calls as "tool {args}".
func callsOf(turn plan.Turn) []string {
	var out []string
	for _, c := range turn.Calls {
		out = append(out, string(c.Tool)+" "+string(c.Args))
	}
	return out
}

func ok(tool string, result any) tools.Outcome {
	return tools.Outcome{Tool: tools.Name(tool), Status: tools.StatusOK, Summary: tool + " ok", Result: result}
}

func metric(name string, last float64) tools.Outcome {
	o := ok("queryMetrics", tools.MetricSummary{Metric: name, Target: "ai-data-labs/backend", Range: "15m",
		Series: []tools.SeriesSummary{{Min: last, Max: last, Avg: last, Last: last, Trend: "flat", Samples: 60}}})
	o.Params = map[string]any{"metric": name}
	return o
}

func status(replicas, ready int32, mutate ...func(*tools.ServiceStatus)) tools.Outcome {
	st := tools.ServiceStatus{Target: "ai-data-labs/backend", Kind: "Deployment", Status: "Healthy", Replicas: replicas, Ready: ready,
		Containers: []tools.ContainerLimits{{Name: "main", MemoryLimit: "4Gi"}}}
	for _, m := range mutate {
		m(&st)
	}
	return ok("getServiceStatus", st)
}

func facts(kind alert.Kind, service string) plan.Facts {
	return plan.Facts{Source: alert.SourceText, Service: service, Namespace: "ai-data-labs", Kind: kind, Mode: "auto"}
}

// cpuRead is a CPU conversation after the playbook's reads.
func cpuRead(cpu, errRate float64, st tools.Outcome) *conversation {
	return start(facts("cpu", "backend"), st, metric("cpu_utilization", cpu)).
		turn(metric("request_rate", 430), metric("latency_p99_ms", 420), metric("error_rate", errRate))
}

func TestCPUPlaybook(t *testing.T) {
	tests := []struct {
		name  string
		conv  *conversation
		calls []string // exact calls, in order
		text  string   // in the reply's text
	}{
		{"first reads load, latency and errors", start(facts("cpu", "backend"), status(3, 3), metric("cpu_utilization", 85)),
			[]string{`queryMetrics {"metric":"request_rate","name":"backend","namespace":"ai-data-labs","range":"30m"}`,
				`queryMetrics {"metric":"latency_p99_ms","name":"backend","namespace":"ai-data-labs","range":"30m"}`,
				`queryMetrics {"metric":"error_rate","name":"backend","namespace":"ai-data-labs","range":"15m"}`}, ""},
		{"high CPU scales up by one", cpuRead(85, 0.2, status(3, 3)),
			[]string{`scaleDeployment {"name":"backend","namespace":"ai-data-labs","reason":"sustained high CPU","replicas":4}`}, "scale up from 3 to 4"},
		{"high CPU and errors take the larger step", cpuRead(85, 15, status(4, 4)),
			[]string{`scaleDeployment {"name":"backend","namespace":"ai-data-labs","reason":"sustained high CPU","replicas":6}`}, "from 4 to 6"},
		{"exactly at the threshold does nothing", cpuRead(80, 0.2, status(3, 3)), nil, "no action"},
		{"at the maximum does nothing", cpuRead(95, 0.2, status(10, 10)), nil, "maximum of 10"},
		{"an autoscaled workload is left to its autoscaler",
			cpuRead(95, 0.2, status(3, 3, func(s *tools.ServiceStatus) { s.AutoscaledBy = "HorizontalPodAutoscaler/backend" })), nil, "HorizontalPodAutoscaler"},
		{"after the scale it reports and stops",
			cpuRead(85, 0.2, status(3, 3)).turn(tools.Outcome{Tool: "scaleDeployment", Status: tools.StatusExecuted, Summary: "scale ai-data-labs/backend from 3 to 4 replicas"}),
			nil, "from 3 to 4"},
		{"a refused scale is explained, not retried",
			cpuRead(85, 0.2, status(3, 3)).turn(tools.Outcome{Tool: "scaleDeployment", Status: tools.StatusRefused, Rule: "stabilization.scale_up", Reason: "too soon"}),
			nil, "stabilization.scale_up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ask(t, tt.conv, false)
			if got := strings.Join(callsOf(resp), "\n"); got != strings.Join(tt.calls, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", got, strings.Join(tt.calls, "\n"))
			}
			if !strings.Contains(resp.Report.String(), tt.text) {
				t.Errorf("text %q lacks %q", resp.Report.String(), tt.text)
			}
		})
	}
}

// With the metrics source down the playbook cannot confirm a sustained rise:
// it says so once instead of asking again every turn.
func TestCPUPlaybookStopsWhenMetricsCannotBeRead(t *testing.T) {
	down := func(name string) tools.Outcome {
		return tools.Outcome{Tool: "queryMetrics", Status: tools.StatusFailed, Summary: "failed", Params: map[string]any{"metric": name},
			Error: "query " + name + ": prometheus: connection refused"}
	}
	c := start(facts("cpu", "backend"), status(3, 3), down("cpu_utilization")).
		turn(down("request_rate"), down("latency_p99_ms"), down("error_rate"), down("cpu_utilization"))
	resp := ask(t, c, false)
	if len(resp.Calls) != 0 || !strings.Contains(resp.Report.String(), "could not be read") {
		t.Errorf("reply = %q with calls %v; want a final answer that the metrics could not be read", resp.Report.String(), callsOf(resp))
	}
}

func TestCrashLoopPlaybook(t *testing.T) {
	oom := status(2, 0, func(s *tools.ServiceStatus) {
		s.Target, s.Status, s.CrashLooping, s.OOMKilled = "ai-data-labs/clickhouse", "Down", 2, 2
	})
	plain := status(2, 0, func(s *tools.ServiceStatus) {
		s.Target, s.Status, s.CrashLooping = "ai-data-labs/clickhouse", "Down", 2
	})
	logs := ok("getLogs", tools.LogTail{Target: "ai-data-labs/clickhouse", Lines: []string{"Ready for connections.", "panic: nil map"}})
	mem := metric("memory_utilization", 155)
	f := facts("connection", "clickhouse")
	tests := []struct {
		name  string
		conv  *conversation
		tools []string
		text  string
	}{
		{"first reads the crashed container's logs and memory", start(f, oom), []string{"getLogs", "queryMetrics"}, ""},
		{"OOM first raises the memory limit twofold", start(f, oom).turn(logs, mem),
			[]string{"updateResources"}, "raised memory limit"},
		{"a raise that went through is followed by a replica", start(f, oom).turn(logs, mem).
			turn(tools.Outcome{Tool: "updateResources", Status: tools.StatusExecuted, Summary: "raised", Rule: "memory.raise"}), []string{"scaleDeployment"}, "went through"},
		{"a raise capped at the ceiling adds no replica", start(f, oom).turn(logs, mem).
			turn(tools.Outcome{Tool: "updateResources", Status: tools.StatusExecuted, Summary: "raised", Rule: "memory.ceiling"}), []string{"createIncident"}, "capped at the ceiling"},
		{"a refused raise adds no replica", start(f, oom).turn(logs, mem).
			turn(tools.Outcome{Tool: "updateResources", Status: tools.StatusRefused, Rule: "restart.paused", Reason: "the rollout is paused"}), []string{"createIncident"}, "paused"},
		{"a plain crash loop is restarted", start(f, plain).turn(logs, mem), []string{"restartPods"}, "not OOM"},
		{"after acting it opens an incident", start(f, oom).turn(logs, mem).
			turn(tools.Outcome{Tool: "updateResources", Status: tools.StatusExecuted, Summary: "raised"}).
			turn(tools.Outcome{Tool: "scaleDeployment", Status: tools.StatusExecuted, Summary: "scaled"}), []string{"createIncident"}, ""},
		{"healthy pods get no action", start(f, status(2, 2)).turn(logs, mem), nil, "not in the pods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ask(t, tt.conv, false)
			var names []string
			for _, c := range resp.Calls {
				names = append(names, string(c.Tool))
			}
			if strings.Join(names, ",") != strings.Join(tt.tools, ",") {
				t.Errorf("calls %v, want %v", callsOf(resp), tt.tools)
			}
			if !strings.Contains(resp.Report.String(), tt.text) {
				t.Errorf("text %q lacks %q", resp.Report.String(), tt.text)
			}
			for _, c := range resp.Calls {
				if c.Tool == tools.UpdateResources && !strings.Contains(string(c.Args), `"memoryLimit":"8Gi"`) {
					t.Errorf("memory raise %s, want 8Gi (2 × 4Gi)", c.Args)
				}
			}
		})
	}
}

func TestDiskAndHealthPlaybooks(t *testing.T) {
	report := func(pct float64, eligible ...tools.PartitionInfo) tools.Outcome {
		return ok("checkStorage", tools.StorageReport{Disks: []tools.DiskUsage{{Path: "/var/lib/clickhouse", Used: "850 GB", Total: "1 TB", UsagePct: pct}},
			GrowthPerDay: "10 GB", DaysToFull: 15, Retention: "90d", Eligible: eligible, EligibleSize: "200 GB"})
	}
	old := []tools.PartitionInfo{{Table: "analytics.events", ID: "202508"}, {Table: "analytics.events", ID: "202509"}, {Table: "logs.raw", ID: "20250801"}}
	health := func(ok bool) tools.Outcome {
		return tools.Outcome{Tool: "checkHealth", Status: tools.StatusOK, Result: []platform.HealthResult{{Service: "frontend", Check: "http /health", OK: ok}}}
	}
	logs := tools.Outcome{Tool: "getLogs", Status: tools.StatusOK, Result: tools.LogTail{Lines: []string{"ERROR worker pool exhausted"}}}
	tests := []struct {
		name  string
		conv  *conversation
		calls []string
		text  string
	}{
		{"old partitions are dropped, one call per table", start(facts("disk", "clickhouse"), report(85, old...)),
			[]string{`dropPartitions {"database":"analytics","table":"events"}`, `dropPartitions {"database":"logs","table":"raw"}`}, "older than 90d"},
		{"usage under the target needs nothing", start(facts("disk", "clickhouse"), report(60, old...)), nil, "below 75%"},
		{"nothing past the retention is for a person", start(facts("disk", "clickhouse"), report(85)), nil, "expanded by a person"},
		{"a failing health check is restarted", start(facts("health", "frontend"), health(false), status(3, 3)).turn(logs),
			[]string{`restartPods {"name":"frontend","namespace":"ai-data-labs","reason":"health check failing"}`}, "rollout restart"},
		{"a passing health check needs nothing", start(facts("health", "frontend"), health(true), status(3, 3)).turn(logs), nil, "passes now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ask(t, tt.conv, false)
			if got := strings.Join(callsOf(resp), "\n"); got != strings.Join(tt.calls, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", got, strings.Join(tt.calls, "\n"))
			}
			if !strings.Contains(resp.Report.String(), tt.text) {
				t.Errorf("text %q lacks %q", resp.Report.String(), tt.text)
			}
		})
	}
}

func TestRulesPlannerAnswersWithoutToolsWhenItCannotAct(t *testing.T) {
	tests := []struct {
		name  string
		conv  *conversation
		final bool
		text  string
	}{
		{"no service", start(plan.Facts{Kind: "cpu", Mode: "auto"}), false, "names no known service"},
		{"unknown kind", start(facts("unknown", "backend"), status(3, 3)), false, "no playbook"},
		{"the forced final turn", start(facts("cpu", "backend"), status(3, 3), metric("cpu_utilization", 85)), true, "No change was made"},
		{"an unreadable service", start(facts("cpu", "backend"),
			tools.Outcome{Tool: "getServiceStatus", Status: tools.StatusFailed, Error: "workload not found"}), false, "could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ask(t, tt.conv, tt.final)
			if !resp.Done() || !strings.Contains(resp.Report.String(), tt.text) {
				t.Errorf("reply %q with calls %v; want a final answer containing %q", resp.Report.String(), callsOf(resp), tt.text)
			}
		})
	}
}

func TestRulesPlannerStopsOnACancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := planner.NewRules(policy()).Next(ctx, start(facts("cpu", "backend")).sit)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestRulesPlannerCallIDsAreUniquePerTurn(t *testing.T) {
	c := start(facts("cpu", "backend"), status(3, 3), metric("cpu_utilization", 85))
	first := ask(t, c, false)
	seen := map[string]bool{}
	for _, tc := range first.Calls {
		if seen[tc.ID] || tc.ID == "" {
			t.Errorf("duplicate or empty call ID %q", tc.ID)
		}
		seen[tc.ID] = true
	}
	second := ask(t, c.turn(metric("request_rate", 430), metric("latency_p99_ms", 420), metric("error_rate", 0.2)), false)
	for _, tc := range second.Calls {
		if seen[tc.ID] {
			t.Errorf("call ID %q reused across turns", tc.ID)
		}
	}
}

func TestAnUnreadableAnswerIsReportedWithItsReason(t *testing.T) {
	facts := plan.Facts{Source: alert.SourceChat, Service: "backend", Namespace: "ai-data-labs", Kind: "unknown", Mode: "auto", Intent: alert.IntentHistory}
	tests := []struct {
		name string
		out  tools.Outcome
		want string
	}{
		{"failed with an error", tools.Outcome{Tool: tools.QueryHistory, Status: tools.StatusFailed, Error: "read history: list recent tool calls: database is locked"},
			"database is locked"},
		{"failed without a word", tools.Outcome{Tool: tools.QueryHistory, Status: tools.StatusFailed}, "ended failed"},
		{"an answer of another shape", tools.Outcome{Tool: tools.QueryHistory, Status: tools.StatusOK, Result: []int{1, 2}}, "not in the expected form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ask(t, start(facts).turn(tt.out), false)
			text := resp.Report.String()
			if !resp.Done() || !strings.Contains(text, "The history could not be read: ") || !strings.Contains(text, tt.want) {
				t.Errorf("reply %q (calls %v), want the reason %q", text, callsOf(resp), tt.want)
			}
		})
	}
}
