//go:build integration

package prom

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// queryLog is a reverse proxy in front of a real Prometheus that keeps the
// "query" parameter of every request it passes on.
type queryLog struct {
	mu      sync.Mutex
	queries []string
}

func (l *queryLog) front(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		q := r.URL.Query().Get("query")
		if q == "" {
			q = form.Get("query")
		}
		l.mu.Lock()
		l.queries = append(l.queries, q)
		l.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (l *queryLog) taken() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.queries
	l.queries = nil
	return out
}

// TestRawPromQLIsConfinedOnTheWire exports one probe series in an allowed
// namespace, one in a namespace outside the allowlist and one node-level
// series, then queries them through the real tools and the real adapter: the
// query Prometheus receives is the confined one, it answers only the allowed
// namespace's series, and a query naming the other namespace never leaves.
func TestRawPromQLIsConfinedOnTheWire(t *testing.T) {
	env := testEnv(t, "prometheus")
	run := fmt.Sprint(time.Now().UnixNano())
	allowed, other := "scope-a-"+run, "scope-b-"+run
	ss := []series{
		{Name: "ops_scope_probe", Type: "gauge", Labels: map[string]string{"namespace": allowed, "run": run}, Value: 1},
		{Name: "ops_scope_probe", Type: "gauge", Labels: map[string]string{"namespace": other, "run": run}, Value: 2},
		{Name: "node_ops_scope_probe_bytes", Type: "gauge", Labels: map[string]string{"run": run}, Value: 3},
	}
	control(t, env["OPS_TEST_EXPORTER_URL"], http.MethodPost, ss)
	t.Cleanup(func() { control(t, env["OPS_TEST_EXPORTER_URL"], http.MethodDelete, ss) })

	direct, err := New(Config{URL: env["PROMETHEUS_URL"]})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the probe series to be scraped", func() bool {
		res, err := direct.Query(context.Background(), platform.MetricQuery{PromQL: `{__name__=~"ops_scope_probe|node_ops_scope_probe_bytes",run="` + run + `"}`})
		return err == nil && len(res.Series) == 3
	})

	log := &queryLog{}
	c, err := New(Config{URL: log.front(t, env["PROMETHEUS_URL"])})
	if err != nil {
		t.Fatal(err)
	}
	reg := tools.NewRegistry(tools.Deps{Metrics: c, Policy: tools.Policy{Scope: guard.Scope{AllowedNamespaces: []string{allowed}}}})

	t.Run("confined to the allowlist", func(t *testing.T) {
		o := call(t, reg, tools.NewRun(1, guard.ModeAuto, nil, 5), "queryMetrics",
			map[string]any{"promql": `sum by (namespace) (ops_scope_probe{run="` + run + `"})`})
		sum, ok := o.Result.(tools.MetricSummary)
		if o.Status != tools.StatusOK || !ok {
			t.Fatalf("queryMetrics: %s %s %s", o.Status, o.Reason, o.Error)
		}
		want := `sum by (namespace) (ops_scope_probe{namespace="` + allowed + `",run="` + run + `"})`
		if got := log.taken(); !slices.Equal(got, []string{want}) {
			t.Errorf("Prometheus received %q, want %q", got, want)
		}
		if len(sum.Series) != 1 || sum.Series[0].Labels["namespace"] != allowed || sum.Series[0].Last != 1 {
			t.Errorf("series %+v, want only namespace %s's", sum.Series, allowed)
		}
	})

	t.Run("node-level series as written", func(t *testing.T) {
		q := `node_ops_scope_probe_bytes{run="` + run + `"}`
		o := call(t, reg, tools.NewRun(1, guard.ModeAuto, nil, 5), "queryMetrics", map[string]any{"promql": q})
		sum, ok := o.Result.(tools.MetricSummary)
		if o.Status != tools.StatusOK || !ok || len(sum.Series) != 1 || sum.Series[0].Last != 3 {
			t.Fatalf("queryMetrics: %s %+v %s", o.Status, o.Result, o.Error)
		}
		if got := log.taken(); !slices.Equal(got, []string{q}) {
			t.Errorf("Prometheus received %q, want %q", got, q)
		}
	})

	// The parser prints what it rewrote; the server must read it back.
	t.Run("printed forms are accepted by the server", func(t *testing.T) {
		two := tools.NewRegistry(tools.Deps{Metrics: c, Policy: tools.Policy{Scope: guard.Scope{AllowedNamespaces: []string{allowed, "scope-c-" + run}}}})
		for _, q := range []string{
			`ops_scope_probe`,
			`max_over_time(sum by (namespace) (ops_scope_probe)[5m:1m] offset 1m)`,
			`ops_scope_probe @ end() or on () vector(0)`,
			`count({__name__=~"ops_scope_.+"}) * on () group_left () absent(nothing_here)`,
		} {
			o := call(t, two, tools.NewRun(1, guard.ModeAuto, nil, 5), "queryMetrics", map[string]any{"promql": q, "range": "5m"})
			if o.Status != tools.StatusOK {
				t.Errorf("%s: %s %s", q, o.Status, o.Error)
			}
		}
		for _, q := range log.taken() {
			t.Logf("sent: %s", q)
		}
	})

	t.Run("another namespace never leaves", func(t *testing.T) {
		o := call(t, reg, tools.NewRun(1, guard.ModeAuto, nil, 5), "queryMetrics",
			map[string]any{"promql": `ops_scope_probe{namespace="` + other + `"}`})
		if o.Status != tools.StatusRefused || o.Rule != guard.RulePromQLNamespace {
			t.Fatalf("queryMetrics: %s %s %s %s", o.Status, o.Rule, o.Reason, o.Error)
		}
		if got := log.taken(); len(got) != 0 {
			t.Errorf("Prometheus received %q for a refused query", got)
		}
	})
}
