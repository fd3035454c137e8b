package sim

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// resize is one write of a claim's requested size, at a time.
type resize struct {
	at   time.Time
	size int64
}

// volume is the record of one PersistentVolumeClaim of a StatefulSet pod:
// its size at creation, its usage and the append-only list of resizes, from
// which its state at any time is computed. A resize is accepted at once
// (spec), the controller resizes the volume resize_after later (Resizing
// until then), the kubelet grows the file system fs_resize_after after that
// (FileSystemResizePending until then), and only then does the capacity grow.
type volume struct {
	name        string
	svc         *service
	spec        VolumeSpec // defaults applied
	created     time.Time
	start       time.Time // the virtual start: growth counts from it
	used        stepFn    // bytes used at the start, by time
	fresh       bool      // created during the run: empty at creation
	resizes     []resize
	annotations map[string]string
	events      []platform.Event // recorded by RecordVolumeEvent
	version     int64
	disk        *storage // the ClickHouse model whose data this volume holds; nil for others
}

// claimName is the claim of a StatefulSet pod: data-redis-0.
func claimName(sts string, ordinal int) string {
	return volumeClaim + "-" + sts + "-" + strconv.Itoa(ordinal)
}

func newVolume(s *service, ordinal int, created, start time.Time, fresh bool) *volume {
	spec := *s.spec.Volume
	return &volume{name: claimName(s.spec.Name, ordinal), svc: s, spec: spec, created: created, start: start, fresh: fresh,
		used: resolve(*spec.Used, start, func(b Bytes) float64 { return float64(b) }), annotations: map[string]string{}}
}

// requestedAt is spec.resources.requests.storage at t.
func (v *volume) requestedAt(t time.Time) int64 {
	size := int64(v.spec.Size)
	for _, r := range v.resizes {
		if !r.at.After(t) {
			size = r.size
		}
	}
	return size
}

// done is when a resize's file system has grown.
func (v *volume) done(r resize) time.Time {
	return r.at.Add(v.spec.ResizeAfter + v.spec.FileSystemResizeAfter)
}

// capacityAt is status.capacity.storage at t.
func (v *volume) capacityAt(t time.Time) int64 {
	size := int64(v.spec.Size)
	for _, r := range v.resizes {
		if !v.done(r).After(t) {
			size = r.size
		}
	}
	return size
}

// conditionsAt are the resize conditions of the claim at t: those of the
// newest resize not yet done.
func (v *volume) conditionsAt(t time.Time) []platform.VolumeCondition {
	for i := len(v.resizes) - 1; i >= 0; i-- {
		r := v.resizes[i]
		switch {
		case r.at.After(t):
			continue
		case t.Before(r.at.Add(v.spec.ResizeAfter)):
			return []platform.VolumeCondition{{Type: platform.VolumeResizing, Since: r.at}}
		case t.Before(v.done(r)):
			return []platform.VolumeCondition{{Type: platform.VolumeFileSystemResizePending, Since: r.at.Add(v.spec.ResizeAfter),
				Message: "Waiting for user to (re-)start a pod to finish file system resize of volume on node."}}
		}
		return nil
	}
	return nil
}

// usedAt is the bytes used at t, at most the capacity.
func (v *volume) usedAt(t time.Time) float64 {
	c := float64(v.capacityAt(t))
	if v.disk != nil {
		return math.Min(v.disk.usedAt(t), c)
	}
	from, used := v.start, v.used.value(t)
	if v.fresh {
		from, used = v.created, 0
	}
	used += float64(v.spec.GrowthPerDay) * t.Sub(from).Seconds() / day.Seconds()
	return math.Min(math.Max(0, used), c)
}

func (v *volume) usagePct(t time.Time) float64 { return 100 * v.usedAt(t) / float64(v.capacityAt(t)) }

// view renders the claim at now.
func (v *volume) view(now time.Time) platform.Volume {
	return platform.Volume{
		Ref:          platform.VolumeRef{Namespace: v.svc.ref.Namespace, Name: v.name},
		StorageClass: v.spec.StorageClass, AllowExpansion: *v.spec.AllowExpansion,
		Phase: platform.VolumeBound, Requested: v.requestedAt(now), Capacity: v.capacityAt(now),
		Conditions: v.conditionsAt(now), Annotations: copyMap(v.annotations), ResourceVersion: strconv.FormatInt(v.version, 10),
	}
}

// claimVolumes gives every pod of a StatefulSet its claim, as the
// StatefulSet controller creates them from the volumeClaimTemplate: at the
// start for the initial replicas (as old as their pods, holding the
// scenario's data), at a scale-up for the new ordinals (fresh: empty).
// Claims are never deleted (the default retention policy). Callers hold the lock.
func (p *Platform) claimVolumes(s *service, now time.Time, fresh bool) {
	if s.spec.Kind != "StatefulSet" || s.spec.Volume == nil {
		return
	}
	for i := 0; i < int(s.replicas); i++ {
		name := claimName(s.spec.Name, i)
		if p.volumes[name] != nil {
			continue
		}
		created := now
		if !fresh {
			created = p.start.Add(-s.spec.PodAge)
		}
		v := newVolume(s, i, created, p.start, fresh)
		v.version = p.nextVersion()
		if p.storage != nil && p.storage.service == s && i == 0 {
			v.disk, p.storage.volume = p.storage, v
		} else if p.storage != nil && p.storage.service == s {
			v.disk = p.storage
		}
		p.volumes[name] = v
	}
}

