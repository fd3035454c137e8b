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
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/planner"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/policy"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/prompts"
	"github.com/duet-company/ops-skill/tools"
)

// The harness copies the wiring of internal/app/runtime.go: the simulated
// platform behind the tool registry, the guard policies from the default
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
	platform   *sim.Platform                   // reuse a platform (and state) across runs
	state      tools.StateStore                // reuse guard state across runs
	wrap       func(*tools.Deps)               // wraps backends (e.g. a barrier)
	waiter     func(agent.Waiter) agent.Waiter // wraps the settle wait
	approver   tools.Approver                  // asks in approve mode; nil: none
	notify     bool                            // deliver notifications to the platform's recorder
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
	pol := policy.FromConfig(cfg)
	deps := tools.Deps{Cluster: p.Cluster(), Metrics: p.Metrics(), Storage: p.Storage(), Health: p.Health(),
		State: h.state, Clock: p.Clock(), Policy: pol}
	var hist agent.History
	if s.noStore {
		deps.Incidents = &memIncidents{clock: p.Clock().Now}
	} else {
		st, err := store.Open(ctx, store.MemoryPath, p.Clock())
		if err != nil {
			t.Fatalf("open history: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		h.st = st
		hs := history{s: st, env: store.EnvSimulated}
		deps.Incidents, deps.Recorder, hist = hs, hs, hs
	}
	if s.wrap != nil {
		s.wrap(&deps)
	}
	h.reg = tools.NewRegistry(deps)
	h.rules = planner.NewRules(planner.PolicyFrom(pol))
	var fallback llm.Client = h.rules
	if s.noFallback {
		fallback = nil
	}
	pl := s.planner
	if pl == nil {
		pl = h.rules
	}
	acfg := agentConfig(cfg, pol)
	if s.agentCfg != nil {
		s.agentCfg(&acfg)
	}
	system, err := systemPrompt(cfg, pol, acfg)
	if err != nil {
		t.Fatalf("system prompt: %v", err)
	}
	h.system = system
	var notifier platform.Notifier
	if s.notify {
		notifier = p.Notifier()
	}
	var waiter agent.Waiter = p
	if s.waiter != nil {
		waiter = s.waiter(p)
	}
	h.agent = agent.New(acfg, agent.Deps{Registry: h.reg, Planner: pl, Fallback: fallback, Clock: p.Clock(), Waiter: waiter,
		Notifier: notifier, Approver: s.approver, History: hist, Sink: h.events, System: system, Alerting: pol.Alerting})
	h.alert = h.parse(s)
	h.start = p.Snapshot()
	h.parts = partitions(t, p)
	return h
}

// parse turns the setup's alert into a typed alert the way the CLI does.
func (h *harness) parse(s setup) alert.Alert {
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
	parser := alert.Parser{Namespace: h.cfg.Kubernetes.Namespace, Services: names, Aliases: alert.DefaultAliases()}
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

// The wiring below copies internal/app/runtime.go (unexported there).

// agentConfig and systemPrompt derive, as internal/app does, the agent's
// bounds and the prompt from the one policy of cfg.
func agentConfig(cfg config.Config, pol guard.Policy) agent.Config {
	c := agent.DefaultConfig()
	mode, _ := guard.ParseMode(cfg.Agent.Mode)
	c.MaxIterations, c.TokenBudget, c.PlannerTimeout = cfg.LLM.MaxIterations, cfg.LLM.TokenBudget, cfg.LLM.Timeout
	c.Mode, c.MaxWrites, c.Env, c.Targets = mode, cfg.Agent.MaxWrites, store.EnvSimulated, pol.Targets
	return c
}

func systemPrompt(cfg config.Config, pol guard.Policy, a agent.Config) (string, error) {
	return prompts.RenderSystem(prompts.System{Namespace: cfg.Kubernetes.Namespace, Namespaces: cfg.Kubernetes.AllowedNamespaces,
		Guardrails: pol.Sentence(), Settle: units.Duration(a.SettleTime), Mode: string(a.Mode)})
}

// history adapts the store to the agent and the tools (as internal/app/history.go).
type history struct {
	s   *store.Store
	env string
}

func (h history) RecordAlert(ctx context.Context, a alert.Alert, env string) (int64, error) {
	src := a.Source
	if src != store.SourceAlertmanager && src != store.SourceChat && src != store.SourceWebhook {
		src = store.SourceText
	}
	return h.s.RecordAlert(ctx, store.AlertRecord{Source: src, Fingerprint: a.Fingerprint, Service: a.Service, Namespace: a.Namespace,
		Kind: string(a.Kind), Summary: text.Clip(a.Text, 500), Env: env})
}

func (h history) FinishAlert(ctx context.Context, id int64, s agent.Summary) error {
	return h.s.FinishAlert(ctx, id, string(s.Resolution), s.Planner, s.Incident, s.Error)
}

// LastActed is off, as on the simulated platform in app: every run is a new platform.
func (h history) LastActed(context.Context, string, string) (time.Time, bool, error) {
	return time.Time{}, false, nil
}

// LastNotified is off for the same reason: no notification cooldown across runs.
func (h history) LastNotified(context.Context, string, string) (agent.NotifyRecord, bool, error) {
	return agent.NotifyRecord{}, false, nil
}

func (h history) MarkNotified(context.Context, string, string, agent.NotifyRecord) error { return nil }

func (h history) AddTimeline(ctx context.Context, id, kind, text string) error {
	return h.s.AppendTimeline(ctx, id, store.TimelineEntry{Kind: kind, Text: text})
}

func (h history) SetIncidentStatus(ctx context.Context, id string, status platform.IncidentStatus) error {
	return h.s.SetIncidentStatus(ctx, id, status)
}

func (h history) OpenIncident(ctx context.Context, title, service, severity string, alertID int64) (string, error) {
	inc, err := h.s.CreateIncident(ctx, store.Incident{Title: title, Service: service, Severity: severity, Status: "open", AlertID: alertID, Env: h.env})
	return inc.ID, err
}

func (h history) RecordIntent(ctx context.Context, c tools.CallRecord) (int64, error) {
	return h.s.RecordIntent(ctx, store.ToolCallRecord{AlertID: c.AlertID, At: c.At, Tool: c.Tool, Target: c.Target,
		Args: text.Clip(c.Args, 4000), Write: c.Write, Env: h.env})
}

func (h history) RecordCall(ctx context.Context, c tools.CallRecord) error {
	verdict := map[tools.Status]string{tools.StatusOK: store.VerdictAllow, tools.StatusExecuted: store.VerdictExecuted,
		tools.StatusDryRun: store.VerdictDryRun, tools.StatusRefused: store.VerdictRefuse}[c.Status]
	if verdict == "" {
		verdict = store.VerdictError
	}
	rec := store.ToolCallRecord{AlertID: c.AlertID, At: c.At, Tool: c.Tool, Target: c.Target,
		Args: text.Clip(c.Args, 4000), Verdict: verdict, Rule: c.Rule, Reason: text.Clip(c.Reason, 1000), Result: text.Clip(c.Result, 4000), Write: c.Write, Env: h.env}
	if c.Intent != 0 {
		return h.s.CompleteToolCall(ctx, c.Intent, rec)
	}
	_, err := h.s.RecordToolCall(ctx, rec)
	return err
}

func (h history) RecordScale(ctx context.Context, alertID int64, ref platform.WorkloadRef, from, to int32, rule, reason string) error {
	_, err := h.s.RecordScaleEvent(ctx, store.ScaleEvent{Namespace: ref.Namespace, Name: ref.Name, From: from, To: to, Rule: rule,
		Reason: text.Clip(reason, 500), AlertID: alertID, Env: h.env})
	return err
}

// memIncidents opens incidents without a database (runs without history).
type memIncidents struct {
	mu    sync.Mutex
	clock func() time.Time
	n     int
}

func (m *memIncidents) OpenIncident(context.Context, string, string, string, int64) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	return fmt.Sprintf("INC-%s-%03d", m.clock().UTC().Format("2006-01-02"), m.n), nil
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
