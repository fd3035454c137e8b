//go:build integration

package prom

import (
	"context"
	"encoding/json"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// oneWorkload is a Cluster holding one Deployment; it records scales.
type oneWorkload struct {
	w      platform.Workload
	scales []int32
}

func (c *oneWorkload) GetWorkload(_ context.Context, ref platform.WorkloadRef) (platform.Workload, error) {
	if ref != c.w.Ref {
		return platform.Workload{}, platform.ErrNotFound
	}
	return c.w, nil
}

func (c *oneWorkload) ListWorkloads(context.Context, string) ([]platform.Workload, error) {
	return []platform.Workload{c.w}, nil
}

func (c *oneWorkload) Scale(_ context.Context, _ platform.WorkloadRef, req platform.ScaleRequest) (platform.Workload, error) {
	c.scales = append(c.scales, req.Replicas)
	c.w.Replicas = req.Replicas
	return c.w, nil
}

func (c *oneWorkload) RecordEvent(context.Context, platform.WorkloadRef, platform.Event) error {
	return nil
}

func (c *oneWorkload) RolloutRestart(context.Context, platform.WorkloadRef, platform.RestartRequest) (platform.Workload, error) {
	return platform.Workload{}, platform.ErrUnsupported
}

func (c *oneWorkload) EvictPod(context.Context, platform.WorkloadRef, string, bool) error {
	return platform.ErrUnsupported
}

func (c *oneWorkload) SetResources(context.Context, platform.WorkloadRef, platform.ResourceRequest) (platform.Workload, error) {
	return platform.Workload{}, platform.ErrUnsupported
}

func (c *oneWorkload) RecycleStalledPods(context.Context, platform.WorkloadRef, platform.RecycleRequest) (platform.RecycleResult, error) {
	return platform.RecycleResult{}, platform.ErrUnsupported
}

func (c *oneWorkload) Logs(context.Context, platform.WorkloadRef, platform.LogQuery) ([]platform.LogLine, error) {
	return nil, platform.ErrUnsupported
}

// TestHighCPUIncidentThroughTheTools plays the metric side of the spec's
// "Backend service CPU at 85% for 5 minutes" incident against real
// Prometheus data through the real tools: queryMetrics over 15 minutes, then
// scaleDeployment, whose guard reads cpu and error rate from Prometheus.
func TestHighCPUIncidentThroughTheTools(t *testing.T) {
	srv := historyServer(t)
	c := historyClient(t, srv, nil)
	ref := platform.WorkloadRef{Namespace: "backfill", Name: "backend"}
	cluster := &oneWorkload{w: platform.Workload{Ref: ref, Kind: "Deployment", Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}}
	pol := guard.DefaultScalingPolicy()
	reg := tools.NewRegistry(tools.Deps{Cluster: cluster, Metrics: c, Clock: clocktesting.NewFakePassiveClock(hist),
		Policy: tools.Policy{Scope: guard.Scope{AllowedNamespaces: []string{"backfill"}}, Scaling: pol}})
	run := tools.NewRun(1, guard.ModeAuto, nil, 5)

	q := call(t, reg, run, "queryMetrics", map[string]any{"namespace": "backfill", "name": "backend", "metric": "cpu_utilization", "range": "15m"})
	sum, ok := q.Result.(tools.MetricSummary)
	if q.Status != tools.StatusOK || !ok || len(sum.Series) != 1 || sum.Series[0].Min < 84.99 || sum.Series[0].Samples < 30 {
		t.Fatalf("queryMetrics: %s %+v %s", q.Status, q.Result, q.Error)
	}
	afterQuery := c.Stats()
	s := call(t, reg, run, "scaleDeployment", map[string]any{"namespace": "backfill", "name": "backend", "replicas": 4})
	if s.Status != tools.StatusExecuted || len(cluster.scales) != 1 || cluster.scales[0] != 4 {
		t.Fatalf("scaleDeployment: %s %s %s %s (scales %v)", s.Status, s.Rule, s.Reason, s.Error, cluster.scales)
	}
	end := c.Stats()
	t.Logf("round trips: queryMetrics %d request(s); scaleDeployment %d request(s); incident %d Prometheus requests",
		afterQuery.Requests, end.Requests-afterQuery.Requests, end.Requests)
	if end.Requests != 3 {
		t.Fatalf("%d Prometheus requests, want 3 (one per query, POST accepted)", end.Requests)
	}
}

func call(t *testing.T, reg *tools.Registry, run *tools.Run, tool string, args map[string]any) tools.Outcome {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	return reg.Invoke(context.Background(), run, tools.Call{ID: tool, Tool: tools.Name(tool), Args: raw})
}
