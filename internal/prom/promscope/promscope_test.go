package promscope_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/prom/promscope"
)

var two = []string{"ai-data-labs", "staging"}

func TestConfineAddsTheNamespaceMatcherToEverySelector(t *testing.T) {
	tests := []struct {
		name, expr string
		namespaces []string
		want       string
	}{
		{"bare metric, one namespace", `up`, []string{"shop"}, `up{namespace="shop"}`},
		{"bare metric, the allowlist", `up`, two, `up{namespace=~"ai-data-labs|staging"}`},
		{"other matchers kept", `http_requests_total{code=~"5.."}`, []string{"shop"},
			`http_requests_total{code=~"5..",namespace="shop"}`},
		{"aggregation over rate", `sum by (pod) (rate(container_cpu_usage_seconds_total[5m]))`, []string{"shop"},
			`sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="shop"}[5m]))`},
		{"both sides of a division", `sum(rate(a[1m])) / sum(rate(b[1m]))`, []string{"shop"},
			`sum(rate(a{namespace="shop"}[1m])) / sum(rate(b{namespace="shop"}[1m]))`},
		{"or on() join", `sum(rate(http_requests_total{code=~"5.."}[2m])) or on () vector(0)`, []string{"shop"},
			`sum(rate(http_requests_total{code=~"5..",namespace="shop"}[2m])) or on () vector(0)`},
		{"group_left join", `kube_pod_info * on (pod) group_left (node) kube_pod_labels`, []string{"shop"},
			`kube_pod_info{namespace="shop"} * on (pod) group_left (node) kube_pod_labels{namespace="shop"}`},
		{"unless", `up unless up offset 1h`, []string{"shop"}, `up{namespace="shop"} unless up{namespace="shop"} offset 1h`},
		{"subquery", `max_over_time(rate(x[1m])[30m:1m])`, []string{"shop"}, `max_over_time(rate(x{namespace="shop"}[1m])[30m:1m])`},
		{"offset and @", `rate(x[5m] offset 1h @ 1700000000)`, []string{"shop"}, `rate(x{namespace="shop"}[5m] @ 1700000000.000 offset 1h)`},
		{"@ start()", `x @ start()`, []string{"shop"}, `x{namespace="shop"} @ start()`},
		{"absent", `absent(up{job="api"})`, []string{"shop"}, `absent(up{job="api",namespace="shop"})`},
		{"any metric name", `count({__name__=~".+"})`, two, `count({__name__=~".+",namespace=~"ai-data-labs|staging"})`},
		{"histogram_quantile", `histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))`, []string{"shop"},
			`histogram_quantile(0.99, sum by (le) (rate(h_bucket{namespace="shop"}[5m])))`},
		{"label_replace keeps its strings", `label_replace(up, "namespace", "x", "", "")`, []string{"shop"},
			`label_replace(up{namespace="shop"}, "namespace", "x", "", "")`},
		{"topk", `topk(3, kube_pod_container_status_restarts_total)`, []string{"shop"},
			`topk(3, kube_pod_container_status_restarts_total{namespace="shop"})`},
		{"recording rule is namespaced", `node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate`, []string{"shop"},
			`node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate{namespace="shop"}`},
		{"regex over node metrics is namespaced", `{__name__=~"node_.*"}`, []string{"shop"}, `{__name__=~"node_.*",namespace="shop"}`},
		{"cluster-level beside namespaced", `node_memory_MemAvailable_bytes / on (node) group_left kube_pod_info`, []string{"shop"},
			`node_memory_MemAvailable_bytes / on (node) group_left () kube_pod_info{namespace="shop"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := promscope.Confine(tt.expr, tt.namespaces)
			if err != nil {
				t.Fatalf("Confine(%q): %v", tt.expr, err)
			}
			if got != tt.want {
				t.Errorf("Confine(%q)\n got %s\nwant %s", tt.expr, got, tt.want)
			}
			// What is sent must itself be confined: confining it again changes nothing.
			if again, err := promscope.Confine(got, tt.namespaces); err != nil || again != got {
				t.Errorf("confining the result again: %q, %v", again, err)
			}
		})
	}
}

func TestConfineLeavesAConfinedQueryExactlyAsWritten(t *testing.T) {
	tests := []struct {
		name, expr string
		namespaces []string
	}{
		{"no selector", `vector(1) + time()`, []string{"shop"}},
		{"number", `1`, nil},
		{"its own namespace", `up{namespace="shop"}`, []string{"shop"}},
		{"one of the allowlist", `up{namespace="staging"}`, two},
		{"a regex over allowed names", `up{namespace=~"ai-data-labs|staging"}`, two},
		{"a regex over one allowed name", `sum(rate(x{namespace=~"staging"}[5m]))`, two},
		{"a factored regex", `up{namespace=~"(ai-data-labs|stagin(g))"}`, two},
		{"anchors", `up{namespace=~"^(staging)$"}`, two},
		{"node-exporter", `node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"}`, []string{"shop"}},
		{"node-exporter, any allowlist", `rate(node_cpu_seconds_total{mode!="idle"}[5m])`, nil},
		{"kube-state-metrics node", `kube_node_status_condition{condition="Ready",status="true"} == 0`, two},
		{"cAdvisor machine", `machine_memory_bytes`, two},
		{"node metric by __name__", `{__name__="node_load1"}`, two},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := promscope.Confine(tt.expr, tt.namespaces)
			if err != nil || got != tt.expr {
				t.Errorf("Confine(%q) = %q, %v; want it unchanged", tt.expr, got, err)
			}
		})
	}
}

