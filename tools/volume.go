package tools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/units"
)

// The usage window getVolume reads: long enough for a growth rate, at a
// step Prometheus answers cheaply.
const (
	volumeWindow = 6 * time.Hour
	volumeStep   = 5 * time.Minute
	// minGrowthSpan is the shortest run of samples a growth rate is taken from.
	minGrowthSpan = 10 * time.Minute
)

// VolumeArgs names the PersistentVolumeClaim a volume tool targets.
type VolumeArgs struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (a VolumeArgs) namespace() string { return a.Namespace }
func (a VolumeArgs) target() string    { return a.Namespace + "/" + a.Name }

// Validate checks both names are well-formed Kubernetes names.
func (a VolumeArgs) Validate() error {
	return errors.Join(checkName("namespace", a.Namespace, 63), checkName("name", a.Name, 253))
}

// VolumeStateKey is the key under which a StateStore keeps the guard's state
// of a claim: its namespace and "persistentvolumeclaim/NAME", which no
// workload can be named.
func VolumeStateKey(ref platform.VolumeRef) platform.WorkloadRef {
	return platform.WorkloadRef{Namespace: ref.Namespace, Name: "persistentvolumeclaim/" + ref.Name}
}

// Expansion is where a claim's last expansion stands, as its status says.
type Expansion string

// Expansion states, from the claim's status: its capacity against its
// request, its conditions and allocatedResourceStatuses.
const (
	ExpansionComplete   Expansion = "complete"                   // the capacity has reached the request
	ExpansionPending    Expansion = "pending"                    // requested more, nothing started yet
	ExpansionResizing   Expansion = "resizing"                   // the controller resizes the volume
	ExpansionFileSystem Expansion = "file_system_resize_pending" // the kubelet has yet to grow the file system
	ExpansionFailed     Expansion = "failed"                     // the resize failed (see conditions)
)

// ExpansionOf reads where a claim's expansion stands from its status.
func ExpansionOf(v platform.Volume) Expansion {
	_, ctrlErr := v.Condition(platform.VolumeControllerResizeError)
	_, nodeErr := v.Condition(platform.VolumeNodeResizeError)
	_, fs := v.Condition(platform.VolumeFileSystemResizePending)
	_, resizing := v.Condition(platform.VolumeResizing)
	rs := v.ResizeStatus
	switch {
	case ctrlErr || nodeErr || strings.HasSuffix(rs, "Infeasible"):
		return ExpansionFailed
	case fs || strings.HasPrefix(rs, "Node"):
		return ExpansionFileSystem
	case resizing || strings.HasPrefix(rs, "Controller"):
		return ExpansionResizing
	case v.Capacity < v.Requested:
		return ExpansionPending
	}
	return ExpansionComplete
}

// VolumeStatus is a claim as a planner sees it: what its class allows, its
// sizes, its expansion and, when Prometheus has the kubelet's volume stats,
// its usage, growth and days to full.
type VolumeStatus struct {
	Target         string    `json:"target"`
	StorageClass   string    `json:"storageClass,omitempty"`
	AllowExpansion bool      `json:"allowExpansion"`
	ClassProblem   string    `json:"classProblem,omitempty"`
	Phase          string    `json:"phase"`
	Requested      string    `json:"requested"`
	Capacity       string    `json:"capacity"`
	Expansion      Expansion `json:"expansion"`
	Conditions     []string  `json:"conditions,omitempty"`
	// UsagePct is nil when the usage could not be read (UsageNote says why).
	UsagePct     *float64 `json:"usagePct,omitempty"`
	GrowthPerDay string   `json:"growthPerDay,omitempty"`
	DaysToFull   float64  `json:"daysToFull,omitempty"`
	UsageNote    string   `json:"usageNote,omitempty"`

	RequestedBytes    int64   `json:"requestedBytes"`
	CapacityBytes     int64   `json:"capacityBytes"`
	GrowthBytesPerDay float64 `json:"growthBytesPerDay,omitempty"`
}

// UsageKnown reports whether the usage was read.
func (s VolumeStatus) UsageKnown() bool { return s.UsagePct != nil }

// Usage is the usage in percent; 0 when unknown.
func (s VolumeStatus) Usage() float64 {
	if s.UsagePct == nil {
		return 0
	}
	return *s.UsagePct
}

// volumeReader answers getVolume with the backends it uses.
type volumeReader struct {
	volumes platform.Volumes
	obs     observer
	clock   clock.PassiveClock
}

// NewGetVolume builds getVolume: it reads the claim through v and its usage
// (the kubelet's volume stats) through m. Without v its calls fail (not
// configured); without m the usage is unknown.
func NewGetVolume(v platform.Volumes, m platform.Metrics, clk clock.PassiveClock) Tool {
	t := reader[VolumeArgs]{about: about{GetVolume, RiskRead, "A PVC: expandable?, size, usage, growth."},
		read: unavailable[VolumeArgs](errNoKubernetes)}
	if v != nil {
		t.read = volumeReader{v, newObserver(m), realIfNil(clk)}.read
	}
	return t
}

