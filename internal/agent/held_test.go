package agent_test

import (
	"context"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// answerer answers every approval the same way.
type answerer bool

func (answerer) Interactive() bool                                   { return true }
func (a answerer) Approve(context.Context, tools.Plan) (bool, error) { return bool(a), nil }

// TestDeclinedApprovalIsRecordedNotPaged: the operator is the human in the
// loop; declining a write opens no incident and sends nothing, approving it
// notifies as usual. Observe mode sends nothing and opens nothing.
func TestDeclinedApprovalIsRecordedNotPaged(t *testing.T) {
	cases := []struct {
		name       string
		mode       guard.Mode
		approver   tools.Approver
		sent       int
		refusal    string
		incident   bool
		resolution agent.Resolution
	}{
		{"declined", guard.ModeApprove, answerer(false), 0, guard.RuleApprovalDeclined, false, agent.Unresolved},
		{"approved", guard.ModeApprove, answerer(true), 1, "", false, agent.Resolved},
		{"observe", guard.ModeObserve, nil, 0, "", false, agent.Unresolved},
		{"auto", guard.ModeAuto, nil, 1, "", false, agent.Resolved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, setup{scenario: "high-cpu", approver: c.approver, notify: true,
				agentCfg: func(a *agent.Config) { a.Mode = c.mode }})
			s := h.agent.Handle(context.Background(), h.alert)
			if got := len(h.p.Notifications()); got != c.sent {
				t.Errorf("%d notifications sent, want %d", got, c.sent)
			}
			if (s.Incident != "") != c.incident {
				t.Errorf("incident %q, want one: %v", s.Incident, c.incident)
			}
			if s.Resolution != c.resolution {
				t.Errorf("resolution %s, want %s (%s)", s.Resolution, c.resolution, s.Headline)
			}
			if c.refusal != "" && (len(s.Refusals) == 0 || s.Refusals[0].Rule != c.refusal) {
				t.Errorf("refusals %+v, want %s", s.Refusals, c.refusal)
			}
			var held string
			for _, e := range h.events.all() {
				if n, ok := e.(agent.Notified); ok {
					held = n.Held
				}
			}
			if (c.sent == 0) != (held != "") {
				t.Errorf("held reason %q with %d sent", held, c.sent)
			}
		})
	}
}
