package prom

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// Template variables of a metric template (see TemplateData). The default
// templates follow the labels of cAdvisor (container_*), kube-state-metrics
// (kube_pod_*), the kubelet's volume stats (kubelet_volume_stats_*) and the
// common HTTP conventions (http_requests_total with a "code" label,
// http_request_duration_seconds histogram). Gauges are read through
// last_over_time over .Window and counters through rate over .RateWindow, so
// a series that stops reporting disappears from the answer after that long
// instead of being carried forward by Prometheus' 5-minute lookback: the
// guard can then see gaps and stale data.
const (
	podSel = `namespace="{{.Namespace}}", pod=~"{{.PodRegex}}"`
	ctrSel = podSel + `, container!="", container!="POD"`
	pvcSel = `namespace="{{.Namespace}}", persistentvolumeclaim=~"{{.PVCRegex}}"`
)

// DefaultTemplates holds the PromQL of every named metric.
var DefaultTemplates = map[platform.MetricName]string{
	platform.MetricCPU: `100 * sum(rate(container_cpu_usage_seconds_total{` + ctrSel + `}[{{.RateWindow}}]))` +
		` / sum(last_over_time(kube_pod_container_resource_requests{` + podSel + `, resource="cpu"}[{{.Window}}]))`,
	platform.MetricMemory: `100 * max(sum by (pod) (last_over_time(container_memory_working_set_bytes{` + ctrSel + `}[{{.Window}}]))` +
		` / sum by (pod) (last_over_time(kube_pod_container_resource_limits{` + podSel + `, resource="memory"}[{{.Window}}])))`,
	platform.MetricErrorRate: `100 * (sum(rate(http_requests_total{` + podSel + `, code=~"5.."}[{{.RateWindow}}])) or on() vector(0))` +
		` / clamp_min(sum(rate(http_requests_total{` + podSel + `}[{{.RateWindow}}])), 1e-9)`,
	platform.MetricLatencyP99: `1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{` + podSel + `}[{{.RateWindow}}])))`,
	platform.MetricRestarts:   `sum(increase(kube_pod_container_status_restarts_total{` + podSel + `}[{{.Step}}]))`,
	platform.MetricDiskUsage: `100 * max(last_over_time(kubelet_volume_stats_used_bytes{` + pvcSel + `}[{{.Window}}])` +
		` / last_over_time(kubelet_volume_stats_capacity_bytes{` + pvcSel + `}[{{.Window}}]))`,
	platform.MetricRequests: `sum(rate(http_requests_total{` + podSel + `}[{{.RateWindow}}]))`,
}

// TemplateData is what a metric template can use.
type TemplateData struct {
	Namespace string
	Name      string
	// PodRegex matches the pods of a Deployment (name-<hash>-<suffix>) or a
	// StatefulSet (name-<ordinal>).
	PodRegex string
	// PVCRegex matches a StatefulSet's volume claims (<template>-name-<ordinal>).
	PVCRegex string
	// Window bounds how far back a gauge's last sample is taken (PromQL duration).
	Window string
	// RateWindow is the range of rate() and increase().
	RateWindow string
	// Step is the range query step, at least RateWindow (for "per step" counts).
	Step string
}

// dnsName is a Kubernetes object or namespace name; validating it keeps the
// rendered PromQL free of injected matchers.
func isDNSName(s string) bool { return len(validation.IsDNS1123Subdomain(s)) == 0 }

// templates holds the parsed templates, defaults overridden by config.
type templates map[platform.MetricName]*template.Template

// parseTemplates parses the defaults and the overrides; an override for an
// unknown metric or an unparsable one is an error naming it.
func parseTemplates(overrides map[platform.MetricName]string) (templates, error) {
	src := map[platform.MetricName]string{}
	for k, v := range DefaultTemplates {
		src[k] = v
	}
	for k, v := range overrides {
		if _, ok := DefaultTemplates[k]; !ok {
			return nil, fmt.Errorf("prometheus template for %q: unknown metric (known: %s)", k, knownNames())
		}
		if strings.TrimSpace(v) != "" {
			src[k] = v
		}
	}
	out := templates{}
	for k, v := range src {
		t, err := template.New(string(k)).Option("missingkey=error").Parse(v)
		if err != nil {
			return nil, fmt.Errorf("prometheus template for %q: %w", k, err)
		}
		if _, err := render(t, TemplateData{Namespace: "ns", Name: "name", PodRegex: "p", PVCRegex: "p", Window: "1m", RateWindow: "1m", Step: "1m"}); err != nil {
			return nil, fmt.Errorf("prometheus template for %q: %w", k, err)
		}
		out[k] = t
	}
	return out, nil
}

