package sim

import (
	"slices"
	"time"
)

// Defaults applied to fields a scenario leaves out.
const (
	DefaultNamespace   = "ai-data-labs"
	DefaultHistory     = 30 * time.Minute
	DefaultStep        = 15 * time.Second
	DefaultStartup     = 30 * time.Second
	DefaultPodAge      = 24 * time.Hour
	DefaultCrashAfter  = 60 * time.Second
	DefaultCrashPeriod = 40 * time.Second
	DefaultLogInterval = 10 * time.Second
	DefaultTimeoutMS   = 10000
	DefaultHealth      = "http /health"
	DefaultStuckDetail = "HTTP 503 from /health"
	DefaultOOMLog      = "out of memory: would use {working_set}, limit {limit}"
	DefaultDiskPath    = "/var/lib/clickhouse"
	// A StatefulSet's claims: 10Gi half used on an expandable class, resized
	// by the controller in 20s and by the kubelet 20s later.
	DefaultVolumeSize    = 10 << 30
	DefaultStorageClass  = "standard"
	DefaultResizeAfter   = 20 * time.Second
	DefaultFSResizeAfter = 20 * time.Second
)

// Scenario is one simulated platform state and the alert that starts a run. It
// is data, read from internal/sim/scenarios/NAME.yaml; all times inside it are
// relative to the virtual start (negative = before it).
type Scenario struct {
	Name         string        `yaml:"name"`
	Description  string        `yaml:"description"`
	Alert        string        `yaml:"alert"`
	Match        []string      `yaml:"match,omitempty"`
	Namespace    string        `yaml:"namespace,omitempty"`
	History      time.Duration `yaml:"history,omitempty"`
	Step         time.Duration `yaml:"step,omitempty"`
	MetricsDown  bool          `yaml:"metrics_down,omitempty"`
	NotifierDown bool          `yaml:"notifier_down,omitempty"`
	Services     []Service     `yaml:"services"`
	Storage      *Storage      `yaml:"storage,omitempty"`
	Expect       Expect        `yaml:"expect,omitempty"`
	// AlertPayload, if set, is the alert as an Alertmanager webhook payload
	// (JSON, version 4) that the eval suite sends instead of Alert; Alert
	// stays the one-line summary that scenario listings show.
	AlertPayload string `yaml:"alert_payload,omitempty"`
}

// Service is one workload of the namespace and the model of its behaviour.
type Service struct {
	Name             string                `yaml:"name"`
	Kind             string                `yaml:"kind,omitempty"` // Deployment (default) or StatefulSet
	Replicas         int32                 `yaml:"replicas"`
	Paused           bool                  `yaml:"paused,omitempty"`
	AutoscaledBy     string                `yaml:"autoscaled_by,omitempty"`
	Annotations      map[string]string     `yaml:"annotations,omitempty"`
	PodAge           time.Duration         `yaml:"pod_age,omitempty"` // age of the initial pods
	Startup          time.Duration         `yaml:"startup,omitempty"` // new pod → ready
	Containers       []ContainerSpec       `yaml:"containers"`
	Health           string                `yaml:"health,omitempty"` // "http /health" or "tcp 8123"
	DependsOn        []string              `yaml:"depends_on,omitempty"`
	Load             Load                  `yaml:"load,omitempty"`
	Memory           Memory                `yaml:"memory,omitempty"`
	Stuck            *Stuck                `yaml:"stuck,omitempty"`
	DisruptionBudget *DisruptionBudget     `yaml:"disruption_budget,omitempty"`
	Logs             Logs                  `yaml:"logs,omitempty"`
	Events           []EventSpec           `yaml:"events,omitempty"`
	Metrics          map[string][]Override `yaml:"metrics,omitempty"` // by platform.MetricName
	// Volume is the claim of each pod of a StatefulSet (data-NAME-ORDINAL);
	// every StatefulSet has one, with the defaults when it is left out.
	Volume *VolumeSpec `yaml:"volume,omitempty"`
}

// VolumeSpec models the PersistentVolumeClaim of each pod of a StatefulSet
// and its StorageClass. The storage service's claims hold the ClickHouse
// disk: their size defaults to disk.total, their usage is the disk's, and
// the disk's total follows the first claim's capacity.
type VolumeSpec struct {
	Size           Bytes          `yaml:"size,omitempty"`            // default 10Gi
	Used           *Signal[Bytes] `yaml:"used,omitempty"`            // at the start; default half the size
	GrowthPerDay   Bytes          `yaml:"growth_per_day,omitempty"`  // bytes written per day from the start
	StorageClass   string         `yaml:"storage_class,omitempty"`   // default standard
	AllowExpansion *bool          `yaml:"allow_expansion,omitempty"` // the class's allowVolumeExpansion; default true
	// ResizeAfter is how long the controller takes to resize the volume
	// (Resizing), FileSystemResizeAfter how long the kubelet then takes to
	// grow the file system (FileSystemResizePending); the capacity grows after both.
	ResizeAfter           time.Duration `yaml:"resize_after,omitempty"`
	FileSystemResizeAfter time.Duration `yaml:"fs_resize_after,omitempty"`
}

