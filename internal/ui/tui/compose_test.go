package tui

import (
	"context"
	"errors"
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
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/tools"
)

// The real pieces, composed as the CLI composes them (compose.New): the simulated platform behind the tool registry, the guard policies
// of the default configuration, the rules planner (or a scripted model with
// the rules as fallback), and no history.

var simStart = time.Date(2026, 2, 16, 9, 30, 0, 0, time.UTC)

type composition struct {
	scenario string
	mode     guard.Mode
	model    llm.Client // nil: the rules planner
}

func (c composition) build(t *testing.T, sink agent.Sink, ap tools.Approver) (*agent.Agent, alert.Alert) {
	t.Helper()
	sc, err := sim.LoadScenario(os.DirFS("../../sim/scenarios"), c.scenario)
	if err != nil {
		t.Fatal(err)
	}
	p := sim.New(sc, simStart)
	cfg := config.Defaults()
	cfg.Kubernetes.AllowedNamespaces = []string{cfg.Kubernetes.Namespace}
	plat := compose.Simulated(p, cfg.Kubernetes.Namespace)
	plat.Notifier = nil
	comp, err := compose.New(compose.Options{Config: cfg, Mode: c.mode, Platform: plat, Model: c.model, Incidents: &incidents{}})
	if err != nil {
		t.Fatal(err)
	}
	ag := comp.NewAgent(sink, ap)
	ws, err := p.Cluster().ListWorkloads(context.Background(), cfg.Kubernetes.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.Ref.Name)
	}
	sort.Strings(names)
	parser := alert.Parser{Namespace: cfg.Kubernetes.Namespace, Services: names, Aliases: alert.DefaultAliases()}
	al, err := parser.ParseText(sc.Alert, p.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ag, al
}

// scripted is a model that answers with its replies in turn, then fails.
type scripted struct {
	mu      sync.Mutex
	replies []llm.Message
}

func (s *scripted) Name() string { return "scripted" }

func (s *scripted) Chat(context.Context, llm.Request) (llm.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replies) == 0 {
		return llm.Response{}, errors.New("the model timed out")
	}
	m := s.replies[0]
	s.replies = s.replies[1:]
	return llm.Response{Message: m}, nil
}

type incidents struct {
	mu sync.Mutex
	n  int
}

func (i *incidents) OpenIncident(context.Context, tools.IncidentRequest) (tools.IncidentResult, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.n++
	return tools.IncidentResult{ID: "INC-2026-02-16-00" + string(rune('0'+i.n))}, nil
}

func (i *incidents) AddTimeline(context.Context, string, string, string) error { return nil }
