package tools

import (
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Deps are the backends of every tool of ops-skill and the gate's own, as
// the composition root has them. NewRegistry gives each tool only those it
// uses; a nil backend makes its tools fail with a clear "not configured"
// error (a NotConfiguredError), decided once, when the tools are built.
type Deps struct {
	Cluster   platform.Cluster
	Metrics   platform.Metrics
	Storage   platform.Storage
	Volumes   platform.Volumes // PersistentVolumeClaims: the cluster's, or the simulated ones
	Health    platform.Health
	Notifier  platform.Notifier // nil: messages stay in the transcript and history
	Incidents IncidentStore
	State     StateStore // nil: the guard's state lives only in the workload annotation
	Recorder  Recorder   // nil: no history, nothing recorded
	History   HistoryReader
	Clock     clock.PassiveClock // nil: the real clock
	Policy    Policy
}

// NewRegistry builds the gate with every tool of ops-skill (All).
func NewRegistry(d Deps) *Registry {
	return newRegistry(Gate{Policy: d.Policy, Recorder: d.Recorder, Clock: d.Clock}, All(d)) // All has one tool per name
}

// All builds every tool of ops-skill, in the registry's order (AllNames),
// each with exactly the backends of d it uses.
func All(d Deps) []Tool {
	pol := d.Policy
	return []Tool{
		NewQueryMetrics(d.Metrics, d.Clock),
		NewGetServiceStatus(d.Cluster, d.Clock),
		NewGetLogs(d.Cluster),
		NewCheckStorage(d.Storage, d.Clock, pol.Partitions),
		NewGetVolume(d.Volumes, d.Metrics, d.Clock),
		NewCheckHealth(d.Health, d.Clock),
		NewQueryHistory(d.History, d.Clock),
		NewScaleDeployment(d.Cluster, d.Metrics, d.State, d.Recorder, d.Clock, pol.Scaling),
		NewRestartPods(d.Cluster, d.Health, d.State, d.Clock, pol.Healing),
		NewUpdateResources(d.Cluster, d.State, d.Clock, pol.Healing),
		NewDropPartitions(d.Storage, d.Clock, pol.Partitions),
		NewExpandVolume(d.Volumes, d.State, d.Clock, pol.Volumes),
		NewNotify(d.Notifier, pol.NotifyEnabled),
		NewCreateIncident(d.Incidents),
	}
}

// realIfNil is the clock a tool reads: the real one when none is given.
func realIfNil(c clock.PassiveClock) clock.PassiveClock {
	if c == nil {
		return clock.RealClock{}
	}
	return c
}

// The backends tools fail without, and how to configure them.
var (
	errNoKubernetes = &NotConfiguredError{Backend: "kubernetes", How: "set KUBECONFIG or use --simulate"}
	errNoMetrics    = &NotConfiguredError{Backend: "metrics", How: "set PROMETHEUS_URL or use --simulate"}
	errNoClickHouse = &NotConfiguredError{Backend: "clickhouse", How: "set CLICKHOUSE_URL or use --simulate"}
	errNoHealth     = &NotConfiguredError{Backend: "health checks", How: "configure the health matrix or use --simulate"}
	errNoHistory    = &NotConfiguredError{Backend: "history", How: "the history database is not open"}
	errNoIncidents  = &NotConfiguredError{Backend: "incident store", How: "history is not open"}
	// errNoGuardMetrics is the observation the guard judges when scaling without metrics.
	errNoGuardMetrics = &NotConfiguredError{Backend: "metrics", How: "set PROMETHEUS_URL"}
)
