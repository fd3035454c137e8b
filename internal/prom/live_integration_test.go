//go:build integration

package prom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// series is one series of the test exporter's control API.
type series struct {
	Name   string            `json:"name"`
	Type   string            `json:"type"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
	Rate   float64           `json:"rate,omitempty"`
}

func control(t *testing.T, exporter, method string, ss []series) {
	t.Helper()
	body, err := json.Marshal(ss)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, exporter+"/control/series", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s /control/series: %s", method, resp.Status)
	}
}

// liveSeries is a Deployment "backend" of two pods in namespace ns as
// cAdvisor, kube-state-metrics, the kubelet and an HTTP service export it.
func liveSeries(ns string) []series {
	var out []series
	add := func(name, typ string, value, rate float64, labels ...string) {
		l := map[string]string{"namespace": ns}
		for i := 0; i+1 < len(labels); i += 2 {
			l[labels[i]] = labels[i+1]
		}
		out = append(out, series{Name: name, Type: typ, Labels: l, Value: value, Rate: rate})
	}
	pods := []struct {
		name     string
		cpu, mem float64
	}{{"backend-5c9d7f8b6-x2x9z", 0.6, 300 << 20}, {"backend-5c9d7f8b6-q7k4m", 0.8, 450 << 20}}
	for _, p := range pods {
		add("container_cpu_usage_seconds_total", "counter", 0, p.cpu, "pod", p.name, "container", "app")
		add("container_memory_working_set_bytes", "gauge", p.mem, 0, "pod", p.name, "container", "app")
		add("kube_pod_container_resource_requests", "gauge", 1, 0, "pod", p.name, "container", "app", "resource", "cpu", "unit", "core")
		add("kube_pod_container_resource_limits", "gauge", 512<<20, 0, "pod", p.name, "container", "app", "resource", "memory", "unit", "byte")
		add("kube_pod_container_status_restarts_total", "counter", 0, 0.05, "pod", p.name, "container", "app")
		add("http_requests_total", "counter", 0, 18, "pod", p.name, "code", "200")
		add("http_requests_total", "counter", 0, 2, "pod", p.name, "code", "503")
		for _, b := range []struct {
			le   string
			rate float64
		}{{"0.1", 10}, {"0.25", 19}, {"0.5", 20}, {"+Inf", 20}} {
			add("http_request_duration_seconds_bucket", "counter", 0, b.rate, "pod", p.name, "le", b.le)
		}
	}
	add("kubelet_volume_stats_used_bytes", "gauge", 85e9, 0, "persistentvolumeclaim", "data-backend-0")
	add("kubelet_volume_stats_capacity_bytes", "gauge", 100e9, 0, "persistentvolumeclaim", "data-backend-0")
	return out
}

// TestDefaultTemplatesOnLiveExporterData sets exporter series, lets the
// shared Prometheus scrape them, and checks every named metric's default
// PromQL against the value the series imply.
func TestDefaultTemplatesOnLiveExporterData(t *testing.T) {
	env := testEnv(t, "prometheus")
	ns := fmt.Sprintf("live-%d", time.Now().UnixNano())
	ss := liveSeries(ns)
	control(t, env["OPS_TEST_EXPORTER_URL"], http.MethodPost, ss)
	t.Cleanup(func() { control(t, env["OPS_TEST_EXPORTER_URL"], http.MethodDelete, ss) })
	// Windows of a few scrapes (1s here) so that rates are exact within
	// seconds of the series appearing, not after the default 2 minutes.
	c, err := New(Config{URL: env["PROMETHEUS_URL"], Window: 10 * time.Second, RateWindow: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ref := platform.WorkloadRef{Namespace: ns, Name: "backend"}
	want := map[platform.MetricName]float64{
		platform.MetricCPU:        70,        // 1.4 cores used of 2 requested
		platform.MetricMemory:     87.890625, // 450 MiB of 512 MiB, the fuller pod
		platform.MetricErrorRate:  10,        // 4 of 40 requests per second answered 503
		platform.MetricRequests:   40,        // two pods at 20/s
		platform.MetricLatencyP99: 450,       // rank 39.6 of 40 falls 80% into the (0.25s, 0.5s] bucket
		platform.MetricRestarts:   1,         // 0.1 restarts/s over the 10s window
		platform.MetricDiskUsage:  85,        // 85 GB of 100 GB
	}
	for _, m := range platform.KnownMetrics {
		t.Run(string(m), func(t *testing.T) {
			var got float64
			var last error
			ok := poll(30*time.Second, func() bool {
				res, err := c.Query(context.Background(), platform.MetricQuery{Metric: m, Target: ref})
				if last = err; err != nil {
					return false
				}
				got = res.Series[0].Samples[0].V
				return math.Abs(got-want[m]) <= 0.03*want[m]
			})
			if !ok {
				t.Fatalf("%s = %v after 30s (last error %v), want %v within 3%%", m, got, last, want[m])
			}
		})
	}
	t.Run("stale after the series stop", func(t *testing.T) {
		control(t, env["OPS_TEST_EXPORTER_URL"], http.MethodDelete, ss)
		waitFor(t, 30*time.Second, "cpu_utilization to disappear", func() bool {
			_, err := c.Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: ref})
			return errors.Is(err, ErrNoData)
		})
	})
}
