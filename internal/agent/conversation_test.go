package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
)

// exchange is one request of a conversation and what must come of it.
type exchange struct {
	ask     string
	calls   []string // "tool target" of the planner's calls (not code's), in order
	answer  string   // in the answer
	subject string   // the conversation's subject after it
}

// Follow-ups are asked the way people ask them: the conversation supplies
// the subject of "it" and "why?", and the question of "and for frontend?".
func TestTheRulesPlannerAnswersFollowUps(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		turns    []exchange
	}{
		{"and for frontend? asks the last question of another service", "high-cpu", []exchange{
			{ask: "status of backend", calls: q("backend"), answer: "ai-data-labs/backend: Healthy, 3/3 ready; CPU 85%", subject: "backend"},
			{ask: "and for frontend?", calls: q("frontend"), answer: "ai-data-labs/frontend: Healthy, 2/2 ready; CPU 30%", subject: "frontend"},
			{ask: "what about redis?", calls: q("redis"), answer: "ai-data-labs/redis: Healthy", subject: "redis"},
		}},
		{"scale it to 3 scales the subject, through the guard", "high-cpu", []exchange{
			{ask: "status of frontend", calls: q("frontend"), subject: "frontend"},
			{ask: "scale it to 3", calls: []string{"scaleDeployment ai-data-labs/frontend"}, answer: "the guard refused (scale_up.cpu)", subject: "frontend"},
		}},
		{"why? explains the last action from the conversation", "high-cpu", []exchange{
			{ask: "how is backend?", calls: q("backend"), subject: "backend"},
			{ask: "scale it to 4", calls: []string{"scaleDeployment ai-data-labs/backend"}, answer: "Done: scale ai-data-labs/backend from 3 to 4 replicas", subject: "backend"},
			{ask: "why?", answer: "scaleDeployment executed: scale ai-data-labs/backend from 3 to 4 replicas [rule scale_up.cpu", subject: "backend"},
		}},
		{"why? without an action reads the history of the subject", "healthy", []exchange{
			{ask: "status of backend", calls: q("backend"), subject: "backend"},
			{ask: "why?", calls: []string{"queryHistory ai-data-labs/backend"}, answer: "I find no action on backend", subject: "backend"},
		}},
		{"a follow-up with nothing before it says so", "healthy", []exchange{
			{ask: "and for frontend?", answer: "Follow up on what?", subject: "frontend"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, setup{scenario: tt.scenario})
			conv := h.agent.NewConversation()
			parser := h.parser()
			for i, ex := range tt.turns {
				before := len(h.events.all())
				req, err := parser.ParseRequest(ex.ask, h.p.Now())
				if err != nil {
					t.Fatal(err)
				}
				sum := conv.Ask(context.Background(), req)
				if got := plannerCalls(h.events.all()[before:]); strings.Join(got, ", ") != strings.Join(ex.calls, ", ") {
					t.Errorf("turn %d %q: planner calls %v, want %v", i+1, ex.ask, got, ex.calls)
				}
				if !strings.Contains(sum.Explanation, ex.answer) {
					t.Errorf("turn %d %q: answer %q lacks %q", i+1, ex.ask, sum.Explanation, ex.answer)
				}
				if got := conv.Context().Subject; got != (platform.WorkloadRef{Namespace: namespace, Name: ex.subject}) {
					t.Errorf("turn %d %q: subject %v, want %s", i+1, ex.ask, got, ex.subject)
				}
			}
		})
	}
}

// q is the CPU query the rules planner makes to show a service's status.
func q(service string) []string { return []string{"queryMetrics ai-data-labs/" + service} }

// plannerCalls lists the calls planners asked for among events, as "tool target".
func plannerCalls(events []agent.Event) []string {
	var out []string
	for _, e := range events {
		if d, ok := e.(agent.ToolDone); ok && !strings.HasPrefix(d.ID, "code-") && !strings.HasPrefix(d.ID, "snap-") {
			out = append(out, string(d.Outcome.Tool)+" "+d.Outcome.Target)
		}
	}
	return out
}

// Code fills in a follow-up before any planner sees it, so a model and the
// rules planner get the same subject, and the request's own words win.
func TestFollowUpTakesWhatTheRequestLeavesUnsaid(t *testing.T) {
	ctx := plan.Context{Subject: platform.WorkloadRef{Namespace: namespace, Name: "backend"}, LastIntent: alert.IntentStatus, LastKind: alert.KindUnknown}
	tests := []struct {
		req      alert.Alert
		intent   alert.Intent
		service  string
		replicas int32
	}{
		{alert.Alert{Intent: alert.IntentFollowUp, Service: "frontend", Namespace: namespace}, alert.IntentStatus, "frontend", 0},
		{alert.Alert{Intent: alert.IntentScale, Replicas: 3}, alert.IntentScale, "backend", 3},
		{alert.Alert{Intent: alert.IntentHistory}, alert.IntentHistory, "backend", 0},
		{alert.Alert{Intent: alert.IntentHistory, Service: "redis", Namespace: namespace}, alert.IntentHistory, "redis", 0},
		{alert.Alert{Intent: alert.IntentHealth}, alert.IntentHealth, "", 0}, // the platform's health has no subject
	}
	for _, tt := range tests {
		got := agent.FollowUp(tt.req, ctx)
		if got.Intent != tt.intent || got.Service != tt.service || got.Replicas != tt.replicas {
			t.Errorf("FollowUp(%+v) = intent %s service %q replicas %d; want %s %q %d", tt.req, got.Intent, got.Service, got.Replicas, tt.intent, tt.service, tt.replicas)
		}
	}
}
