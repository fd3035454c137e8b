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
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/planner"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/tools"
)

// A small composition of the real pieces, as internal/app/runtime.go wires
// them: the simulated platform behind the tool registry, the guard policies
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
	reg := tools.NewRegistry(tools.Deps{Cluster: p.Cluster(), Metrics: p.Metrics(), Storage: p.Storage(), Health: p.Health(),
		Incidents: &incidents{}, State: tools.NewMemoryState(), Clock: p.Clock(), Policy: policy(cfg)})
	a := cfg.AutoScaling
	rules := planner.NewRules(planner.Policy{ScaleUpThreshold: a.ScaleUpThreshold, ScaleDownThreshold: a.ScaleDownThreshold,
		ErrorRateThreshold: a.ErrorRateThreshold, UpStep: a.ScaleUpStep, OutStep: a.ErrorRateStep, MinReplicas: a.MinReplicas,
		MaxReplicas: a.MaxReplicas, DiskTargetPct: 75, MemoryFactor: cfg.SelfHealing.MemoryRaiseMaxFactor,
		UpWindow: a.ScaleUpDuration, OutWindow: a.ErrorRateDuration, RetentionDays: cfg.Storage.RetentionDays})
	var pl llm.Client = rules
	if c.model != nil {
		pl = c.model
	}
	acfg := agent.DefaultConfig()
	acfg.Mode, acfg.Env, acfg.MaxWrites = c.mode, "simulated", cfg.Agent.MaxWrites
	ag := agent.New(acfg, agent.Deps{Registry: reg, Planner: pl, Fallback: rules, Clock: p.Clock(), Waiter: p,
		Approver: ap, Sink: sink, System: "test", Alerting: guard.AlertPolicy{Enabled: true}})
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

func policy(cfg config.Config) tools.Policy {
	a, s, st := cfg.AutoScaling, cfg.SelfHealing, cfg.Storage
	return tools.Policy{
		Scope: guard.Scope{AllowedNamespaces: []string{cfg.Kubernetes.Namespace}},
		Scaling: guard.ScalingPolicy{Enabled: a.Enabled, Min: int64(a.MinReplicas), Max: int64(a.MaxReplicas),
			Up:         guard.Rule{Threshold: a.ScaleUpThreshold, Sustain: a.ScaleUpDuration, Step: int64(a.ScaleUpStep)},
			Down:       guard.Rule{Threshold: a.ScaleDownThreshold, Sustain: a.ScaleDownDuration, Step: int64(a.ScaleDownStep)},
			Out:        guard.Rule{Threshold: a.ErrorRateThreshold, Sustain: a.ErrorRateDuration, Step: int64(a.ErrorRateStep)},
			SampleStep: tools.SampleStep, OptOutAnnotation: a.OptOutAnnotation},
		Healing: guard.HealingPolicy{Enabled: s.Enabled, RestartThreshold: s.RestartThreshold, ReplacementThreshold: s.ReplacementThreshold,
			RestartBudgetPerHour: s.RestartBudgetPerHour, MemoryMaxFactor: s.MemoryRaiseMaxFactor, MemoryCeiling: s.MemoryCeiling},
		Partitions: guard.PartitionPolicy{Retention: time.Duration(st.RetentionDays) * 24 * time.Hour, MinKeep: st.MinPartitions,
			MaxPerRun: st.MaxPartitionsPerRun, MaxBytesPerRun: uint64(st.MaxBytesPerRun)},
		NotifyEnabled: true,
	}
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

func (i *incidents) OpenIncident(context.Context, string, string, string, int64) (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.n++
	return "INC-2026-02-16-00" + string(rune('0'+i.n)), nil
}

func (i *incidents) AddTimeline(context.Context, string, string, string) error { return nil }
