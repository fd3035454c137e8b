package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	testclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// fakeCluster is one workload of three replicas, and the writes made to it.
// Only what scaleDeployment uses is implemented.
type fakeCluster struct {
	platform.Cluster
	mu     sync.Mutex
	w      platform.Workload
	scales []platform.ScaleRequest
	events []platform.Event
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{w: platform.Workload{Ref: ref("backend"), Kind: "Deployment", Replicas: 3, ReadyReplicas: 3,
		UpdatedReplicas: 3, AvailableReplicas: 3, ResourceVersion: "7", Containers: []platform.Container{{Name: "app"}}}}
}

func (c *fakeCluster) GetWorkload(_ context.Context, r platform.WorkloadRef) (platform.Workload, error) {
	if r != c.w.Ref {
		return platform.Workload{}, platform.ErrNotFound
	}
	return c.w, nil
}

func (c *fakeCluster) ListWorkloads(context.Context, string) ([]platform.Workload, error) {
	return []platform.Workload{c.w}, nil
}

func (c *fakeCluster) Scale(_ context.Context, _ platform.WorkloadRef, req platform.ScaleRequest) (platform.Workload, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scales = append(c.scales, req)
	w := c.w
	if !req.DryRun {
		w.Replicas = req.Replicas
	}
	return w, nil
}

func (c *fakeCluster) RecordEvent(_ context.Context, _ platform.WorkloadRef, ev platform.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	return nil
}

// hotMetrics answers every query with one series: CPU at 95%, errors at 0.1%.
type hotMetrics struct{}

func (hotMetrics) Query(_ context.Context, q platform.MetricQuery) (platform.MetricResult, error) {
	v := 0.1
	if q.Metric == platform.MetricCPU {
		v = 95
	}
	var s platform.Series
	for t := q.Start; !t.After(q.End); t = t.Add(q.Step) {
		s.Samples = append(s.Samples, platform.Sample{T: t, V: v})
	}
	return platform.MetricResult{Series: []platform.Series{s}}, nil
}

// scaleTool builds scaleDeployment alone, on the fakes, at t0.
func scaleTool(c platform.Cluster, st tools.StateStore, rec tools.ScaleRecorder) tools.Tool {
	return tools.NewScaleDeployment(c, hotMetrics{}, st, rec, testclock.NewFakePassiveClock(t0), testPolicy().Scaling)
}

func TestAScaleToolAloneRunsThroughTheGate(t *testing.T) {
	c, st, rec := newFakeCluster(), tools.NewMemoryState(), &recorder{}
	reg, err := tools.New(tools.Gate{Policy: testPolicy(), Recorder: rec, Clock: testclock.NewFakePassiveClock(t0)},
		scaleTool(c, st, rec))
	if err != nil {
		t.Fatal(err)
	}
	o := reg.Invoke(context.Background(), autoRun(), tools.Call{ID: "c1", Tool: tools.ScaleDeployment, Args: json.RawMessage(scaleBackendTo4)})
	mustStatus(t, o, tools.StatusExecuted)
	if len(c.scales) != 1 || c.scales[0].Replicas != 4 || c.scales[0].ExpectedVersion != "7" {
		t.Fatalf("scales %+v, want one to 4 replicas at version 7", c.scales)
	}
	annotated, err := guard.DecodeState(c.scales[0].Annotations[guard.StateAnnotation])
	if err != nil {
		t.Fatal(err)
	}
	// One state change, computed once: the annotation and the store agree.
	stored, _ := st.Load(context.Background(), ref("backend"))
	if stored.Encode() != annotated.Encode() || !stored.LastScaleUp.Equal(t0) || stored.LastScaleTo != 4 {
		t.Errorf("stored state %s, annotation %s: want both scaled up 3 → 4 at t0", stored.Encode(), annotated.Encode())
	}
	if len(rec.Scales()) != 1 || len(rec.Calls()) != 1 || len(c.events) != 1 || c.events[0].Reason != "SuccessfulRescale" {
		t.Errorf("scales %v, calls %d, events %v: want each recorded once", rec.Scales(), len(rec.Calls()), c.events)
	}
}

func TestAScalePlanCarriesTheNextGuardStateAndChangesNothing(t *testing.T) {
	c := newFakeCluster()
	req, err := scaleTool(c, nil, nil).Decode(json.RawMessage(scaleBackendTo4))
	if err != nil {
		t.Fatal(err)
	}
	w, ok := req.(tools.WriteRequest)
	if !ok || req.Target() != "ai-data-labs/backend" {
		t.Fatalf("request %T for %q, want a write to ai-data-labs/backend", req, req.Target())
	}
	p, err := w.Plan(context.Background(), autoRun())
	if err != nil {
		t.Fatal(err)
	}
	if p.Decision.Rule != guard.RuleScaleUpCPU || p.Next == nil {
		t.Fatalf("plan %+v, want an allowed scale-up with its state change", p)
	}
	// Applied to a state stored meanwhile, the change keeps what it does not touch.
	earlier := guard.WorkloadState{Restarts: []time.Time{t0.Add(-time.Minute)}}
	if next := p.Next(earlier); !next.LastScaleUp.Equal(t0) || next.LastScaleFrom != 3 || next.LastScaleTo != 4 || len(next.Restarts) != 1 {
		t.Errorf("next state %s, want scaled up 3 → 4 at t0 keeping the restart", next.Encode())
	}
	if len(c.scales) != 0 {
		t.Errorf("planning scaled: %+v", c.scales)
	}
}

