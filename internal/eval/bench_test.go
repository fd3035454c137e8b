package eval_test

import (
	"context"
	"os"
	"testing"

	"github.com/duet-company/ops-skill/internal/eval"
)

// BenchmarkEvalSuiteRules runs the whole scenario suite once with the rules
// planner, each scenario on a fresh simulated platform with its own in-memory
// history: what `ops-skill eval` costs per suite and per scenario.
func BenchmarkEvalSuiteRules(b *testing.B) {
	cases, err := eval.LoadSuite(os.DirFS(scenarioDir), "")
	if err != nil {
		b.Fatal(err)
	}
	r := runner()
	b.ReportAllocs()
	for b.Loop() {
		rep, err := r.Evaluate(context.Background(), eval.RulesModel(), cases)
		if err != nil || rep.Total.Unsafe != 0 {
			b.Fatalf("err %v, unsafe %d", err, rep.Total.Unsafe)
		}
	}
	b.ReportMetric(float64(len(cases)), "scenarios/op")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(len(cases)), "ms/scenario")
}
