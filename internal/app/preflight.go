package app

import (
	"context"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/preflight"
	"github.com/duet-company/ops-skill/internal/prom"
)

// metricsOf are the metrics a run reads for an alert kind: those the guard
// needs to allow an action, and those the diagnosis reads.
func metricsOf(k alert.Kind) (required, used []platform.MetricName) {
	switch k {
	case alert.KindCPU:
		return []platform.MetricName{platform.MetricCPU}, []platform.MetricName{platform.MetricRequests, platform.MetricLatencyP99}
	case alert.KindErrorRate:
		return []platform.MetricName{platform.MetricErrorRate}, []platform.MetricName{platform.MetricRequests}
	case alert.KindLatency:
		return []platform.MetricName{platform.MetricLatencyP99}, []platform.MetricName{platform.MetricRequests}
	case alert.KindMemory, alert.KindCrashLoop:
		return nil, []platform.MetricName{platform.MetricMemory}
	}
	return nil, nil
}

// metricTargets lists, once per workload, what the alerts will read.
func metricTargets(alerts []alert.Alert) []preflight.MetricTarget {
	var out []preflight.MetricTarget
	seen := map[string]bool{}
	for _, a := range alerts {
		if a.Service == "" || a.Status != "firing" {
			continue
		}
		req, used := metricsOf(a.Kind)
		if len(req)+len(used) == 0 {
			continue
		}
		ref := platform.WorkloadRef{Namespace: a.Namespace, Name: a.Service}
		key := ref.String() + "|" + string(a.Kind)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, preflight.MetricTarget{Ref: ref, Required: req, Used: used})
	}
	return out
}

// metricPreflight checks, before the first action, that each metric the
// alerts' runs need has series for their targets.
func (d deps) metricPreflight(m platform.Metrics) func(ctx context.Context, alerts []alert.Alert) error {
	return func(ctx context.Context, alerts []alert.Alert) error {
		targets := metricTargets(alerts)
		if m == nil || len(targets) == 0 {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
		defer cancel()
		var rep preflight.Report
		rep.Add(preflight.MetricChecks(ctx, m, targets, preflight.MetricOptions{Now: d.clock.Now, Source: prom.SourceOf})...)
		if err := preflightError(rep); err != nil {
			return err
		}
		d.warn(rep)
		return nil
	}
}
