package agent_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/compose"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llmplanner"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/planner"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// The harness composes the agent as the CLI does (compose.New): the simulated
// platform behind the tool registry, the guard policy from the default
// configuration, the rules planner as planner and fallback, the rendered
// system prompt, and (optionally) the SQLite history in memory.

const (
	scenarioDir = "../sim/scenarios"
	modelDir    = "../eval/models"
	namespace   = "ai-data-labs"
)

// fixedStart is the virtual time every simulated platform starts at.
var fixedStart = time.Date(2026, 2, 16, 9, 30, 0, 0, time.UTC)

// setup describes one run.
type setup struct {
	scenario   string
	alert      string                         // default: the scenario's alert
	parse      func(alert.Parser) alert.Alert // overrides alert (e.g. an Alertmanager payload)
	planner    llm.Client                     // nil: the rules planner
	noFallback bool
	noStore    bool                            // no history: an in-memory incident store instead
	conf       func(*config.Config)            // adjusts the configuration before wiring
	agentCfg   func(*agent.Config)             // adjusts the agent's bounds after wiring
	modelCfg   func(*llmplanner.Config)        // adjusts what the LLM planner sends
	planners   func(plan.Planner) plan.Planner // wraps the planners (to watch them)
	platform   *sim.Platform                   // reuse a platform (and state) across runs
	state      tools.StateStore                // reuse guard state across runs
	wrap       func(*tools.Deps)               // wraps backends (e.g. a barrier)
	waiter     func(agent.Waiter) agent.Waiter // wraps the settle wait
	ports      func(*compose.Platform)         // adjusts the platform's ports (rollouts, freshness)
	approver   tools.Approver                  // asks in approve mode; nil: none
	notify     bool                            // deliver notifications to the platform's recorder
	notifier   platform.Notifier               // deliver notifications here instead (e.g. a notify.Fanout)
	store      *store.Store                    // reuse a history across runs (as a process after a crash does)
	resume     *agent.ResumePolicy             // resume the unfinished runs of the history, as this says
}

// harness is one wired agent on one simulated platform.
type harness struct {
	t      testing.TB
	p      *sim.Platform
	cfg    config.Config
	reg    *tools.Registry
	st     *store.Store
	state  tools.StateStore
	rules  *planner.Rules
	agent  *agent.Agent
	alert  alert.Alert
	start  sim.State
	parts  []platform.Partition // the partitions at the start, oldest first
	events *recorder
	system string
}

func loadScenario(t testing.TB, name string) sim.Scenario {
	t.Helper()
	sc, err := sim.LoadScenario(os.DirFS(scenarioDir), name)
	if err != nil {
		t.Fatalf("load scenario %s: %v", name, err)
	}
	return sc
}

func newHarness(t testing.TB, s setup) *harness {
	t.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Kubernetes.AllowedNamespaces = []string{cfg.Kubernetes.Namespace}
	if s.conf != nil {
		s.conf(&cfg)
	}
	p := s.platform
	if p == nil {
		p = sim.New(loadScenario(t, s.scenario), fixedStart)
	}
	h := &harness{t: t, p: p, cfg: cfg, events: &recorder{}, state: s.state}
	if h.state == nil {
		h.state = tools.NewMemoryState()
	}
	plat := compose.Simulated(p, cfg.Kubernetes.Namespace)
	plat.State = h.state
	switch {
	case s.notifier != nil:
		plat.Notifier = s.notifier
	case !s.notify:
		plat.Notifier = nil
	}
	if s.ports != nil {
		s.ports(&plat)
	}
	if s.waiter != nil {
		plat.Waiter = s.waiter(p)
	}
	mode, err := guard.ParseMode(cfg.Agent.Mode)
	if err != nil {
		t.Fatal(err)
	}
	o := compose.Options{Config: cfg, Mode: mode, Platform: plat, Model: s.planner, NoFallback: s.noFallback,
		Tune: s.agentCfg, TuneModel: s.modelCfg, WrapTools: s.wrap, WrapPlanners: s.planners}
	if s.noStore {
		o.Incidents = &memIncidents{clock: p.Clock().Now}
	} else {
		st := s.store
		if st == nil {
			if st, err = store.Open(ctx, store.MemoryPath, p.Clock()); err != nil {
				t.Fatalf("open history: %v", err)
			}
			t.Cleanup(func() { st.Close() })
		}
		h.st = st
		hist := compose.NewHistory(st, store.EnvSimulated, false)
		o.History = hist
		if s.resume != nil {
			o.Unfinished, o.Resume = hist, *s.resume
		}
	}
	c, err := compose.New(o)
	if err != nil {
		t.Fatalf("compose: %v", err)
	}
	h.reg, h.rules, h.system = c.Registry, c.Rules, c.System
	h.agent = c.NewAgent(h.events, s.approver)
	h.alert = h.parse(s)
	h.start = p.Snapshot()
	h.parts = partitions(t, p)
	return h
}