// ContainerSpec is one container of the pod template.
type ContainerSpec struct {
	Name          string `yaml:"name"`
	CPURequest    Millis `yaml:"cpu_request,omitempty"`
	CPULimit      Millis `yaml:"cpu_limit,omitempty"`
	MemoryRequest Bytes  `yaml:"memory_request,omitempty"`
	MemoryLimit   Bytes  `yaml:"memory_limit,omitempty"`
}

// Load models CPU, latency, errors and traffic. Demand is in percent of one
// replica's CPU request; with r ready pods the per-pod load is u = demand/r and
// the observed CPU is min(100, u + amplification·max(0, u − knee)), the extra
// term standing for the retries and GC of an overloaded service. Latency p99 is
// latency_ms + latency_slope_ms·max(0, u − knee); the error rate is
// error_rate + error_slope·max(0, u − knee), plus dependency_error_rate while a
// dependency is down, 100 with no ready pod.
type Load struct {
	Demand              Signal[float64]  `yaml:"demand"`
	Knee                float64          `yaml:"knee,omitempty"`
	Amplification       float64          `yaml:"amplification,omitempty"`
	IdleCPU             float64          `yaml:"idle_cpu,omitempty"`
	LatencyMS           float64          `yaml:"latency_ms,omitempty"`
	LatencySlopeMS      float64          `yaml:"latency_slope_ms,omitempty"`
	TimeoutMS           float64          `yaml:"timeout_ms,omitempty"`
	ErrorRate           Signal[float64]  `yaml:"error_rate,omitempty"`
	ErrorSlope          float64          `yaml:"error_slope,omitempty"`
	DependencyErrorRate float64          `yaml:"dependency_error_rate,omitempty"`
	RequestRate         *Signal[float64] `yaml:"request_rate,omitempty"` // default: equal to demand
}

// Memory models the working set of the memory container. A pod whose limit is
// below the working set is OOM-killed crash_after after it starts (or after the
// working set rises) and then every crash_period.
type Memory struct {
	Container   string         `yaml:"container,omitempty"`   // default: the first container
	WorkingSet  *Signal[Bytes] `yaml:"working_set,omitempty"` // default: half the limit
	CrashAfter  time.Duration  `yaml:"crash_after,omitempty"`
	CrashPeriod time.Duration  `yaml:"crash_period,omitempty"`
	OOMLog      string         `yaml:"oom_log,omitempty"` // {working_set} and {limit} are replaced
}

// Stuck makes the pods that exist at Since answer their health check with
// Detail until they are replaced (rollout restart or eviction); they stay Ready
// and log Log every log interval.
type Stuck struct {
	Since  time.Duration `yaml:"since"`
	Detail string        `yaml:"detail,omitempty"`
	Log    string        `yaml:"log,omitempty"`
}

// DisruptionBudget is a PodDisruptionBudget on the workload's pods.
type DisruptionBudget struct {
	MinAvailable int32 `yaml:"min_available"`
}

// Logs are the ordinary lines every container prints, cycled every Interval.
type Logs struct {
	Interval time.Duration `yaml:"interval,omitempty"`
	Lines    []string      `yaml:"lines,omitempty"`
}

// EventSpec is a Kubernetes event present in the scenario from the start.
type EventSpec struct {
	At      time.Duration `yaml:"at"`
	Type    string        `yaml:"type"` // Normal or Warning
	Reason  string        `yaml:"reason"`
	Object  string        `yaml:"object,omitempty"`
	Message string        `yaml:"message"`
}

// Storage models the ClickHouse server of one service: its data volume and the
// partitions of its tables. Used counts the partitions plus everything else.
type Storage struct {
	Service                string      `yaml:"service,omitempty"` // default clickhouse
	Disk                   DiskSpec    `yaml:"disk"`
	MaxPartitionSizeToDrop Bytes       `yaml:"max_partition_size_to_drop,omitempty"` // 0: no limit
	Tables                 []TableSpec `yaml:"tables,omitempty"`
}

