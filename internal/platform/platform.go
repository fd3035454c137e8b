// Package platform holds the backend ports of ops-skill: the small interfaces that
// the tools and the agent call to read and change the platform (Kubernetes,
// Prometheus, ClickHouse, health checks, notifications), and the plain data types
// they exchange. Real adapters (client-go, client_golang, clickhouse-go, net/http)
// and the simulated platform implement these ports; nothing above them knows which
// one it talks to.
//
// The package depends on nothing else in the project.
package platform

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors shared by every backend. Adapters wrap them with %w so callers
// can test with errors.Is.
var (
	// ErrNotFound means the named workload, pod, table or partition does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the object changed since it was read (resourceVersion mismatch).
	ErrConflict = errors.New("conflict: object changed since it was read")
	// ErrDisruptionBudget means an eviction was refused by a PodDisruptionBudget.
	ErrDisruptionBudget = errors.New("eviction refused by disruption budget")
	// ErrSizeLimit means a partition is larger than the server allows to drop.
	ErrSizeLimit = errors.New("partition larger than the server's max_partition_size_to_drop")
	// ErrUnsupported means the backend cannot answer this kind of request.
	ErrUnsupported = errors.New("not supported by this backend")
	// ErrUnavailable means the backend could not be reached or answered with a server error.
	ErrUnavailable = errors.New("backend unavailable")
)

// WorkloadRef names a workload. Every tool that targets a workload takes these two fields.
type WorkloadRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// String renders the ref as namespace/name.
func (r WorkloadRef) String() string { return r.Namespace + "/" + r.Name }

// Workload is the observed state of a Deployment or StatefulSet.
type Workload struct {
	Ref               WorkloadRef       `json:"ref"`
	Kind              string            `json:"kind"` // Deployment or StatefulSet
	Replicas          int32             `json:"replicas"`
	ReadyReplicas     int32             `json:"readyReplicas"`
	UpdatedReplicas   int32             `json:"updatedReplicas"`
	AvailableReplicas int32             `json:"availableReplicas"`
	Paused            bool              `json:"paused,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
	// AutoscaledBy names the object that owns the replica count, such as
	// "HorizontalPodAutoscaler/backend" or "ScaledObject/backend"; empty when none.
	AutoscaledBy    string      `json:"autoscaledBy,omitempty"`
	Containers      []Container `json:"containers"`
	ResourceVersion string      `json:"resourceVersion,omitempty"`
	Generation      int64       `json:"generation,omitempty"`
	Pods            []Pod       `json:"pods"`
	Events          []Event     `json:"events,omitempty"`
}

// Container holds the resource settings of one container of the pod template.
// Zero means unset.
type Container struct {
	Name          string `json:"name"`
	CPURequestM   int64  `json:"cpuRequestMillis,omitempty"`
	CPULimitM     int64  `json:"cpuLimitMillis,omitempty"`
	MemoryRequest int64  `json:"memoryRequestBytes,omitempty"`
	MemoryLimit   int64  `json:"memoryLimitBytes,omitempty"`
}

// Pod is the observed state of one pod of a workload.
type Pod struct {
	Name          string       `json:"name"`
	Phase         string       `json:"phase"` // Pending, Running, Succeeded, Failed, Unknown
	Ready         bool         `json:"ready"`
	Restarts      int32        `json:"restarts"`
	WaitingReason string       `json:"waitingReason,omitempty"` // e.g. CrashLoopBackOff
	LastTerm      *Termination `json:"lastTermination,omitempty"`
	StartedAt     time.Time    `json:"startedAt"`
}

// Termination is the last termination of a pod's main container.
type Termination struct {
	Reason     string    `json:"reason"` // e.g. OOMKilled, Error
	ExitCode   int32     `json:"exitCode"`
	FinishedAt time.Time `json:"finishedAt"`
}

// Event is a Kubernetes-style event about a workload or its pods.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"` // Normal or Warning
	Reason  string    `json:"reason"`
	Object  string    `json:"object,omitempty"`
	Message string    `json:"message"`
}

