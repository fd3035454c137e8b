package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/tools"
)

// scenarios is the real scenario directory shared with the simulator and the eval suite.
var scenarios = os.DirFS("../internal/sim/scenarios")

// t0 is the virtual start of every simulated platform in these tests.
var t0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

const ns = "ai-data-labs"

func ref(name string) platform.WorkloadRef { return platform.WorkloadRef{Namespace: ns, Name: name} }

// loadSim builds the simulated platform of a scenario at t0.
func loadSim(tb testing.TB, name string) *sim.Platform {
	tb.Helper()
	sc, err := sim.LoadScenario(scenarios, name)
	if err != nil {
		tb.Fatalf("LoadScenario(%s): %v", name, err)
	}
	return sim.New(sc, t0)
}

// testPolicy is the policy app builds from the configuration defaults
// (config.Defaults through policy.FromConfig; TestTestPolicyIsTheDefaultPolicy keeps them equal).
func testPolicy() tools.Policy {
	return tools.Policy{
		Scope: guard.Scope{AllowedNamespaces: []string{ns}},
		Scaling: guard.ScalingPolicy{Enabled: true, Min: 2, Max: 10,
			Up:         guard.Rule{Threshold: 80, Sustain: 5 * time.Minute, Step: 1},
			Down:       guard.Rule{Threshold: 30, Sustain: 15 * time.Minute, Step: 1},
			Out:        guard.Rule{Threshold: 10, Sustain: 2 * time.Minute, Step: 2},
			SampleStep: tools.SampleStep, OptOutAnnotation: "ops-skill.io/disabled"},
		Healing: guard.HealingPolicy{Enabled: true, RestartThreshold: 3, ReplacementThreshold: 5,
			RestartBudgetPerHour: 3, MemoryMaxFactor: 2, MemoryCeiling: 16 << 30},
		Partitions: guard.PartitionPolicy{Workload: "clickhouse", Retention: 90 * 24 * time.Hour, MinKeep: 3, MaxPerRun: 50,
			MaxBytesPerRun: 500_000_000_000},
		Volumes:       guard.VolumePolicy{MaxGrowthFactor: 1.5, Ceiling: 1 << 40},
		Alerting:      guard.AlertPolicy{Enabled: true, Cooldown: 5 * time.Minute, EscalateAfter: time.Hour},
		NotifyEnabled: true,
	}
}

// env is one registry wired to one simulated platform, as app wires it.
type env struct {
	p     *sim.Platform
	reg   *tools.Registry
	rec   *recorder
	state *tools.MemoryState
	inc   *incidents
}

// option adjusts the dependencies before the registry is built.
type option func(*tools.Deps)

func withPolicy(f func(*tools.Policy)) option { return func(d *tools.Deps) { f(&d.Policy) } }

// wrapCluster puts a wrapper around the sim's cluster port.
func wrapCluster(f func(platform.Cluster) platform.Cluster) option {
	return func(d *tools.Deps) { d.Cluster = f(d.Cluster) }
}

func withMetrics(m platform.Metrics) option { return func(d *tools.Deps) { d.Metrics = m } }

func withoutIncidents() option { return func(d *tools.Deps) { d.Incidents = nil } }

func newEnv(tb testing.TB, scenario string, opts ...option) *env {
	tb.Helper()
	p := loadSim(tb, scenario)
	e := &env{p: p, rec: &recorder{}, state: tools.NewMemoryState(), inc: &incidents{}}
	d := tools.Deps{Cluster: p.Cluster(), Metrics: p.Metrics(), Storage: p.Storage(), Volumes: p.Volumes(), Health: p.Health(),
		Notifier: p.Notifier(), Incidents: e.inc, State: e.state, Recorder: e.rec, Clock: p.Clock(), Policy: testPolicy()}
	for _, o := range opts {
		o(&d)
	}
	e.reg = tools.NewRegistry(d)
	return e
}

// autoRun is a run in auto mode with the default write budget.
func autoRun() *tools.Run { return tools.NewRun(7, guard.ModeAuto, nil, guard.DefaultMaxWrites) }

// call invokes one tool with raw JSON args.
func (e *env) call(run *tools.Run, tool, args string) tools.Outcome {
	o := e.reg.Invoke(context.Background(), run, tools.Call{ID: "c1", Tool: tools.Name(tool), Args: json.RawMessage(args)})
	emit(o.Rule)
	return o
}

