package serve_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/app"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/serve"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// countingRunner counts runs of the real agent.
type countingRunner struct {
	ag   *agent.Agent
	runs atomic.Int32
}

func (c *countingRunner) Handle(ctx context.Context, a alert.Alert) agent.Summary {
	c.runs.Add(1)
	return c.ag.Handle(ctx, a)
}

// writes counts the executed writes the agent reports.
type writes struct {
	mu  sync.Mutex
	got []string
}

func (w *writes) Emit(e agent.Event) {
	if d, ok := e.(agent.ToolDone); ok && d.Outcome.Wrote() {
		w.mu.Lock()
		w.got = append(w.got, d.Outcome.Summary)
		w.mu.Unlock()
	}
}

// TestStormOfDuplicateDeliveriesActsOnce sends the same Alertmanager
// delivery many times, concurrently, to a server running the real agent,
// rules planner, guard and tools on the simulated platform: one 202, the
// rest 200 duplicates, one run, one scale.
func TestStormOfDuplicateDeliveriesActsOnce(t *testing.T) {
	ctx := context.Background()
	sc, err := sim.LoadScenario(sim.Scenarios(), "high-cpu")
	if err != nil {
		t.Fatal(err)
	}
	p := sim.New(sc, time.Now().UTC().Truncate(time.Second))
	w := &writes{}
	ag, closeRun, err := app.EvalWire(app.EvalConfig(config.Defaults()))(ctx, eval.RunSetup{Platform: p, Fallback: true, Sink: w})
	if err != nil {
		t.Fatal(err)
	}
	defer closeRun()
	runner := &countingRunner{ag: ag}
	st, err := store.Open(ctx, store.MemoryPath, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := serve.DefaultConfig()
	cfg.Auth = serve.Auth{Token: "storm-token"}
	cfg.HealthInterval, cfg.ScalePeriod, cfg.EscalationPeriod = 0, 0, 0
	srv, err := serve.New(cfg, serve.Deps{
		NewRunner: func(agent.Sink, tools.Approver) serve.Runner { return runner },
		Registry:  tools.NewRegistry(tools.Deps{Clock: p.Clock()}),
		Parser:    alert.Parser{Namespace: "ai-data-labs", Services: []string{"backend", "clickhouse", "frontend", "postgresql", "redis"}},
		Store:     st, Env: store.EnvSimulated, Mode: guard.ModeAuto, Now: p.Now, Clock: clock.RealClock{},
		Elector: serve.Solo{ID: "storm"}, Prometheus: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	url := "http://" + ln.Addr().String() + "/webhook"
	body, err := os.ReadFile("../../testdata/alerts/am-high-cpu.json")
	if err != nil {
		t.Fatal(err)
	}
	codes := storm(t, url, body, 2000, 16)
	stop() // drains the queue and waits for the run before returning
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if codes[http.StatusAccepted] != 1 || codes[http.StatusOK] != 1999 {
		t.Fatalf("answers %v, want one 202 and 1999 200 (duplicates)", codes)
	}
	if n := runner.runs.Load(); n != 1 {
		t.Fatalf("%d agent runs, want 1", n)
	}
	if len(w.got) != 1 {
		t.Fatalf("writes %v, want exactly one", w.got)
	}
	backend, err := p.Cluster().GetWorkload(ctx, platform.WorkloadRef{Namespace: "ai-data-labs", Name: "backend"})
	if err != nil {
		t.Fatal(err)
	}
	if backend.Replicas != 4 {
		t.Fatalf("backend at %d replicas, want 4 (scaled once from 3)", backend.Replicas)
	}
}

// storm posts body n times from c clients until every answer is in, waiting
// for the leader to accept first.
func storm(t *testing.T, url string, body []byte, n, c int) map[int]int {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}, Timeout: 10 * time.Second}
	send := func() int {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer storm-token")
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	first := send()
	for i := 0; first == http.StatusServiceUnavailable || first == 0; i++ { // not leading yet: retry, as Alertmanager does
		if i > 1e5 {
			t.Fatal("the server never accepted a delivery")
		}
		runtime.Gosched()
		first = send()
	}
	codes := map[int]int{first: 1}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := atomic.Int32{}
	next.Store(1)
	for range c {
		wg.Go(func() {
			for next.Add(1) <= int32(n) {
				code := send()
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return codes
}
