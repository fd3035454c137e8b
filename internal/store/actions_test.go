package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestToolCallRoundTripInCallOrder(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	alertID, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText})
	if err != nil {
		t.Fatal(err)
	}
	calls := []ToolCallRecord{
		{AlertID: alertID, At: t0.Add(time.Second), Tool: "getServiceStatus", Target: "ai-data-labs/backend",
			Args: `{"namespace":"ai-data-labs","name":"backend"}`, Verdict: VerdictAllow, Result: "3/3 ready", Env: EnvSimulated},
		{AlertID: alertID, At: t0.Add(2 * time.Second), Tool: "scaleDeployment", Target: "ai-data-labs/backend",
			Args: `{"replicas":50}`, Verdict: VerdictClamp, Rule: "max_replicas", Reason: "50 > 10", Write: true, Env: EnvSimulated},
		{AlertID: alertID, At: t0.Add(3 * time.Second), Tool: "scaleDeployment", Verdict: VerdictRefuse,
			Rule: "cooldown", Reason: "scaled 1m ago", Write: true},
		{AlertID: alertID, At: t0.Add(4 * time.Second), Tool: "dropPartitions", Verdict: VerdictDryRun, Write: true},
		{AlertID: alertID, At: t0.Add(5 * time.Second), Tool: "restartPods", Verdict: VerdictExecuted, Write: true},
		{AlertID: alertID, At: t0.Add(6 * time.Second), Tool: "queryMetrics", Verdict: VerdictError, Result: "prometheus unavailable"},
	}
	// Record out of order: the list must still come back in call time order.
	for _, i := range []int{3, 0, 5, 1, 4, 2} {
		id, err := s.RecordToolCall(ctx, calls[i])
		if err != nil {
			t.Fatal(err)
		}
		calls[i].ID = id
	}
	if _, err := s.RecordToolCall(ctx, ToolCallRecord{Tool: "queryMetrics", Verdict: VerdictAllow}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListToolCalls(ctx, alertID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, calls) {
		t.Errorf("ListToolCalls:\n got %+v\nwant %+v", got, calls)
	}

	standalone, err := s.ListToolCalls(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(standalone) != 1 || standalone[0].AlertID != 0 || !standalone[0].At.Equal(t0) {
		t.Errorf("calls without alert = %+v, want one at %v", standalone, t0)
	}
}

func TestToolCallValidation(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	cases := []struct {
		name string
		rec  ToolCallRecord
	}{
		{"empty tool", ToolCallRecord{Verdict: VerdictAllow}},
		{"unknown verdict", ToolCallRecord{Tool: "notify", Verdict: "maybe"}},
		{"empty verdict", ToolCallRecord{Tool: "notify"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.RecordToolCall(ctx, c.rec); !errors.Is(err, ErrInvalid) {
				t.Errorf("error = %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("unknown alert", func(t *testing.T) {
		if _, err := s.RecordToolCall(ctx, ToolCallRecord{AlertID: 42, Tool: "notify", Verdict: VerdictAllow}); err == nil {
			t.Error("tool call for an alert that does not exist: want foreign key error")
		}
	})
}

func TestScaleEventRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	alertID, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText})
	if err != nil {
		t.Fatal(err)
	}
	in := ScaleEvent{At: t0, Namespace: "ai-data-labs", Name: "backend", From: 3, To: 4,
		Reason: "cpu 85% > 80% for 5m", Rule: "scale_up.cpu", AlertID: alertID, Env: EnvSimulated}
	id, err := s.RecordScaleEvent(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ListScaleEvents(ctx, ScaleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	in.ID = id
	if len(got) != 1 || !reflect.DeepEqual(got[0], in) {
		t.Errorf("ListScaleEvents = %+v, want [%+v]", got, in)
	}
}

func TestScaleEventValidation(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	for name, e := range map[string]ScaleEvent{
		"empty name":        {Namespace: "ai-data-labs", From: 1, To: 2},
		"empty namespace":   {Name: "backend", From: 1, To: 2},
		"negative replicas": {Namespace: "ai-data-labs", Name: "backend", From: 1, To: -1},
		"negative from":     {Namespace: "ai-data-labs", Name: "backend", From: -3, To: 2},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.RecordScaleEvent(ctx, e); !errors.Is(err, ErrInvalid) {
				t.Errorf("error = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestListScaleEventsFilters(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	names := []string{"backend", "clickhouse"}
	envs := []string{"simulated", "prod"}
	var ids []int64
	for i := range 8 { // days -8 … -1
		id, err := s.RecordScaleEvent(ctx, ScaleEvent{At: t0.AddDate(0, 0, i-8), Namespace: "ai-data-labs",
			Name: names[i%2], Env: envs[i/4], From: int32(i), To: int32(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	pick := func(idx ...int) []int64 {
		out := make([]int64, len(idx))
		for i, x := range idx {
			out[i] = ids[x]
		}
		return out
	}
	cases := []struct {
		name string
		f    ScaleFilter
		want []int64
	}{
		{"all newest first", ScaleFilter{}, pick(7, 6, 5, 4, 3, 2, 1, 0)},
		{"since 7d", ScaleFilter{Since: t0.AddDate(0, 0, -7)}, pick(7, 6, 5, 4, 3, 2, 1)},
		{"service", ScaleFilter{Service: "clickhouse"}, pick(7, 5, 3, 1)},
		{"env", ScaleFilter{Env: "simulated"}, pick(3, 2, 1, 0)},
		{"service env since limit", ScaleFilter{Service: "backend", Env: "prod", Since: t0.AddDate(0, 0, -5), Limit: 1}, pick(6)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ListScaleEvents(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []int64
			for _, e := range got {
				gotIDs = append(gotIDs, e.ID)
			}
			if !reflect.DeepEqual(gotIDs, c.want) {
				t.Errorf("ids = %v, want %v", gotIDs, c.want)
			}
		})
	}
}

func TestListRecentToolCallsAcrossAlertsNewestFirst(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	a1, _ := s.RecordAlert(ctx, AlertRecord{Source: SourceText, Env: "prod"})
	a2, _ := s.RecordAlert(ctx, AlertRecord{Source: SourceText, Env: "prod"})
	for i, c := range []ToolCallRecord{
		{AlertID: a1, Tool: "queryMetrics", Target: "ai-data-labs/backend", Verdict: VerdictAllow, Env: "prod"},
		{AlertID: a1, Tool: "scaleDeployment", Target: "ai-data-labs/backend", Verdict: VerdictExecuted, Rule: "scale_up.cpu", Write: true, Env: "prod"},
		{AlertID: a2, Tool: "restartPods", Target: "ai-data-labs/frontend", Verdict: VerdictRefuse, Rule: "restart.budget", Write: true, Env: "prod"},
		{AlertID: a2, Tool: "scaleDeployment", Target: "ai-data-labs/backend", Verdict: VerdictRefuse, Rule: "stabilization.scale_up", Write: true, Env: "simulated"},
	} {
		c.At = clk.Now().Add(time.Duration(i) * time.Minute)
		if _, err := s.RecordToolCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListRecentToolCalls(ctx, CallFilter{WritesOnly: true, Env: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Tool != "restartPods" || got[1].Rule != "scale_up.cpu" {
		t.Fatalf("writes in prod, newest first = %+v", got)
	}
	got, _ = s.ListRecentToolCalls(ctx, CallFilter{Target: "ai-data-labs/backend", Limit: 1})
	if len(got) != 1 || got[0].Env != "simulated" {
		t.Fatalf("newest call on backend = %+v", got)
	}
	got, _ = s.ListRecentToolCalls(ctx, CallFilter{Since: clk.Now().Add(150 * time.Second)})
	if len(got) != 1 {
		t.Fatalf("since filter = %+v", got)
	}
}
