package agent_test

import (
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/sim"
)

// BenchmarkSimulatedIncident runs the spec's high-CPU incident end to end with
// the rules planner on a fresh simulated platform per iteration: wiring, alert
// parsing, snapshot, three planner turns, the guarded scale, verification and
// the summary. "memory-history" adds a fresh SQLite history in memory.
func BenchmarkSimulatedIncident(b *testing.B) {
	sc := loadScenario(b, "high-cpu")
	for _, bc := range []struct {
		name    string
		noStore bool
	}{{"no-history", true}, {"memory-history", false}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h := newHarness(b, setup{platform: sim.New(sc, fixedStart), noStore: bc.noStore})
				if sum := h.run(); sum.Resolution != agent.Resolved {
					b.Fatalf("resolution %s: %s", sum.Resolution, sum.Headline)
				}
				if h.st != nil {
					h.st.Close() // the cleanup closes it again, harmlessly; without this they pile up
				}
			}
		})
	}
}

// BenchmarkSimulatedIncidentScriptedLLM runs the same incident with an ideal
// zero-latency model behind the OpenAI wire format: the real go-openai
// adapter, JSON over loopback HTTP, two LLM calls. The model answers from the
// conversation, not from a counter, so one server serves every iteration.
func BenchmarkSimulatedIncidentScriptedLLM(b *testing.B) {
	sc := loadScenario(b, "high-cpu")
	ideal := modelFile(b, "ideal-high-cpu.yaml")
	script := llmtest.Func(func(r llmtest.RecordedRequest) llmtest.Reply {
		if len(r.ToolResults()) == 0 {
			return ideal.Steps[0]
		}
		return ideal.Steps[1]
	})
	srv, model := scriptedModel(b, script)
	b.ReportAllocs()
	for b.Loop() {
		h := newHarness(b, setup{platform: sim.New(sc, fixedStart), planner: model, noStore: true})
		if sum := h.run(); sum.Resolution != agent.Resolved || sum.LLMCalls != 2 {
			b.Fatalf("resolution %s after %d LLM calls: %s", sum.Resolution, sum.LLMCalls, sum.Headline)
		}
	}
	b.ReportMetric(float64(srv.Calls())/float64(b.N), "llm-calls/op")
}
