package tools_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/tools"
)

// BenchmarkInvokeScale measures one guarded scaleDeployment through the whole
// gate (decode, validate, scope, budget, 2 metric windows + workload + state
// read, guard decision, apply, after, record) against the simulated platform.
// Each iteration gets a fresh platform, built outside the timer.
func BenchmarkInvokeScale(b *testing.B) {
	sc, err := sim.LoadScenario(scenarios, "high-cpu")
	if err != nil {
		b.Fatal(err)
	}
	call := tools.Call{ID: "b", Tool: "scaleDeployment", Args: json.RawMessage(scaleBackendTo4)}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := sim.New(sc, t0)
		reg := tools.NewRegistry(tools.Deps{Cluster: p.Cluster(), Metrics: p.Metrics(), Storage: p.Storage(), Health: p.Health(),
			Notifier: p.Notifier(), State: tools.NewMemoryState(), Recorder: &recorder{}, Clock: p.Clock(), Policy: testPolicy()})
		run := autoRun()
		b.StartTimer()
		if o := reg.Invoke(ctx, run, call); o.Status != tools.StatusExecuted {
			b.Fatalf("status %s: %s %s", o.Status, o.Reason, o.Error)
		}
	}
}

// BenchmarkInvokeRefusedScale measures a scale the guard refuses after
// reading the metrics (the healthy scenario): the platform is not changed, so
// one platform serves every iteration.
func BenchmarkInvokeRefusedScale(b *testing.B) {
	e := newEnv(b, "healthy")
	call := tools.Call{ID: "b", Tool: "scaleDeployment", Args: json.RawMessage(scaleBackendTo4)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if o := e.reg.Invoke(ctx, autoRun(), call); o.Status != tools.StatusRefused {
			b.Fatalf("status %s", o.Status)
		}
	}
}