// ScaleRequest asks to set the replicas of a workload. ExpectedVersion, when set,
// makes the write fail with ErrConflict if the object changed since it was read.
// Annotations are written in the same update (guard state).
type ScaleRequest struct {
	Replicas        int32
	ExpectedVersion string
	Annotations     map[string]string
	DryRun          bool
}

// RestartRequest asks for a rollout restart of a workload.
type RestartRequest struct {
	ExpectedVersion string
	Annotations     map[string]string
	DryRun          bool
}

// ResourceRequest asks to change the limits of one container. Zero leaves a value as it is.
type ResourceRequest struct {
	Container       string
	MemoryLimit     int64
	CPULimitM       int64
	ExpectedVersion string
	Annotations     map[string]string
	DryRun          bool
}

// RecycleRequest asks to replace the pods that keep a workload's rollout from
// progressing after its pod template changed: a StatefulSet's pods that are
// not ready and still on an old revision. The StatefulSet controller
// (OrderedReady, RollingUpdate) waits for every pod to be Running and Ready
// before it replaces one, so a StatefulSet whose pods crash-loop never rolls
// by itself; Kubernetes documents deleting those pods ("forced rollback").
// A ready pod is never replaced, and at most Max pods are (zero or less:
// none). DryRun asks what would be replaced, as if the template had just
// changed, and has the server validate the deletions without doing them.
type RecycleRequest struct {
	Max    int
	DryRun bool
}

// RecycleResult is what a recycle did: the pods deleted, for the controller
// to recreate at the new revision, and those that qualified but were left
// as they are because of the bound.
type RecycleResult struct {
	Recycled []string `json:"recycled,omitempty"`
	Left     []string `json:"left,omitempty"`
}

// LogQuery bounds a log read.
type LogQuery struct {
	Pod       string // empty: all pods of the workload
	TailLines int
	MaxBytes  int
	Filter    string // case-insensitive substring; empty: no filter
	Previous  bool   // logs of the previous (crashed) container
}

// LogLine is one log line of one pod.
type LogLine struct {
	Pod  string    `json:"pod"`
	Time time.Time `json:"time"`
	Text string    `json:"text"`
}

// Cluster is the Kubernetes port.
type Cluster interface {
	GetWorkload(ctx context.Context, ref WorkloadRef) (Workload, error)
	ListWorkloads(ctx context.Context, namespace string) ([]Workload, error)
	Scale(ctx context.Context, ref WorkloadRef, req ScaleRequest) (Workload, error)
	RolloutRestart(ctx context.Context, ref WorkloadRef, req RestartRequest) (Workload, error)
	EvictPod(ctx context.Context, ref WorkloadRef, pod string, dryRun bool) error
	SetResources(ctx context.Context, ref WorkloadRef, req ResourceRequest) (Workload, error)
	// RecycleStalledPods replaces, after a change of the pod template, the
	// pods a rollout cannot replace by itself (see RecycleRequest). A
	// Deployment has none: its controller replaces unready pods itself.
	RecycleStalledPods(ctx context.Context, ref WorkloadRef, req RecycleRequest) (RecycleResult, error)
	Logs(ctx context.Context, ref WorkloadRef, q LogQuery) ([]LogLine, error)
	RecordEvent(ctx context.Context, ref WorkloadRef, ev Event) error
}

// MetricName is a named metric the backends know how to compute for a workload.
type MetricName string

// The named metrics. Utilisations and the error rate are percentages (0-100).
const (
	MetricCPU        MetricName = "cpu_utilization"    // % of CPU requests, average over pods
	MetricMemory     MetricName = "memory_utilization" // % of memory limit, max over pods
	MetricErrorRate  MetricName = "error_rate"         // % of requests answered 5xx or failed
	MetricLatencyP99 MetricName = "latency_p99_ms"     // milliseconds
	MetricRestarts   MetricName = "restarts"           // container restarts in the step
	MetricDiskUsage  MetricName = "disk_usage"         // % of the data volume used
	MetricRequests   MetricName = "request_rate"       // requests per second
)