func knownNames() string {
	names := make([]string, len(platform.KnownMetrics))
	for i, m := range platform.KnownMetrics {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

func render(t *template.Template, d TemplateData) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// data builds the template variables for a workload; the name and namespace
// must be DNS names.
func (c *Client) data(metric string, ref platform.WorkloadRef, step time.Duration) (TemplateData, error) {
	for _, f := range []struct{ field, v string }{{"namespace", ref.Namespace}, {"name", ref.Name}} {
		if !isDNSName(f.v) {
			return TemplateData{}, &Error{Kind: ErrBadQuery, Metric: metric, Msg: fmt.Sprintf("%s %q is not a Kubernetes name", f.field, text.Clip(f.v, 60))}
		}
	}
	// Escape regexp metacharacters (dots), then the backslashes for the
	// PromQL string literal.
	name := strings.ReplaceAll(regexp.QuoteMeta(ref.Name), `\`, `\\`)
	return TemplateData{
		Namespace:  ref.Namespace,
		Name:       ref.Name,
		PodRegex:   name + `-[a-z0-9]{5,10}-[a-z0-9]{5}|` + name + `-[0-9]+`,
		PVCRegex:   `.+-` + name + `-[0-9]+`,
		Window:     promDuration(c.window),
		RateWindow: promDuration(c.rateWindow),
		Step:       promDuration(max(step, c.rateWindow)),
	}, nil
}

// since narrows the gauge and rate windows to the time after a change,
// never widening them: only samples taken after it count. PromQL durations
// go down to the millisecond.
func (d TemplateData) since(window, rateWindow, after time.Duration) TemplateData {
	narrow := func(w time.Duration) string { return promDuration(max(min(w, after), time.Millisecond)) }
	d.Window, d.RateWindow = narrow(window), narrow(rateWindow)
	return d
}

// forVolume narrows the volume matchers to one claim of the namespace.
func (d TemplateData) forVolume(metric, claim string) (TemplateData, error) {
	if !isDNSName(claim) {
		return d, &Error{Kind: ErrBadQuery, Metric: metric, Msg: fmt.Sprintf("persistentvolumeclaim %q is not a Kubernetes name", text.Clip(claim, 60))}
	}
	d.PVCRegex = strings.ReplaceAll(regexp.QuoteMeta(claim), `\`, `\\`)
	return d, nil
}

// promDuration renders a duration in PromQL syntax (whole milliseconds).
func promDuration(d time.Duration) string {
	return model.Duration(d.Truncate(time.Millisecond)).String()
}

// SourceOf says which series a default metric template reads and which
// exporter provides them, for messages about a metric without data.
func SourceOf(name platform.MetricName) string {
	switch name {
	case platform.MetricCPU:
		return "cpu_utilization reads container_cpu_usage_seconds_total (cAdvisor, scraped from each kubelet) and kube_pod_container_resource_requests{resource=\"cpu\"} (kube-state-metrics): have Prometheus scrape both for the workload's pods, and give its containers CPU requests"
	case platform.MetricMemory:
		return "memory_utilization reads container_memory_working_set_bytes (cAdvisor, scraped from each kubelet) and kube_pod_container_resource_limits{resource=\"memory\"} (kube-state-metrics): have Prometheus scrape both, and give the containers memory limits"
	case platform.MetricErrorRate, platform.MetricRequests:
		return string(name) + " reads http_requests_total with a code label, exported by the application itself: instrument it (a Prometheus client library) and scrape its pods"
	case platform.MetricLatencyP99:
		return "latency_p99_ms reads the http_request_duration_seconds histogram, exported by the application itself: instrument it and scrape its pods"
	case platform.MetricRestarts:
		return "restarts reads kube_pod_container_status_restarts_total (kube-state-metrics): have Prometheus scrape kube-state-metrics"
	case platform.MetricDiskUsage:
		return "disk_usage reads kubelet_volume_stats_used_bytes and _capacity_bytes (the kubelet's volume stats): have Prometheus scrape the kubelets"
	}
	return string(name) + " is not one of the default templates: check its template in the config file"
}
