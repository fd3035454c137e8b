package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDecisionsAreKeptWithTheirCallAndListedByAlertServiceAndTime(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	alert, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText, Service: "backend", IncidentID: "INC-1"})
	if err != nil {
		t.Fatal(err)
	}
	call := func(target string) int64 {
		id, err := s.RecordToolCall(ctx, ToolCallRecord{AlertID: alert, Tool: "scaleDeployment", Target: target, Verdict: VerdictExecuted, Write: true})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	c1, c2 := call("ns/backend"), call("ns/frontend")
	for _, d := range []DecisionRecord{
		{ToolCallID: c1, AlertID: alert, At: t0, Kind: DecisionScale, Target: "ns/backend", Verdict: VerdictAllow, Rule: "scale_up.cpu", From: 3, To: 4, Requested: 4, Basis: "{}"},
		{ToolCallID: c2, At: t0.Add(time.Hour), Kind: DecisionRestart, Target: "ns/frontend", Verdict: VerdictRefuse, Rule: "restart.budget", Basis: "{}"},
		// a conflict re-plans: the second decision of a call replaces the first
		{ToolCallID: c1, AlertID: alert, At: t0.Add(time.Second), Kind: DecisionScale, Target: "ns/backend", Verdict: VerdictClamp, Rule: "scale_up.step", From: 3, To: 4, Requested: 6, Basis: "{}"},
	} {
		if _, err := s.RecordDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		f    DecisionFilter
		want []string
	}{
		{"all, oldest first", DecisionFilter{}, []string{"scale_up.step", "restart.budget"}},
		{"of an alert", DecisionFilter{AlertIDs: []int64{alert}}, []string{"scale_up.step"}},
		{"of a service", DecisionFilter{Service: "frontend"}, []string{"restart.budget"}},
		{"since", DecisionFilter{Since: t0.Add(time.Minute)}, []string{"restart.budget"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ListDecisions(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var rules []string
			for _, d := range got {
				rules = append(rules, d.Rule)
			}
			if len(rules) != len(c.want) || (len(rules) > 0 && rules[0] != c.want[0]) {
				t.Errorf("rules %v, want %v", rules, c.want)
			}
		})
	}
	ids, err := s.AlertIDsOfIncident(ctx, "INC-1")
	if err != nil || len(ids) != 1 || ids[0] != alert {
		t.Errorf("AlertIDsOfIncident = %v, %v; want [%d]", ids, err, alert)
	}
}

func TestRecordDecisionRefusesAnIncompleteRecord(t *testing.T) {
	s := openMem(t, newClock())
	for _, d := range []DecisionRecord{
		{Kind: DecisionScale, Verdict: VerdictAllow, Basis: "{}"},
		{ToolCallID: 1, Kind: "memory", Verdict: VerdictAllow, Basis: "{}"},
		{ToolCallID: 1, Kind: DecisionScale, Verdict: VerdictExecuted, Basis: "{}"},
		{ToolCallID: 1, Kind: DecisionScale, Verdict: VerdictAllow},
	} {
		if _, err := s.RecordDecision(context.Background(), d); !errors.Is(err, ErrInvalid) {
			t.Errorf("RecordDecision(%+v) = %v, want ErrInvalid", d, err)
		}
	}
}