func (r volumeReader) read(ctx context.Context, _ *Run, a VolumeArgs) (Answer, error) {
	ref := platform.VolumeRef(a)
	v, err := r.volumes.GetVolume(ctx, ref)
	if err != nil {
		return Answer{}, err
	}
	st := volumeStatus(v)
	r.usage(ctx, ref, &st)
	return Answer{st, describeVolume(st)}, nil
}

func volumeStatus(v platform.Volume) VolumeStatus {
	st := VolumeStatus{Target: v.Ref.String(), StorageClass: v.StorageClass, AllowExpansion: v.AllowExpansion, ClassProblem: v.ClassProblem,
		Phase: v.Phase, Requested: units.IBytes(v.Requested), Capacity: units.IBytes(v.Capacity), Expansion: ExpansionOf(v),
		RequestedBytes: v.Requested, CapacityBytes: v.Capacity}
	for _, c := range v.Conditions {
		st.Conditions = append(st.Conditions, strings.TrimSuffix(c.Type+": "+c.Message, ": "))
	}
	return st
}

// usage reads the claim's disk_usage over the window: the last value, and
// the growth since the last drop (an expansion or a clean-up).
func (r volumeReader) usage(ctx context.Context, ref platform.VolumeRef, st *VolumeStatus) {
	now := r.clock.Now()
	obs := r.obs.observeVolume(ctx, ref, now.Add(-volumeWindow), now, volumeStep)
	if obs.Err != nil || len(obs.Samples) == 0 {
		st.UsageNote = "usage unknown: " + errText(obs.Err, "no samples")
		return
	}
	last, perDay, ok := volumeGrowth(obs.Samples)
	st.UsagePct = &last
	switch {
	case !ok:
		st.UsageNote = "growth unknown: fewer than " + units.Duration(minGrowthSpan) + " of samples since the last drop"
	case perDay > 0:
		st.GrowthBytesPerDay = perDay / 100 * float64(st.CapacityBytes)
		st.GrowthPerDay = units.IBytes(int64(st.GrowthBytesPerDay))
		st.DaysToFull = round2((100 - last) / perDay)
	default:
		st.GrowthPerDay = "0B"
	}
}

// observeVolume reads disk_usage of one claim.
func (o observer) observeVolume(ctx context.Context, ref platform.VolumeRef, from, to time.Time, step time.Duration) guard.Observation {
	res, err := o.metrics.Query(ctx, platform.MetricQuery{Metric: platform.MetricDiskUsage, Volume: ref.Name,
		Target: platform.WorkloadRef{Namespace: ref.Namespace, Name: ref.Name}, Start: from, End: to, Step: step})
	if err != nil {
		return guard.Observation{Err: err}
	}
	return guard.ObservationFrom(res, nil)
}

// volumeGrowth returns the last usage and the growth in points per day over
// the samples after the last drop of more than half a point; ok is false
// when they span less than minGrowthSpan.
func volumeGrowth(s []platform.Sample) (last, perDay float64, ok bool) {
	s = sortedSamples(s)
	from := 0
	for i := 1; i < len(s); i++ {
		if s[i].V < s[i-1].V-0.5 {
			from = i
		}
	}
	first, end := s[from], s[len(s)-1]
	span := end.T.Sub(first.T)
	if span < minGrowthSpan {
		return end.V, 0, false
	}
	return end.V, (end.V - first.V) / span.Hours() * 24, true
}

func sortedSamples(s []platform.Sample) []platform.Sample {
	out := slices.Clone(s)
	slices.SortStableFunc(out, func(a, b platform.Sample) int { return a.T.Compare(b.T) })
	return out
}

func errText(err error, otherwise string) string {
	if err != nil {
		return err.Error()
	}
	return otherwise
}

func describeVolume(st VolumeStatus) string {
	var b strings.Builder
	b.WriteString(st.Target + ": ")
	if st.UsageKnown() {
		fmt.Fprintf(&b, "%.0f%% of %s used", st.Usage(), st.Capacity)
		if st.GrowthPerDay != "" && st.DaysToFull > 0 {
			fmt.Fprintf(&b, " (+%s/day, full in %.1f days)", st.GrowthPerDay, st.DaysToFull)
		}
	} else {
		b.WriteString("capacity " + st.Capacity + ", usage unknown")
	}
	if st.Expansion != ExpansionComplete {
		fmt.Fprintf(&b, "; %s requested, expansion %s", st.Requested, st.Expansion)
	}
	switch {
	case st.ClassProblem != "":
		b.WriteString("; StorageClass unknown: " + st.ClassProblem)
	case st.AllowExpansion:
		b.WriteString("; StorageClass " + st.StorageClass + " allows expansion")
	default:
		b.WriteString("; StorageClass " + st.StorageClass + " does not allow expansion")
	}
	return b.String()
}
