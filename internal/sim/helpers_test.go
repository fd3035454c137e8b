package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

// scenarios are the embedded scenarios, the ones the binary runs.
var scenarios = sim.Scenarios()

var t0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func ref(name string) platform.WorkloadRef {
	return platform.WorkloadRef{Namespace: "ai-data-labs", Name: name}
}

func load(t *testing.T, name string) *sim.Platform {
	t.Helper()
	sc, err := sim.LoadScenario(scenarios, name)
	if err != nil {
		t.Fatalf("LoadScenario(%s): %v", name, err)
	}
	return sim.New(sc, t0)
}

func instant(t *testing.T, p *sim.Platform, svc string, m platform.MetricName) float64 {
	t.Helper()
	res, err := p.Metrics().Query(context.Background(), platform.MetricQuery{Metric: m, Target: ref(svc)})
	if err != nil {
		t.Fatalf("query %s of %s: %v", m, svc, err)
	}
	if len(res.Series) != 1 || len(res.Series[0].Samples) != 1 {
		t.Fatalf("query %s of %s: want one sample, got %+v", m, svc, res)
	}
	return res.Series[0].Samples[0].V
}

func workload(t *testing.T, p *sim.Platform, svc string) platform.Workload {
	t.Helper()
	w, err := p.Cluster().GetWorkload(context.Background(), ref(svc))
	if err != nil {
		t.Fatalf("GetWorkload(%s): %v", svc, err)
	}
	return w
}

func health(t *testing.T, p *sim.Platform, svc string) platform.HealthResult {
	t.Helper()
	r, err := p.Health().Check(context.Background(), svc)
	if err != nil {
		t.Fatalf("health %s: %v", svc, err)
	}
	return r
}