// DiskSpec is the data volume at the virtual start.
type DiskSpec struct {
	Name  string `yaml:"name,omitempty"` // default "default"
	Path  string `yaml:"path,omitempty"` // default /var/lib/clickhouse
	Total Bytes  `yaml:"total"`
	Used  Bytes  `yaml:"used"`
}

// TableSpec is one partitioned table. The partition whose min_age_days is 0 is
// the active one: it grows by growth_per_day and its newest row is always now.
type TableSpec struct {
	Database     string          `yaml:"database"`
	Table        string          `yaml:"table"`
	PartitionBy  string          `yaml:"partition_by"` // month (id YYYYMM) or day (id YYYYMMDD) of the oldest row
	GrowthPerDay Bytes           `yaml:"growth_per_day,omitempty"`
	Partitions   []PartitionSpec `yaml:"partitions"`
}

// PartitionSpec is one partition: its rows span ages max_age_days (oldest) to
// min_age_days (newest) before the virtual start.
type PartitionSpec struct {
	MinAgeDays float64 `yaml:"min_age_days"`
	MaxAgeDays float64 `yaml:"max_age_days"`
	Bytes      Bytes   `yaml:"bytes"`
	Rows       uint64  `yaml:"rows"`
}

// ScenarioInfo is the summary ListScenarios returns.
type ScenarioInfo struct {
	Name        string
	Description string
	Alert       string
}

// withDefaults returns the scenario with every omitted setting filled in.
func (s Scenario) withDefaults() Scenario {
	s.Namespace = or(s.Namespace, DefaultNamespace)
	s.History = orDur(s.History, DefaultHistory)
	s.Step = orDur(s.Step, DefaultStep)
	if s.Storage != nil {
		st := *s.Storage
		st.Service = or(st.Service, "clickhouse")
		st.Disk.Name = or(st.Disk.Name, "default")
		st.Disk.Path = or(st.Disk.Path, DefaultDiskPath)
		s.Storage = &st
	}
	svcs := make([]Service, len(s.Services))
	for i, sv := range s.Services {
		svcs[i] = sv.withDefaults()
		if svcs[i].Kind == "StatefulSet" {
			size := Bytes(DefaultVolumeSize)
			if s.Storage != nil && s.Storage.Service == sv.Name {
				size = s.Storage.Disk.Total
			}
			svcs[i].Volume = sv.Volume.withDefaults(size)
		}
	}
	s.Services = svcs
	return s
}

// withDefaults returns a copy of the volume (sharing nothing with it) with
// its omitted settings filled in; size is its default size.
func (v *VolumeSpec) withDefaults(size Bytes) *VolumeSpec {
	out := VolumeSpec{}
	if v != nil {
		out = *v
		if v.Used != nil {
			u := *v.Used
			u.Steps = slices.Clone(u.Steps)
			out.Used = &u
		}
		if v.AllowExpansion != nil {
			b := *v.AllowExpansion
			out.AllowExpansion = &b
		}
	}
	if out.Size == 0 {
		out.Size = size
	}
	if out.Used == nil {
		out.Used = &Signal[Bytes]{Value: out.Size / 2}
	}
	out.StorageClass = or(out.StorageClass, DefaultStorageClass)
	if out.AllowExpansion == nil {
		yes := true
		out.AllowExpansion = &yes
	}
	out.ResizeAfter = orDur(out.ResizeAfter, DefaultResizeAfter)
	out.FileSystemResizeAfter = orDur(out.FileSystemResizeAfter, DefaultFSResizeAfter)
	return &out
}

func (sv Service) withDefaults() Service {
	sv.Kind = or(sv.Kind, "Deployment")
	sv.PodAge = orDur(sv.PodAge, DefaultPodAge)
	sv.Startup = orDur(sv.Startup, DefaultStartup)
	sv.Health = or(sv.Health, DefaultHealth)
	if sv.Load.TimeoutMS == 0 {
		sv.Load.TimeoutMS = DefaultTimeoutMS
	}
	if sv.Memory.Container == "" && len(sv.Containers) > 0 {
		sv.Memory.Container = sv.Containers[0].Name
	}
	sv.Memory.CrashAfter = orDur(sv.Memory.CrashAfter, DefaultCrashAfter)
	sv.Memory.CrashPeriod = orDur(sv.Memory.CrashPeriod, DefaultCrashPeriod)
	sv.Memory.OOMLog = or(sv.Memory.OOMLog, DefaultOOMLog)
	sv.Logs.Interval = orDur(sv.Logs.Interval, DefaultLogInterval)
	if sv.Stuck != nil {
		st := *sv.Stuck
		st.Detail = or(st.Detail, DefaultStuckDetail)
		sv.Stuck = &st
	}
	return sv
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orDur(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}
