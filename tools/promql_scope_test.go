package tools_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// sentMetrics records the queries it is sent and answers each with no series.
type sentMetrics struct {
	mu   sync.Mutex
	sent []string
}

func (m *sentMetrics) Query(_ context.Context, q platform.MetricQuery) (platform.MetricResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, q.PromQL)
	return platform.MetricResult{}, nil
}

func (m *sentMetrics) queries() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.sent...)
}

func withAllowlist(namespaces ...string) option {
	return withPolicy(func(p *tools.Policy) { p.Scope = guard.Scope{AllowedNamespaces: namespaces} })
}

func TestRawPromQLIsConfinedToTheScopeBeforeItIsSent(t *testing.T) {
	cases := []struct {
		name, args string
		allowed    []string
		sent       string
	}{
		{"no namespace: the allowlist", `{"promql":"sum(rate(http_requests_total[5m]))"}`, []string{ns, "staging"},
			`sum(rate(http_requests_total{namespace=~"ai-data-labs|staging"}[5m]))`},
		{"no namespace, one allowed", `{"promql":"up"}`, []string{ns}, `up{namespace="ai-data-labs"}`},
		{"a namespace: only it", `{"namespace":"staging","promql":"up or absent(kube_pod_info)"}`, []string{ns, "staging"},
			`up{namespace="staging"} or absent(kube_pod_info{namespace="staging"})`},
		{"already confined: as written", `{"promql":"up{namespace=~\"staging|ai-data-labs\"}","range":"15m"}`, []string{ns, "staging"},
			`up{namespace=~"staging|ai-data-labs"}`},
		{"node-exporter: cluster-level", `{"promql":"node_filesystem_avail_bytes{mountpoint=\"/\"}"}`, []string{ns},
			`node_filesystem_avail_bytes{mountpoint="/"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &sentMetrics{}
			e := newEnv(t, "high-cpu", withMetrics(m), withAllowlist(c.allowed...))
			o := e.call(autoRun(), "queryMetrics", c.args)
			mustStatus(t, o, tools.StatusOK)
			if got := m.queries(); len(got) != 1 || got[0] != c.sent {
				t.Fatalf("sent %q, want %q", got, c.sent)
			}
			// The model and the history see the query that ran.
			if sum := result[tools.MetricSummary](t, o); sum.Metric != c.sent {
				t.Errorf("summary names %q, want the query sent %q", sum.Metric, c.sent)
			}
		})
	}
}

func TestRawPromQLReachingOutsideTheScopeIsRefusedUnsent(t *testing.T) {
	cases := []struct {
		name, args string
		allowed    []string
		rule       string
		reason     []string
	}{
		{"another namespace", `{"promql":"up{namespace=\"kube-system\"}"}`, []string{ns},
			guard.RulePromQLNamespace, []string{`namespace="kube-system"`, `names namespace "kube-system"`, "allowed: ai-data-labs", "leave the namespace matcher out"}},
		{"an open regex", `{"promql":"sum(rate(x{namespace=~\"ai-.*\"}[5m]))"}`, []string{ns},
			guard.RulePromQLNamespace, []string{`namespace=~"ai-.*"`, "can match namespaces outside"}},
		{"a negative matcher", `{"promql":"up{namespace!=\"kube-system\"}"}`, []string{ns, "staging"},
			guard.RulePromQLNamespace, []string{`namespace!="kube-system"`, "every other namespace"}},
		{"allowed, but not the one asked", `{"namespace":"ai-data-labs","promql":"up / on() up{namespace=\"staging\"}"}`, []string{ns, "staging"},
			guard.RulePromQLNamespace, []string{`namespace="staging"`, "allowed: ai-data-labs)"}},
		{"a namespace outside the allowlist", `{"namespace":"kube-system","promql":"up"}`, []string{ns},
			guard.RuleNamespaceNotAllowed, []string{`"kube-system" is not on the allowlist`}},
		{"an empty allowlist", `{"promql":"up"}`, nil, guard.RulePromQLNamespace, []string{"no namespace"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &sentMetrics{}
			e := newEnv(t, "high-cpu", withMetrics(m), withAllowlist(c.allowed...))
			o := e.call(autoRun(), "queryMetrics", c.args)
			mustStatus(t, o, tools.StatusRefused)
			if o.Rule != c.rule {
				t.Errorf("rule %q, want %q", o.Rule, c.rule)
			}
			for _, w := range c.reason {
				if !strings.Contains(o.Reason, w) {
					t.Errorf("reason %q lacks %q", o.Reason, w)
				}
			}
			if got := m.queries(); len(got) != 0 {
				t.Errorf("a refused query was sent: %q", got)
			}
			if calls := e.rec.Calls(); len(calls) != 1 || calls[0].Status != tools.StatusRefused || calls[0].Rule != c.rule {
				t.Errorf("recorded %+v, want the refusal with its rule", calls)
			}
		})
	}
}

func TestUnparsablePromQLIsAnInvalidArgument(t *testing.T) {
	m := &sentMetrics{}
	e := newEnv(t, "high-cpu", withMetrics(m))
	o := e.call(autoRun(), "queryMetrics", `{"promql":"sum(rate(x[5m])"}`)
	mustStatus(t, o, tools.StatusInvalid)
	if !strings.Contains(o.Error, `invalid arguments for queryMetrics: field "promql": not valid PromQL: `) {
		t.Errorf("error %q", o.Error)
	}
	if got := m.queries(); len(got) != 0 {
		t.Errorf("an invalid query was sent: %q", got)
	}
}
