package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

var testStart = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

const testToken = "test-token-4f1c"

// fakeRunner records the alerts it handles. When gate is set, each Handle
// waits for a value on it (or for ctx); started receives each alert first.
type fakeRunner struct {
	mu      sync.Mutex
	alerts  []alert.Alert
	started chan alert.Alert
	gate    chan struct{}
	result  agent.Summary
}

func (f *fakeRunner) Handle(ctx context.Context, a alert.Alert) agent.Summary {
	f.mu.Lock()
	f.alerts = append(f.alerts, a)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- a
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			s := f.result // what the run did before it was cancelled
			s.Resolution, s.Error = agent.Failed, "cancelled: "+ctx.Err().Error()
			return s
		}
	}
	s := f.result
	if s.Resolution == "" {
		s.Resolution = agent.Resolved
	}
	return s
}

func (f *fakeRunner) handled() []alert.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]alert.Alert(nil), f.alerts...)
}

// testEnv is a server on a fake clock, an in-memory history and a fake runner.
type testEnv struct {
	s      *Server
	clock  *clocktesting.FakeClock
	store  *store.Store
	runner *fakeRunner
	reg    *tools.Registry
}

// quietConfig is a configuration with every loop off.
func quietConfig() Config {
	c := DefaultConfig()
	c.Auth = Auth{Token: testToken}
	c.HealthInterval, c.ScalePeriod, c.EscalationPeriod, c.PrunePeriod = 0, 0, 0, 0
	return c
}

func testPolicy() tools.Policy {
	return tools.Policy{Scope: guard.Scope{AllowedNamespaces: []string{"ai-data-labs"}}, Scaling: guard.DefaultScalingPolicy(),
		Healing: guard.DefaultHealingPolicy(), Partitions: guard.DefaultPartitionPolicy(), Alerting: guard.DefaultAlertPolicy(), NotifyEnabled: true}
}

func newTestEnv(t *testing.T, cfg Config, deps tools.Deps) *testEnv {
	t.Helper()
	return newTestEnvAt(t, cfg, deps, store.MemoryPath)
}

// newTestEnvAt is newTestEnv with the store at location.
func newTestEnvAt(t *testing.T, cfg Config, deps tools.Deps, location string) *testEnv {
	t.Helper()
	fc := clocktesting.NewFakeClock(testStart)
	st, err := store.Open(context.Background(), location, fc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if deps.Clock == nil {
		deps.Clock = fc
	}
	deps.Policy = testPolicy()
	reg := tools.NewRegistry(deps)
	r := &fakeRunner{}
	s, err := New(cfg, Deps{
		NewRunner: func(agent.Sink, tools.Approver) Runner { return r },
		Registry:  reg, Parser: alert.Parser{Namespace: "ai-data-labs", Services: []string{"backend", "clickhouse", "frontend"}, Aliases: alert.DefaultAliases()},
		Store: st, Env: store.EnvSimulated, Mode: guard.ModeAuto, Now: fc.Now, Clock: fc, Elector: Solo{ID: "test-replica"},
		Prometheus: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{s: s, clock: fc, store: st, runner: r, reg: reg}
}

// lead makes the server the leader until the test ends.
func (e *testEnv) lead(t *testing.T) *term {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tm := e.s.startTerm(ctx)
	t.Cleanup(func() {
		cancel()
		e.s.endTerm(tm)
	})
	return tm
}

// payload is an Alertmanager webhook with one alert per fingerprint given.
func payload(t *testing.T, status string, alerts ...alert.WebhookAlert) []byte {
	t.Helper()
	w := map[string]any{"version": "4", "groupKey": `{}:{alertname="BackendHighCPU"}`, "status": status, "receiver": "ops-skill",
		"groupLabels": map[string]string{"alertname": "BackendHighCPU"}, "commonLabels": map[string]string{}, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager:9093", "alerts": alerts, "truncatedAlerts": 0}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cpuAlert is a firing CPU alert on service, with its own fingerprint.
func cpuAlert(service, fp string) alert.WebhookAlert {
	return alert.WebhookAlert{Status: "firing", Fingerprint: fp, StartsAt: testStart.Add(-10 * time.Minute),
		Labels:      map[string]string{"alertname": "HighCPU", "namespace": "ai-data-labs", "service": service},
		Annotations: map[string]string{"summary": fmt.Sprintf("%s service CPU at 85%% for 5 minutes", service)}}
}

func resolvedOf(a alert.WebhookAlert) alert.WebhookAlert {
	a.Status, a.EndsAt = "resolved", testStart
	return a
}

// fakeHealth answers health checks from a table.
type fakeHealth struct {
	mu      sync.Mutex
	results map[string]platform.HealthResult
	order   []string
}

func (h *fakeHealth) set(r platform.HealthResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.results == nil {
		h.results = map[string]platform.HealthResult{}
	}
	if _, ok := h.results[r.Service]; !ok {
		h.order = append(h.order, r.Service)
	}
	h.results[r.Service] = r
}

func (h *fakeHealth) Services() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.order...)
}

func (h *fakeHealth) Check(_ context.Context, service string) (platform.HealthResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.results[service]
	if !ok {
		return platform.HealthResult{}, platform.ErrNotFound
	}
	return r, nil
}

// waitFor receives from ch within a bound, or fails the test.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// metricValue reads the value of a counter or gauge.
func metricValue(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 1)
	go func() { c.Collect(ch); close(ch) }()
	var sum float64
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			continue
		}
		switch {
		case d.Counter != nil:
			sum += d.Counter.GetValue()
		case d.Gauge != nil:
			sum += d.Gauge.GetValue()
		}
	}
	return sum
}