// KnownMetrics lists the named metrics in a stable order.
var KnownMetrics = []MetricName{MetricCPU, MetricMemory, MetricErrorRate, MetricLatencyP99, MetricRestarts, MetricDiskUsage, MetricRequests}

// MetricQuery asks for a named metric of a workload, or a raw PromQL expression.
// Start zero means an instant query at End (or now when End is zero).
type MetricQuery struct {
	Metric MetricName
	Target WorkloadRef
	PromQL string
	Start  time.Time
	End    time.Time
	Step   time.Duration
	// Volume, when set, is a PersistentVolumeClaim of Target.Namespace: a
	// volume metric (disk_usage) is then read for that claim alone, and
	// Target.Name is not used for it.
	Volume string
	// Since, when set, reads only samples taken after it: the windows of
	// rate() and last_over_time() of an instant query are narrowed to
	// End-Since (never widened), so a reading after a change is not a blend
	// with the samples from before it.
	Since time.Time
}

// Freshness counts how many samples of a named metric's series Prometheus
// took after q.Since (the most of any one series of q.Target): the evidence
// that a reading after a change is made of samples from after it.
type Freshness interface {
	FreshSamples(ctx context.Context, q MetricQuery) (int, error)
}

// RolloutProgress is how far a workload's rollout has come, as `kubectl
// rollout status` reads it: Done once the controller observed the latest
// spec and every desired replica is updated and available, with no old one
// left.
type RolloutProgress struct {
	Done    bool   `json:"done"`
	Failed  bool   `json:"failed,omitempty"` // e.g. the progress deadline was exceeded
	Message string `json:"message"`
}

// Rollouts reads the rollout progress of a workload.
type Rollouts interface {
	RolloutProgress(ctx context.Context, ref WorkloadRef) (RolloutProgress, error)
}

// Sample is one value at one time.
type Sample struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Series is one labelled time series.
type Series struct {
	Labels  map[string]string `json:"labels,omitempty"`
	Samples []Sample          `json:"samples"`
}

// MetricResult is the answer to a MetricQuery.
type MetricResult struct {
	Series   []Series `json:"series"`
	Warnings []string `json:"warnings,omitempty"`
}

// Metrics is the Prometheus port.
type Metrics interface {
	Query(ctx context.Context, q MetricQuery) (MetricResult, error)
}

// Disk is one data volume of the database server.
type Disk struct {
	Name       string `json:"name"`
	Path       string `json:"path"`
	TotalBytes uint64 `json:"totalBytes"`
	FreeBytes  uint64 `json:"freeBytes"`
}

// Partition is one partition of a table, aggregated over its active parts.
type Partition struct {
	Database    string    `json:"database"`
	Table       string    `json:"table"`
	Partition   string    `json:"partition"`
	PartitionID string    `json:"partitionId"`
	Rows        uint64    `json:"rows"`
	Bytes       uint64    `json:"bytes"`
	MinTime     time.Time `json:"minTime"`
	MaxTime     time.Time `json:"maxTime"`
}

// PartitionFilter narrows a partition listing; empty fields match everything.
type PartitionFilter struct {
	Database string
	Table    string
}

// DiskReader reads the storage's disks: what a partition drop frees shows
// there.
type DiskReader interface {
	Disks(ctx context.Context) ([]Disk, error)
}

// Storage is the ClickHouse port.
type Storage interface {
	DiskReader
	Partitions(ctx context.Context, f PartitionFilter) ([]Partition, error)
	// MaxPartitionSizeToDrop returns the server's limit in bytes; 0 means no limit.
	MaxPartitionSizeToDrop(ctx context.Context) (uint64, error)
	DropPartition(ctx context.Context, database, table, partitionID string) error
}