// parse turns the setup's alert into a typed alert the way the CLI does.
func (h *harness) parse(s setup) alert.Alert {
	h.t.Helper()
	parser := h.parser()
	if s.parse != nil {
		return s.parse(parser)
	}
	text := s.alert
	if text == "" {
		text = h.p.Scenario().Alert
	}
	a, err := parser.ParseText(text, h.p.Now())
	if err != nil {
		h.t.Fatalf("parse alert %q: %v", text, err)
	}
	return a
}

// parser reads alerts and requests as the CLI does: it knows the platform's workloads.
func (h *harness) parser() alert.Parser {
	h.t.Helper()
	ws, err := h.p.Cluster().ListWorkloads(context.Background(), h.cfg.Kubernetes.Namespace)
	if err != nil {
		h.t.Fatalf("list workloads: %v", err)
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.Ref.Name)
	}
	sort.Strings(names)
	return alert.Parser{Namespace: h.cfg.Kubernetes.Namespace, Services: names, Aliases: alert.DefaultAliases()}
}

// run handles the alert and returns its summary.
func (h *harness) run() agent.Summary {
	h.t.Helper()
	return h.agent.Handle(context.Background(), h.alert)
}

// after is the platform's state now.
func (h *harness) after() sim.State { return h.p.Snapshot() }

// recorder keeps every event of a run; the agent emits from several goroutines.
type recorder struct {
	mu     sync.Mutex
	events []agent.Event
	hook   func(agent.Event) // optional: sees each event after it is kept
}

func (r *recorder) Emit(e agent.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		hook(e)
	}
}

func (r *recorder) all() []agent.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]agent.Event(nil), r.events...)
}

// of returns the events of type T, in order.
func of[T agent.Event](r *recorder) []T {
	var out []T
	for _, e := range r.all() {
		if v, ok := e.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// memIncidents opens incidents without a database (runs without history).
type memIncidents struct {
	mu    sync.Mutex
	clock func() time.Time
	n     int
}

func (m *memIncidents) OpenIncident(context.Context, tools.IncidentRequest) (tools.IncidentResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	return tools.IncidentResult{ID: fmt.Sprintf("INC-%s-%03d", m.clock().UTC().Format("2006-01-02"), m.n)}, nil
}

func (m *memIncidents) AddTimeline(context.Context, string, string, string) error { return nil }

// partitions lists the platform's partitions now, oldest first; none
// without storage or while the database does not answer.
func partitions(t testing.TB, p *sim.Platform) []platform.Partition {
	t.Helper()
	if p.Scenario().Storage == nil {
		return nil
	}
	parts, err := p.Storage().Partitions(context.Background(), platform.PartitionFilter{})
	if err != nil {
		return nil
	}
	return sortedParts(parts)
}

// sortedParts orders partitions by their newest row, oldest first.
func sortedParts(parts []platform.Partition) []platform.Partition {
	sort.Slice(parts, func(i, j int) bool { return parts[i].MaxTime.Before(parts[j].MaxTime) })
	return parts
}