// mustStatus fails the test unless the outcome has the wanted status.
func mustStatus(tb testing.TB, o tools.Outcome, want tools.Status) {
	tb.Helper()
	if o.Status != want {
		tb.Fatalf("%s: status %q, want %q (summary %q, rule %q, reason %q, error %q)", o.Tool, o.Status, want, o.Summary, o.Rule, o.Reason, o.Error)
	}
}

// result converts an outcome's typed result to T.
func result[T any](tb testing.TB, o tools.Outcome) T {
	tb.Helper()
	v, ok := o.Result.(T)
	if !ok {
		tb.Fatalf("%s: result is %T, want %T", o.Tool, o.Result, *new(T))
	}
	return v
}

// recorder is a Recorder that keeps every record in memory.
type recorder struct {
	mu     sync.Mutex
	calls  []tools.CallRecord
	scales []scaleRecord
}

type scaleRecord struct {
	Ref      platform.WorkloadRef
	From, To int32
	Rule     string
}

func (r *recorder) RecordIntent(context.Context, tools.CallRecord) (int64, error) { return 0, nil }

func (r *recorder) RecordCall(_ context.Context, c tools.CallRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return nil
}

func (r *recorder) RecordScale(_ context.Context, _ int64, ref platform.WorkloadRef, from, to int32, rule, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scales = append(r.scales, scaleRecord{ref, from, to, rule})
	return nil
}

func (r *recorder) Calls() []tools.CallRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tools.CallRecord(nil), r.calls...)
}

func (r *recorder) Scales() []scaleRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]scaleRecord(nil), r.scales...)
}

// stateOf reads the guard state saved for a workload.
func (e *env) stateOf(r platform.WorkloadRef) guard.WorkloadState {
	st, _ := e.state.Load(context.Background(), r)
	return st
}

// incidents is an IncidentStore that numbers incidents like history does.
type incidents struct {
	mu       sync.Mutex
	opened   []string
	subjects []string // of each incident opened; one with a subject is joined
	timeline []string
}

func (s *incidents) OpenIncident(_ context.Context, req tools.IncidentRequest) (tools.IncidentResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Subject != "" {
		for i, subject := range s.subjects {
			if subject == req.Subject {
				return tools.IncidentResult{ID: fmt.Sprintf("INC-2026-11-20-%03d", i+1), Joined: true}, nil
			}
		}
	}
	s.opened = append(s.opened, req.Severity+"|"+req.Service+"|"+req.Title)
	s.subjects = append(s.subjects, req.Subject)
	return tools.IncidentResult{ID: fmt.Sprintf("INC-2026-11-20-%03d", len(s.opened))}, nil
}

func (s *incidents) AddTimeline(_ context.Context, id, kind, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeline = append(s.timeline, id+"|"+kind+"|"+text)
	return nil
}

// approver answers approve-mode questions without a person.
type approver struct {
	interactive bool
	answer      bool
	err         error
	asked       []tools.Plan
}

func (a *approver) Interactive() bool { return a.interactive }

func (a *approver) Approve(_ context.Context, p tools.Plan) (bool, error) {
	a.asked = append(a.asked, p)
	return a.answer, a.err
}

// failingMetrics fails every query with err.
type failingMetrics struct{ err error }

func (f failingMetrics) Query(context.Context, platform.MetricQuery) (platform.MetricResult, error) {
	return platform.MetricResult{}, f.err
}

// conflictOnce wraps the sim's cluster: the first n writes of each kind fail
// with platform.ErrConflict after another agent changed the object, as a real
// API server answers a stale resourceVersion.
type conflictOnce struct {
	platform.Cluster
	mu        sync.Mutex
	conflicts int
	scales    int
}

func (c *conflictOnce) Scale(ctx context.Context, ref platform.WorkloadRef, req platform.ScaleRequest) (platform.Workload, error) {
	c.mu.Lock()
	c.scales++
	first := c.conflicts > 0
	if first {
		c.conflicts--
	}
	c.mu.Unlock()
	if first {
		return platform.Workload{}, errors.Join(errors.New("scale "+ref.String()), platform.ErrConflict)
	}
	return c.Cluster.Scale(ctx, ref, req)
}
