package agent

import (
	"context"
	"encoding/json"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// metricFor is the metric that shows an alert kind.
func metricFor(k alert.Kind) platform.MetricName {
	switch k {
	case alert.KindCPU:
		return platform.MetricCPU
	case alert.KindErrorRate, alert.KindConnection:
		return platform.MetricErrorRate
	case alert.KindLatency:
		return platform.MetricLatencyP99
	case alert.KindMemory, alert.KindCrashLoop:
		return platform.MetricMemory
	case alert.KindDisk:
		return platform.MetricDiskUsage
	}
	return ""
}

// snapshotCalls are the reads code makes before the planner's first turn.
func (r *run) snapshotCalls() []tools.Call {
	var calls []tools.Call
	add := func(tool tools.Name, args any) {
		raw, _ := json.Marshal(args)
		calls = append(calls, tools.Call{ID: r.nextID("snap"), Tool: tool, Args: raw})
	}
	wl := map[string]string{"namespace": r.ref.Namespace, "name": r.ref.Name}
	switch r.al.Kind {
	case alert.KindDisk:
		switch claim, ok := r.claim(); {
		case r.clickHouseVolume():
			add(tools.CheckStorage, map[string]string{}) // ClickHouse's volume: another's is not in it
		case ok:
			add(tools.GetVolume, map[string]string{"namespace": claim.Namespace, "name": claim.Name})
		}
	case alert.KindHealth:
		add(tools.CheckHealth, map[string]string{"service": r.ref.Name})
	}
	if r.ref.Name == "" {
		return calls
	}
	add(tools.GetServiceStatus, wl)
	if m := metricFor(r.al.Kind); m != "" && r.al.Kind != alert.KindDisk {
		add(tools.QueryMetrics, map[string]string{"namespace": r.ref.Namespace, "name": r.ref.Name, "metric": string(m), "range": "15m"})
	}
	if r.al.Kind == alert.KindConnection {
		add(tools.CheckHealth, map[string]string{"service": r.ref.Name})
	}
	return calls
}

// snapshot gathers the alerted service's state in parallel, before the
// planner's first turn: its outcomes open the situation.
func (r *run) snapshot(ctx context.Context) {
	r.phase(PhaseCheck)
	r.before = r.signalFrom(r.parallel(ctx, PhaseCheck, "code", r.snapshotCalls()))
}