func TestConfineRefusesASelectorReachingOutside(t *testing.T) {
	tests := []struct {
		name, expr string
		namespaces []string
		matcher    string // the matcher the refusal names; "" for an empty allowlist
		why        string
	}{
		{"another namespace", `up{namespace="kube-system"}`, two, `namespace="kube-system"`, `names namespace "kube-system"`},
		{"an allowed one, not the asked one", `up{namespace="staging"}`, []string{"ai-data-labs"}, `namespace="staging"`, `names namespace "staging"`},
		{"open regex", `up{namespace=~"prod.*"}`, []string{"prod-a"}, `namespace=~"prod.*"`, "can match namespaces outside"},
		{"match-all regex", `up{namespace=~".*"}`, two, `namespace=~".*"`, "can match"},
		{"regex naming one outside", `up{namespace=~"staging|kube-system"}`, two, `namespace=~"staging|kube-system"`, `names namespace "kube-system"`},
		{"case-insensitive regex", `up{namespace=~"(?i)staging"}`, two, `namespace=~"(?i)staging"`, "can match"},
		{"not equal", `up{namespace!="kube-system"}`, two, `namespace!="kube-system"`, "every other namespace"},
		{"has a namespace", `up{namespace!=""}`, two, `namespace!=""`, "every other namespace"},
		{"not regex", `up{namespace!~"kube-.*"}`, two, `namespace!~"kube-.*"`, "every other namespace"},
		{"empty value", `up{namespace=""}`, two, `namespace=""`, "without a namespace"},
		{"optional regex", `up{namespace=~"staging|"}`, two, `namespace=~"staging|"`, "without a namespace"},
		{"deep in a subquery", `max_over_time(sum(rate(x{namespace="other"}[1m]))[1h:5m])`, two, `namespace="other"`, `names namespace "other"`},
		{"right side of a join", `up{namespace="staging"} and on (pod) kube_pod_info{namespace="other"}`, two, `namespace="other"`, `"other"`},
		{"inside absent", `absent(up{namespace="other"})`, two, `namespace="other"`, `"other"`},
		{"a node metric with a foreign namespace", `node_load1{namespace="monitoring"}`, two, `namespace="monitoring"`, `"monitoring"`},
		{"empty allowlist", `up`, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := promscope.Confine(tt.expr, tt.namespaces)
			var out *promscope.OutsideError
			if !errors.As(err, &out) {
				t.Fatalf("Confine(%q) = %q, %v; want an *OutsideError", tt.expr, got, err)
			}
			if out.Matcher != tt.matcher || !strings.Contains(out.Why, tt.why) || !slices.Equal(out.Namespaces, tt.namespaces) {
				t.Errorf("refusal %+v, want matcher %q, why containing %q", *out, tt.matcher, tt.why)
			}
			if got != "" {
				t.Errorf("a refused query came back as %q", got)
			}
		})
	}
}

func TestConfineRejectsInvalidPromQL(t *testing.T) {
	for _, expr := range []string{``, `sum(`, `up{namespace="a"`, `rate(x[5m]`, `foo bar`, `up{namespace=~"("}`} {
		if _, err := promscope.Confine(expr, two); !errors.Is(err, promscope.ErrParse) {
			t.Errorf("Confine(%q) error %v, want ErrParse", expr, err)
		}
		if err := promscope.Check(expr); !errors.Is(err, promscope.ErrParse) {
			t.Errorf("Check(%q) error %v, want ErrParse", expr, err)
		}
	}
}

// Experimental functions (info(), which joins in series the selector does
// not name) are off, as on a server started without feature flags.
func TestConfineRejectsExperimentalFunctions(t *testing.T) {
	if _, err := promscope.Confine(`info(up)`, two); !errors.Is(err, promscope.ErrParse) {
		t.Errorf("info(): %v, want ErrParse", err)
	}
}

func TestValuesEnumeratesFiniteSetsOnly(t *testing.T) {
	tests := []struct {
		re     string
		want   []string
		finite bool
	}{
		{"a", []string{"a"}, true},
		{"a|b", []string{"a", "b"}, true},
		{"ai-data-labs|staging", []string{"ai-data-labs", "staging"}, true},
		{"team-(a|b)", []string{"team-a", "team-b"}, true},
		{"team-[ab]", []string{"team-a", "team-b"}, true},
		{"app-[0-2]", []string{"app-0", "app-1", "app-2"}, true},
		{"x?", []string{"", "x"}, true},
		{"x{2}", []string{"xx"}, true},
		{"^a$", []string{"a"}, true},
		{"", []string{""}, true},
		{"a.*", nil, false},
		{".+", nil, false},
		{"a+", nil, false},
		{"[a-z]", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z"}, true},
		{"[a-z][a-z]", nil, false}, // 676 names: too many to judge one by one
		{"[^a]", nil, false},
		{"(?i)a", nil, false},
		{"(", nil, false},
	}
	for _, tt := range tests {
		got, finite := promscope.Values(tt.re)
		if finite != tt.finite || !slices.Equal(got, tt.want) {
			t.Errorf("Values(%q) = %q, %v; want %q, %v", tt.re, got, finite, tt.want, tt.finite)
		}
	}
}
