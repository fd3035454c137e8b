package tui

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	testclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

var at = time.Date(2026, 2, 16, 10, 0, 0, 0, time.UTC)

// sec is at plus n seconds: event times on the agent's clock.
func sec(n int) time.Time { return at.Add(time.Duration(n) * time.Second) }

const header = "Planner: rules (no LLM configured) · Platform: simulated (scenario high-cpu)"

func testOptions(clk *testclock.FakeClock) Options {
	return Options{Header: header, NoColor: true, In: strings.NewReader(""), Clock: clk,
		Dashboard: func(service string) string { return "http://grafana:3000/d/" + service }}
}

// newIncident is an incident view at 80 columns, unbounded height, with a
// fake clock, whose work does nothing (the tests feed events themselves).
func newIncident(t *testing.T) (*Model, *testclock.FakeClock) {
	t.Helper()
	clk := testclock.NewFakeClock(at)
	m := NewIncident(context.Background(), testOptions(clk), func(context.Context) error { return nil })
	m.Update(tea.WindowSizeMsg{Width: 80})
	return m, clk
}

func feed(m *Model, events ...agent.Event) {
	for _, e := range events {
		m.Update(eventMsg{e: e})
	}
}

func args(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

var backend = map[string]any{"namespace": "ai-data-labs", "name": "backend"}

func read(id string, ph agent.Phase, tool, summary string, n int) []agent.Event {
	return []agent.Event{
		agent.ToolCalled{At: sec(n), Phase: ph, ID: id, Tool: tools.Name(tool), Args: args(backend), By: "code"},
		agent.ToolDone{At: sec(n), Phase: ph, ID: id, Outcome: tools.Outcome{Tool: tools.Name(tool), Status: tools.StatusOK,
			Target: "ai-data-labs/backend", Summary: summary, Result: map[string]any{"last": 85, "trend": "flat"}}},
	}
}

// The high-CPU incident of the spec, as the agent emits it, cut into phases.
var (
	cpuAlert = alert.Alert{Source: "text", Text: "Alert: Backend service CPU at 85% for 5 minutes", Service: "backend", Namespace: "ai-data-labs"}

	startEvents = []agent.Event{
		agent.RunStarted{At: sec(0), Alert: cpuAlert, Planner: "rules", Mode: "auto", Env: "simulated",
			Where: platform.Where{Kind: platform.WhereSimulated, Namespace: "ai-data-labs", Scenario: "high-cpu"}},
		agent.PhaseStarted{At: sec(0), Phase: agent.PhaseCheck},
	}
	checkEvents = append(read("snap-1", agent.PhaseCheck, "getServiceStatus", "ai-data-labs/backend: Healthy, 3/3 ready", 1),
		read("snap-2", agent.PhaseCheck, "queryMetrics", "cpu_utilization of ai-data-labs/backend over 15m: last 85%, min 85, max 85, flat", 2)...)
	analyseEvents = append(append([]agent.Event{agent.PhaseStarted{At: sec(3), Phase: agent.PhaseAnalys}},
		read("rules-0-0", agent.PhaseAnalys, "queryMetrics", "request_rate of ai-data-labs/backend over 30m: last 430 req/s, rising", 4)...),
		agent.Reported{At: sec(5), Phase: agent.PhaseAnalys, Report: plan.Report{Diagnosis: []string{"Service: backend, 3 replicas, Healthy", "CPU: 85% now"}, Decision: "scale up from 3 to 4 replicas."}})
	scaleCall = agent.ToolCalled{At: sec(6), Phase: agent.PhaseAction, ID: "rules-1-0", Tool: "scaleDeployment",
		Args: args(map[string]any{"namespace": "ai-data-labs", "name": "backend", "replicas": 4, "reason": "sustained high CPU"}), By: "rules"}
	scaleDone = agent.ToolDone{At: sec(7), Phase: agent.PhaseAction, ID: "rules-1-0", Verdict: "allow", From: 3, To: 4,
		Outcome: tools.Outcome{Tool: "scaleDeployment", Risk: tools.RiskWrite, Status: tools.StatusExecuted, Target: "ai-data-labs/backend",
			Summary: "scale ai-data-labs/backend from 3 to 4 replicas", Rule: "scale_up.cpu", Params: map[string]any{"from": 3, "requested": 4, "to": 4}}}
	actionEvents = []agent.Event{scaleCall, scaleDone,
		agent.Reported{At: sec(7), Phase: agent.PhaseNotify, Final: true, Report: plan.Report{Text: "Scaled backend. Verification follows."}}}
	verifyEvents = append([]agent.Event{agent.PhaseStarted{At: sec(8), Phase: agent.PhaseVerify},
		agent.Waiting{At: sec(8), Until: sec(128), For: units.Seconds(2 * time.Minute), Reason: "the scale of ai-data-labs/backend", Virtual: true}},
		append(read("code-3", agent.PhaseVerify, "queryMetrics", "cpu_utilization of ai-data-labs/backend: 45%", 128),
			agent.Verified{At: sec(128), Signal: "CPU", Before: "85%", After: "45%", Result: "resolved", Detail: "CPU after 2m: 45% (was 85%)", Waited: units.Seconds(2 * time.Minute)})...)
	notifyEvents = []agent.Event{
		agent.PhaseStarted{At: sec(128), Phase: agent.PhaseNotify},
		agent.Notified{At: sec(129), Channel: "webhook", Title: "ops-skill: Scaled", Delivered: true},
	}
	summaryEvent = agent.Summary{At: sec(129), Alert: cpuAlert.Text, Target: "ai-data-labs/backend", Resolution: agent.Resolved,
		Headline: "Scaled ai-data-labs/backend from 3 to 4 replicas", Planner: "rules", Mode: "auto", TimeToResolution: units.Seconds(2 * time.Minute),
		Actions:  []agent.Action{{Tool: "scaleDeployment", Target: "ai-data-labs/backend", Result: "scale ai-data-labs/backend from 3 to 4 replicas", Status: "executed", Rule: "scale_up.cpu"}},
		Refusals: []agent.Refusal{}}
)

// upTo joins the event groups of a run.
func upTo(groups ...[]agent.Event) []agent.Event {
	var out []agent.Event
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// clampDone is a scale the guard clamped to the maximum.
var clampDone = agent.ToolDone{At: sec(7), Phase: agent.PhaseAction, ID: "rules-1-0", Verdict: "clamp", From: 9, To: 10,
	Outcome: tools.Outcome{Tool: "scaleDeployment", Risk: tools.RiskWrite, Status: tools.StatusExecuted, Target: "ai-data-labs/backend",
		Summary: "scale ai-data-labs/backend from 9 to 10 replicas", Rule: "max_replicas", Reason: "12 replicas asked, 10 is the maximum",
		Params: map[string]any{"from": 9, "requested": 12, "to": 10}}}

// refuseDone is a scale the guard refused.
var refuseDone = agent.ToolDone{At: sec(7), Phase: agent.PhaseAction, ID: "rules-1-0", Verdict: "refuse", From: 3, To: 3,
	Outcome: tools.Outcome{Tool: "scaleDeployment", Risk: tools.RiskWrite, Status: tools.StatusRefused, Target: "ai-data-labs/backend",
		Summary: "refused", Rule: "scale_up.cpu", Reason: "CPU 40% is not above 80%"}}

// scalePlan is what the gate asks the operator about in approve mode.
var scalePlan = tools.Plan{Target: "ai-data-labs/backend", Summary: "scale ai-data-labs/backend from 3 to 4 replicas",
	Params:   map[string]any{"from": 3, "requested": 4, "to": 4},
	Decision: guard.Decision{Verdict: guard.Allow, Rule: "scale_up.cpu", Reason: "CPU 85% above 80% for 15m"}}

// onCluster is the high-CPU incident on cluster prod: the same events, with
// the run started on a cluster (shop/backend) instead of the simulated platform.
func onCluster(events []agent.Event) []agent.Event {
	out := make([]agent.Event, len(events))
	for i, e := range events {
		if rs, ok := e.(agent.RunStarted); ok {
			rs.Env = "prod-admin"
			rs.Where = platform.Where{Kind: platform.WhereCluster, Cluster: "prod", Context: "prod-admin", Server: "https://10.0.0.1:6443", Namespace: "ai-data-labs"}
			e = rs
		}
		out[i] = e
	}
	return out
}

// dropPlan is the approval of the disk-space incident's partition drop.
var dropPlan = tools.Plan{Target: "analytics.events", Summary: "drop 5 partitions of analytics.events older than 90 days (200 GB)",
	Params:     map[string]any{"partitions": 5, "bytes": "200 GB", "retention": "90 days"},
	Partitions: []string{"202603", "202604", "202605", "202606", "202607"},
	Decision:   guard.Decision{Verdict: guard.Allow, Rule: "partition.retention", Reason: "drop 5 partitions of analytics.events older than 90 days (200 GB)"}}