// HealthResult is the outcome of one health check.
type HealthResult struct {
	Service string        `json:"service"`
	Check   string        `json:"check"` // e.g. "http /health", "tcp 8123"
	OK      bool          `json:"ok"`
	Detail  string        `json:"detail,omitempty"`
	Latency time.Duration `json:"-"` // latencyMs in JSON
	At      time.Time     `json:"at"`
	// ConsecutiveFailures is how many checks in a row, at the checker's
	// interval and ending with this one, have failed (0 when this one passed).
	ConsecutiveFailures int `json:"consecutiveFailures"`
}

// Health runs the health-check matrix.
type Health interface {
	Check(ctx context.Context, service string) (HealthResult, error)
	Services() []string
}

// Notification is one message to the team.
//
// Title, Text, Fields and Links are enough for a plain message. The structured
// fields below them (Alert, Target, State, Actions, VerificationDetail,
// TimeToResolution, At) let channels lay the message out (Slack blocks, the
// PagerDuty dedup key, Grafana annotations); they are optional, and a channel
// falls back to Text when they are empty.
type Notification struct {
	Severity   string            `json:"severity"` // info, warning, critical
	Title      string            `json:"title"`
	Text       string            `json:"text"`
	Service    string            `json:"service,omitempty"`
	IncidentID string            `json:"incidentId,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"` // "verification": resolved|unresolved|worse
	Links      map[string]string `json:"links,omitempty"`  // "dashboard": Grafana, "alert": the alert's generatorURL
	Escalate   bool              `json:"escalate,omitempty"`

	// Alert is the alert as received: what fired.
	Alert string `json:"alert,omitempty"`
	// Where names the platform the notification is about.
	Where Where `json:"platform"`
	// Target names what the notification is about, the key of notification
	// cooldowns and of the pager's dedup key: "namespace/name" of the workload,
	// or "fingerprint:…" when the alert names none.
	Target string `json:"target,omitempty"`
	// State is the outcome the notification reports, one of the NotifyState
	// constants: resolved, unresolved, worse, escalated, acted.
	State string `json:"state,omitempty"`
	// Actions lists the writes of the run (executed, dry-run, failed) and its
	// refusals, in order.
	Actions []NotificationAction `json:"actions,omitempty"`
	// VerificationDetail is the verification in one line, such as
	// "CPU after 2m: 45% (was 85%)"; the result is Fields["verification"].
	VerificationDetail string `json:"verificationDetail,omitempty"`
	// TimeToResolution is the time from the start of the run (or of the alert)
	// to a resolved verification; zero when not resolved.
	TimeToResolution time.Duration `json:"timeToResolution,omitempty"`
	// At is when the notification was built (the agent's clock).
	At time.Time `json:"at,omitzero"`
}

// Notification states (Notification.State).
const (
	NotifyResolved   = string(VerifyResolved)   // verification found the alert's signal back to normal
	NotifyUnresolved = string(VerifyUnresolved) // acted, the signal did not recover
	NotifyWorse      = string(VerifyWorse)      // acted, the signal got worse
	NotifyEscalated  = "escalated"              // handed to people (pager)
	NotifyActed      = "acted"                  // acted or refused, nothing verified
)

// NotificationAction is one write or refusal reported by a notification.
type NotificationAction struct {
	Tool   string `json:"tool"`             // e.g. scaleDeployment
	Target string `json:"target,omitempty"` // e.g. ai-data-labs/backend
	// Status is executed, dry_run, refused or failed.
	Status string `json:"status"`
	// Summary is one line, such as "scale ai-data-labs/backend from 3 to 4 replicas".
	Summary string `json:"summary"`
	// From and To are the changed value before and after, such as "3" and "4"
	// (replicas) or "4Gi" and "8Gi" (memory limit); empty when not a change of value.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Rule and Reason explain a refusal (or a clamp).
	Rule   string    `json:"rule,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// Notifier delivers notifications (Slack-style webhook, pager, transcript).
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}
