// Package simhistory builds history databases by running the simulated
// platform through scenarios over simulated days (virtual clock): the inputs
// of the tests of ops-skill tune and replay. Only tests import it.
package simhistory

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/compose"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// Clock is the store's clock: it follows the virtual clock of whichever
// platform runs now, so alerts are stamped in virtual time.
type Clock struct {
	mu sync.Mutex
	p  *sim.Platform
	t  time.Time
}

// NewClock starts at t until a platform is followed.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Follow makes the clock read p's virtual time.
func (c *Clock) Follow(p *sim.Platform) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.p = p
}

// Now implements clock.PassiveClock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p != nil {
		return c.p.Now()
	}
	return c.t
}

// Since implements clock.PassiveClock.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Builder records runs of the simulated platform into one store.
type Builder struct {
	Store  *store.Store
	Clock  *Clock
	Config config.Config
	// State is the guard's memory shared by every run (as a cluster's
	// annotations would be); nil: a new one per platform.
	State tools.StateStore
}

// New opens an in-memory history whose clock starts at start, with the
// built-in policy (the one the scenarios are written against).
func New(ctx context.Context, start time.Time) (*Builder, error) {
	clk := NewClock(start)
	st, err := store.Open(ctx, store.MemoryPath, clk)
	if err != nil {
		return nil, err
	}
	cfg := config.Defaults()
	cfg.Kubernetes.AllowedNamespaces = []string{cfg.Kubernetes.Namespace}
	cfg.Agent.Planner = config.PlannerRules
	return &Builder{Store: st, Clock: clk, Config: cfg}, nil
}

// Close closes the store.
func (b *Builder) Close() error { return b.Store.Close() }

func (b *Builder) compose(p *sim.Platform) (*compose.Composition, error) {
	b.Clock.Follow(p)
	plat := compose.Simulated(p, b.Config.Kubernetes.Namespace)
	if b.State != nil {
		plat.State = b.State
	}
	mode, err := guard.ParseMode(b.Config.Agent.Mode)
	if err != nil {
		return nil, err
	}
	return compose.New(compose.Options{Config: b.Config, Mode: mode, Platform: plat,
		History: compose.NewHistory(b.Store, store.EnvSimulated, false)})
}

// Incident runs the scenario's alert (or text, when set) on a fresh platform
// of sc started at start (its payload's alerts, one after the other), and
// returns the runs' summaries.
func (b *Builder) Incident(ctx context.Context, sc sim.Scenario, start time.Time, text string) ([]agent.Summary, error) {
	p := sim.New(sc, start)
	comp, err := b.compose(p)
	if err != nil {
		return nil, err
	}
	sc.Alert = firstNonEmpty(text, sc.Alert)
	if text != "" {
		sc.AlertPayload = ""
	}
	alerts, err := eval.Case{Scenario: sc}.Alerts(parser(ctx, p), p.Now())
	if err != nil {
		return nil, fmt.Errorf("parse the alert of %s: %w", sc.Name, err)
	}
	ag := comp.NewAgent(agent.SinkFunc(func(agent.Event) {}), nil)
	var out []agent.Summary
	for _, a := range alerts {
		out = append(out, ag.Handle(ctx, a))
	}
	return out, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Autoscale drives scaleDeployment through the tool gate on one platform of
// sc for the given span, every tick: +1 replica when the newest CPU sample of
// service is above up, -1 below down (what a naive scaling loop asks; the
// guard decides). It returns the platform at the end.
func (b *Builder) Autoscale(ctx context.Context, sc sim.Scenario, start time.Time, service string, span, tick time.Duration, up, down float64) (*sim.Platform, error) {
	p := sim.New(sc, start)
	comp, err := b.compose(p)
	if err != nil {
		return nil, err
	}
	ns := b.Config.Kubernetes.Namespace
	for end := start.Add(span); p.Now().Before(end); p.Advance(tick) {
		snap := p.Snapshot().Services[service]
		want := int(snap.Replicas)
		switch {
		case snap.CPU > up:
			want++
		case snap.CPU < down:
			want--
		default:
			continue
		}
		args, _ := json.Marshal(map[string]any{"namespace": ns, "name": service, "replicas": want})
		comp.Registry.Invoke(ctx, tools.NewRun(0, guard.ModeAuto, nil, 1), tools.Call{ID: "loop", Tool: tools.ScaleDeployment, Args: args})
	}
	return p, nil
}

// parser reads alerts the way the CLI does, knowing the platform's services.
func parser(ctx context.Context, p *sim.Platform) alert.Parser {
	ns := p.Scenario().Namespace
	var names []string
	if ws, err := p.Cluster().ListWorkloads(ctx, ns); err == nil {
		for _, w := range ws {
			names = append(names, w.Ref.Name)
		}
	}
	sort.Strings(names)
	return alert.Parser{Namespace: ns, Services: names, Aliases: alert.DefaultAliases()}
}

// Swing returns sc with service's demand alternating between high and low
// every period, for span after the start (the thrashing load).
func Swing(sc sim.Scenario, service string, high, low float64, period, span time.Duration) sim.Scenario {
	out := sc
	out.Services = append([]sim.Service(nil), sc.Services...)
	for i := range out.Services {
		s := &out.Services[i]
		if s.Name != service {
			continue
		}
		steps := append([]sim.Step[float64](nil), s.Load.Demand.Steps...)
		for at, n := period, 0; at <= span; at, n = at+period, n+1 {
			v := low
			if n%2 == 1 {
				v = high
			}
			steps = append(steps, sim.Step[float64]{At: at, Value: v})
		}
		s.Load.Demand.Steps = steps
		s.Load.RequestRate = nil
	}
	return out
}
