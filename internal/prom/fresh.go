package prom

import (
	"context"
	"fmt"
	"text/template"

	"github.com/duet-company/ops-skill/internal/platform"
)

// freshTemplates count, per named metric, the samples after a change of the
// raw series its default template reads: the most of any one series, since a
// pod that left during the rollout has only the few it took before.
var freshTemplates = func() map[platform.MetricName]*template.Template {
	family := map[platform.MetricName]string{
		platform.MetricCPU:        `container_cpu_usage_seconds_total{` + ctrSel + `}`,
		platform.MetricMemory:     `container_memory_working_set_bytes{` + ctrSel + `}`,
		platform.MetricErrorRate:  `http_requests_total{` + podSel + `}`,
		platform.MetricLatencyP99: `http_request_duration_seconds_bucket{` + podSel + `}`,
		platform.MetricRestarts:   `kube_pod_container_status_restarts_total{` + podSel + `}`,
		platform.MetricDiskUsage:  `kubelet_volume_stats_used_bytes{` + pvcSel + `}`,
		platform.MetricRequests:   `http_requests_total{` + podSel + `}`,
	}
	out := map[platform.MetricName]*template.Template{}
	for m, sel := range family {
		out[m] = template.Must(template.New(string(m)).Option("missingkey=error").Parse(`max(count_over_time(` + sel + `[{{.RateWindow}}]))`))
	}
	return out
}()

// FreshSamples counts the samples Prometheus took after q.Since of the
// series q.Metric reads for q.Target (see platform.Freshness). A metric
// without a fresh template, or without samples yet, counts 0.
func (c *Client) FreshSamples(ctx context.Context, q platform.MetricQuery) (int, error) {
	t, ok := freshTemplates[q.Metric]
	if !ok || q.Since.IsZero() {
		return 0, nil
	}
	d, err := c.data(string(q.Metric), q.Target, 0)
	if err != nil {
		return 0, err
	}
	if q.Volume != "" {
		if d, err = d.forVolume(string(q.Metric), q.Volume); err != nil {
			return 0, err
		}
	}
	end := c.end(q)
	if !end.After(q.Since) {
		return 0, nil
	}
	after := end.Sub(q.Since)
	expr, err := render(t, d.since(after, after, after))
	if err != nil {
		return 0, fmt.Errorf("fresh samples of %s: %w", q.Metric, err)
	}
	res, err := c.Query(ctx, platform.MetricQuery{PromQL: expr, End: end})
	if err != nil {
		return 0, fmt.Errorf("fresh samples of %s: %w", q.Metric, err)
	}
	if len(res.Series) == 0 || len(res.Series[0].Samples) == 0 {
		return 0, nil
	}
	return int(res.Series[0].Samples[0].V), nil
}

var _ platform.Freshness = (*Client)(nil)