func TestAToolWithoutItsBackendIsThereAndSaysItIsNotConfigured(t *testing.T) {
	clk := testclock.NewFakePassiveClock(t0)
	pol := testPolicy()
	cases := []struct {
		tool tools.Tool
		args string
	}{
		{tools.NewScaleDeployment(nil, nil, nil, nil, clk, pol.Scaling), scaleBackendTo4},
		{tools.NewRestartPods(nil, nil, nil, clk, pol.Healing), `{"namespace":"ai-data-labs","name":"frontend"}`},
		{tools.NewUpdateResources(nil, nil, clk, pol.Healing), `{"namespace":"ai-data-labs","name":"clickhouse","memoryLimit":"8Gi"}`},
		{tools.NewDropPartitions(nil, clk, pol.Partitions), `{"database":"analytics","table":"events"}`},
		{tools.NewGetServiceStatus(nil, clk), `{"namespace":"ai-data-labs","name":"backend"}`},
		{tools.NewGetLogs(nil), `{"namespace":"ai-data-labs","name":"backend"}`},
		{tools.NewQueryMetrics(nil, clk), `{"promql":"up"}`},
		{tools.NewCheckStorage(nil, clk, pol.Partitions), `{}`},
		{tools.NewCheckHealth(nil, clk), `{}`},
		{tools.NewQueryHistory(nil, clk), `{"what":"actions"}`},
		{tools.NewCreateIncident(nil), `{"title":"backend down","service":"backend"}`},
	}
	for _, c := range cases {
		name := c.tool.Spec().Name
		t.Run(string(name), func(t *testing.T) {
			req, err := c.tool.Decode(json.RawMessage(c.args))
			if err != nil {
				t.Fatal(err)
			}
			switch q := req.(type) {
			case tools.WriteRequest:
				_, err = q.Plan(context.Background(), autoRun())
			case tools.ReadRequest:
				_, err = q.Read(context.Background(), autoRun())
			}
			if !errors.Is(err, tools.ErrNotConfigured) {
				t.Errorf("error %v, want ErrNotConfigured", err)
			}
			reg, _ := tools.New(tools.Gate{Policy: pol, Clock: clk}, c.tool)
			o := reg.Invoke(context.Background(), autoRun(), tools.Call{Tool: name, Args: json.RawMessage(c.args)})
			mustStatus(t, o, tools.StatusFailed)
			if o.Error != err.Error() {
				t.Errorf("outcome error %q, want %q", o.Error, err)
			}
		})
	}
}

// echo is a tool written outside the package: it answers its argument back.
type echo struct{ risk tools.Risk }

type echoRequest struct{ Text string }

func (echo) Spec() tools.Spec {
	return tools.Spec{Name: "echo", Description: "Echo a text.", Risk: "read", Parameters: json.RawMessage(`{"type":"object"}`)}
}
func (e echo) Risk() tools.Risk { return e.risk }
func (echo) Decode(raw json.RawMessage) (tools.Request, error) {
	var q echoRequest
	if err := json.Unmarshal(raw, &q); err != nil {
		return nil, errors.Join(tools.ErrInvalidArgs, err)
	}
	return q, nil
}
func (echoRequest) Target() string            { return "echo" }
func (echoRequest) Namespace() (string, bool) { return "", false }
func (q echoRequest) Read(context.Context, *tools.Run) (tools.Answer, error) {
	return tools.Answer{Result: q.Text, Summary: "echoed"}, nil
}

func TestAToolFromOutsideThePackagePlugsIntoTheGate(t *testing.T) {
	cases := []struct {
		name   string
		risk   tools.Risk
		status tools.Status
	}{
		{"a read runs", tools.RiskRead, tools.StatusOK},
		{"a write that does not plan fails", tools.RiskWrite, tools.StatusFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg, err := tools.New(tools.Gate{Policy: testPolicy()}, echo{c.risk})
			if err != nil {
				t.Fatal(err)
			}
			o := reg.Invoke(context.Background(), autoRun(), tools.Call{Tool: "echo", Args: json.RawMessage(`{"Text":"hi"}`)})
			mustStatus(t, o, c.status)
			if c.status == tools.StatusOK && (o.Result != "hi" || o.Target != "echo") {
				t.Errorf("result %v target %q", o.Result, o.Target)
			}
		})
	}
}

func TestNewRefusesTwoToolsOfOneName(t *testing.T) {
	if _, err := tools.New(tools.Gate{}, echo{}, echo{}); !errors.Is(err, tools.ErrDuplicateTool) {
		t.Errorf("error %v, want ErrDuplicateTool", err)
	}
}
