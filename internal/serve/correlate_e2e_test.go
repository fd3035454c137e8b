package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
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
	"github.com/duet-company/ops-skill/internal/serve"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// summaries keeps the summary of every run of the real agent.
type summaries struct {
	ag  *agent.Agent
	mu  sync.Mutex
	got []agent.Summary
}

func (s *summaries) Handle(ctx context.Context, a alert.Alert) agent.Summary {
	sum := s.ag.Handle(ctx, a)
	s.mu.Lock()
	s.got = append(s.got, sum)
	s.mu.Unlock()
	return sum
}

// podAlert is a one-alert delivery about a pod of backend, each pod its own
// Alertmanager fingerprint.
func podAlert(t *testing.T, pod int, startsAt time.Time) []byte {
	t.Helper()
	w := map[string]any{"version": "4", "groupKey": `{}:{alertname="BackendHighCPU"}`, "status": "firing", "receiver": "ops-skill",
		"groupLabels": map[string]string{"alertname": "BackendHighCPU"}, "commonLabels": map[string]string{}, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager:9093", "truncatedAlerts": 0,
		"alerts": []alert.WebhookAlert{{Status: "firing", Fingerprint: fmt.Sprintf("fp-backend-%02d", pod), StartsAt: startsAt,
			Labels:      map[string]string{"alertname": "BackendHighCPU", "namespace": "ai-data-labs", "service": "backend", "pod": fmt.Sprintf("backend-%d", pod)},
			Annotations: map[string]string{"summary": "Backend service CPU at 85% for 5 minutes"}}}}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConcurrentAlertsOfOneSubjectOpenOneIncidentAndNotifyOnce sends 20
// alerts about one workload at once to a server running the real agent on
// the simulated platform: the runs of the subject share a lane, the first
// opens the incident, the other 19 join it, and one notification is sent.
func TestConcurrentAlertsOfOneSubjectOpenOneIncidentAndNotifyOnce(t *testing.T) {
	ctx := context.Background()
	sc, err := sim.LoadScenario(sim.Scenarios(), "high-cpu-max-replicas")
	if err != nil {
		t.Fatal(err)
	}
	p := sim.New(sc, time.Now().UTC().Truncate(time.Second))
	ag, closeRun, err := app.EvalWire(app.EvalConfig(config.Defaults()))(ctx, eval.RunSetup{Platform: p, Fallback: true, Sink: agent.SinkFunc(func(agent.Event) {})})
	if err != nil {
		t.Fatal(err)
	}
	defer closeRun()
	runs := &summaries{ag: ag}
	st, err := store.Open(ctx, store.MemoryPath, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := serve.DefaultConfig()
	cfg.Auth = serve.Auth{Token: "storm-token"}
	cfg.HealthInterval, cfg.ScalePeriod, cfg.EscalationPeriod = 0, 0, 0
	srv, err := serve.New(cfg, serve.Deps{
		NewRunner: func(agent.Sink, tools.Approver) serve.Runner { return runs },
		Registry:  tools.NewRegistry(tools.Deps{Clock: p.Clock()}),
		Parser:    alert.Parser{Namespace: "ai-data-labs", Services: []string{"backend", "clickhouse", "frontend", "postgresql", "redis"}},
		Store:     st, Env: store.EnvSimulated, Mode: guard.ModeAuto, Now: p.Now, Clock: clock.RealClock{},
		Elector: serve.Solo{ID: "correlate"}, Prometheus: prometheus.NewRegistry(),
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
	const n = 20
	startsAt := p.Now().Add(-10 * time.Minute)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes[i] = postUntilLeading(t, url, podAlert(t, i, startsAt)) })
	}
	wg.Wait()
	stop() // drains the queue and waits for the runs
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	for i, c := range codes {
		if c != http.StatusAccepted {
			t.Fatalf("delivery %d answered %d, want 202", i, c)
		}
	}
	if len(runs.got) != n {
		t.Fatalf("%d runs, want %d (one per alert)", len(runs.got), n)
	}
	for i, s := range runs.got {
		if s.Incident == "" || s.Incident != runs.got[0].Incident {
			t.Fatalf("run %d: incident %q (%s), first run %q; want one incident", i, s.Incident, s.Headline, runs.got[0].Incident)
		}
	}
	if notes := p.Notifications(); len(notes) != 1 || notes[0].IncidentID != runs.got[0].Incident {
		t.Fatalf("%d notifications reached the platform, want 1 about %s", len(notes), runs.got[0].Incident)
	}
}

// postUntilLeading posts body, retrying (as Alertmanager does) while the
// server is not leading yet, and returns the answer's code.
func postUntilLeading(t *testing.T, url string, body []byte) int {
	t.Helper()
	for range 100000 {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer storm-token")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				return resp.StatusCode
			}
		}
		runtime.Gosched() // not leading yet: try again
	}
	t.Error("the server never accepted a delivery")
	return 0
}