// volumesOf are the claims of a service, by name.
func (p *Platform) volumesOf(s *service) []*volume {
	var out []*volume
	for _, v := range p.volumes {
		if v.svc == s {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// diskUsage is the disk_usage metric of a workload at t: the storage
// service's data volume, else the fullest of its claims, as the kubelet's
// volume stats of its claims would give; false when it has none.
func (p *Platform) diskUsage(s *service, t time.Time) (float64, bool) {
	if p.storage != nil && p.storage.service == s {
		return p.storage.usagePct(t), true
	}
	pct, ok := 0.0, false
	for _, v := range p.volumesOf(s) {
		if !v.created.After(t) {
			pct, ok = math.Max(pct, v.usagePct(t)), true
		}
	}
	return pct, ok
}

type volumesPort struct{ p *Platform }

// lookupVolume finds a claim; callers hold the lock.
func (p *Platform) lookupVolume(ref platform.VolumeRef) (*volume, error) {
	v := p.volumes[ref.Name]
	if v == nil || ref.Namespace != p.sc.Namespace {
		return nil, errorf(platform.ErrNotFound, "persistentvolumeclaim %s", ref)
	}
	return v, nil
}

// GetVolume returns a claim and what its StorageClass allows, now.
func (vp volumesPort) GetVolume(ctx context.Context, ref platform.VolumeRef) (platform.Volume, error) {
	if err := ctx.Err(); err != nil {
		return platform.Volume{}, err
	}
	vp.p.mu.RLock()
	defer vp.p.mu.RUnlock()
	v, err := vp.p.lookupVolume(ref)
	if err != nil {
		return platform.Volume{}, err
	}
	return v.view(vp.p.clock.Now()), nil
}

// ResizeVolume sets a claim's requested size, refused as the API server
// refuses it: below the current request, or on a class that does not allow
// expansion; a stale ExpectedVersion is platform.ErrConflict.
func (vp volumesPort) ResizeVolume(ctx context.Context, ref platform.VolumeRef, req platform.ResizeRequest) (platform.Volume, error) {
	if err := ctx.Err(); err != nil {
		return platform.Volume{}, err
	}
	vp.p.mu.Lock()
	defer vp.p.mu.Unlock()
	v, err := vp.p.lookupVolume(ref)
	if err != nil {
		return platform.Volume{}, err
	}
	now := vp.p.clock.Now()
	if err := v.admit(ref, req, now); err != nil {
		return platform.Volume{}, err
	}
	if req.DryRun {
		out := v.view(now)
		out.Requested = req.Size
		annotate(out.Annotations, req.Annotations)
		return out, nil
	}
	v.resizes = append(v.resizes, resize{at: now, size: req.Size})
	annotate(v.annotations, req.Annotations)
	v.version = vp.p.nextVersion()
	return v.view(now), nil
}

// RecordVolumeEvent appends an event to the claim (time zero: now).
func (vp volumesPort) RecordVolumeEvent(ctx context.Context, ref platform.VolumeRef, ev platform.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	vp.p.mu.Lock()
	defer vp.p.mu.Unlock()
	v, err := vp.p.lookupVolume(ref)
	if err != nil {
		return err
	}
	if ev.Time.IsZero() {
		ev.Time = vp.p.clock.Now()
	}
	v.events = append(v.events, ev)
	return nil
}

// admit checks a resize as the API server's validation and admission do.
func (v *volume) admit(ref platform.VolumeRef, req platform.ResizeRequest, now time.Time) error {
	rv := strconv.FormatInt(v.version, 10)
	switch {
	case req.ExpectedVersion != "" && req.ExpectedVersion != rv:
		return errorf(platform.ErrConflict, "persistentvolumeclaim %s is at resourceVersion %s, not %s", ref, rv, req.ExpectedVersion)
	case !*v.spec.AllowExpansion:
		return errorf(platform.ErrUnsupported, "persistentvolumeclaim %s: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize", ref)
	case req.Size < v.requestedAt(now):
		return errorf(platform.ErrUnsupported, "persistentvolumeclaim %s: spec.resources.requests.storage: Forbidden: field can not be less than its previous value", ref)
	}
	return nil
}

// VolumeState is the state of one claim, for tests and eval predicates.
type VolumeState struct {
	Requested int64
	Capacity  int64
	UsagePct  float64
	Resizing  bool             // a resize is not yet complete
	Events    []platform.Event // the Events recorded about the claim, oldest first
}

// volumeStates are the claims at now, by name; callers hold the lock.
func (p *Platform) volumeStates(now time.Time) map[string]VolumeState {
	out := map[string]VolumeState{}
	for name, v := range p.volumes {
		out[name] = VolumeState{Requested: v.requestedAt(now), Capacity: v.capacityAt(now), UsagePct: round2(v.usagePct(now)),
			Resizing: len(v.conditionsAt(now)) > 0, Events: slices.Clone(v.events)}
	}
	return out
}
