package tune_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/tune"
	"github.com/duet-company/ops-skill/tools"
)

// bigHistory records 100,000 alerts over 30 days on 20 services (a third
// needing no action), 10,000 scale events alternating up and down, and
// 10,000 restarts and refusals.
func bigHistory(b *testing.B) *store.Store {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.MemoryPath, testingclock.NewFakeClock(start))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	kinds := []string{"cpu", "memory", "health", "error_rate", "disk"}
	outcomes := []string{store.OutcomeResolved, store.OutcomeNoAction, store.OutcomeEscalated}
	for i := range 100_000 {
		svc := fmt.Sprintf("svc-%02d", i%20)
		at := start.Add(time.Duration(i) * 26 * time.Second)
		_, err := st.RecordAlert(ctx, store.AlertRecord{ReceivedAt: at, FinishedAt: at.Add(time.Minute), Source: store.SourceText,
			Fingerprint: svc + kinds[i%5], Service: svc, Namespace: "ns", Kind: kinds[i%5], Summary: "alert",
			Env: store.EnvSimulated, Outcome: outcomes[i%3], Planner: "rules"})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10_000 {
		at := start.Add(time.Duration(i) * 4 * time.Minute)
		from, to := int32(3), int32(4)
		if i%2 == 1 {
			from, to = 4, 3
		}
		if _, err := st.RecordScaleEvent(ctx, store.ScaleEvent{At: at, Namespace: "ns", Name: fmt.Sprintf("svc-%02d", i%20),
			From: from, To: to, Rule: guard.RuleScaleUpCPU, Env: store.EnvSimulated}); err != nil {
			b.Fatal(err)
		}
		verdict, rule := store.VerdictExecuted, guard.RuleRestartRollout
		if i%3 == 0 {
			verdict, rule = store.VerdictRefuse, guard.RuleRestartBudget
		}
		if _, err := st.RecordToolCall(ctx, store.ToolCallRecord{At: at, Tool: string(tools.RestartPods), Target: fmt.Sprintf("ns/svc-%02d", i%20),
			Args: `{"name":"x"}`, Verdict: verdict, Rule: rule, Write: true, Env: store.EnvSimulated}); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkTune100kAlerts10kScales reads the period and analyses it, as
// `ops-skill tune --since 30d` does.
func BenchmarkTune100kAlerts10kScales(b *testing.B) {
	st := bigHistory(b)
	ctx := context.Background()
	pol := guard.Policy{Scaling: guard.DefaultScalingPolicy(), Healing: guard.DefaultHealingPolicy(), Alerting: guard.DefaultAlertPolicy()}
	f := store.PeriodFilter{Since: start}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var h tune.History
		var err error
		if h.Alerts, err = st.AlertsInPeriod(ctx, f); err != nil {
			b.Fatal(err)
		}
		if h.Scales, err = st.ScaleEventsInPeriod(ctx, f); err != nil {
			b.Fatal(err)
		}
		if h.Calls, err = st.WritesInPeriod(ctx, f); err != nil {
			b.Fatal(err)
		}
		if h.Decisions, err = st.ListDecisions(ctx, store.DecisionFilter{Since: start}); err != nil {
			b.Fatal(err)
		}
		rep := tune.Analyse(h, tune.Options{Since: start, Policy: pol})
		if len(rep.Alerts) == 0 || len(rep.Findings) == 0 {
			b.Fatalf("%d alert rows, %d findings", len(rep.Alerts), len(rep.Findings))
		}
	}
}

// BenchmarkAnalyse100kAlerts10kScales is the analysis alone, on records
// already read.
func BenchmarkAnalyse100kAlerts10kScales(b *testing.B) {
	st := bigHistory(b)
	ctx := context.Background()
	pol := guard.Policy{Scaling: guard.DefaultScalingPolicy(), Healing: guard.DefaultHealingPolicy(), Alerting: guard.DefaultAlertPolicy()}
	f := store.PeriodFilter{Since: start}
	var h tune.History
	var err error
	if h.Alerts, err = st.AlertsInPeriod(ctx, f); err != nil {
		b.Fatal(err)
	}
	if h.Scales, err = st.ScaleEventsInPeriod(ctx, f); err != nil {
		b.Fatal(err)
	}
	if h.Calls, err = st.WritesInPeriod(ctx, f); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tune.Analyse(h, tune.Options{Since: start, Policy: pol})
	}
}
