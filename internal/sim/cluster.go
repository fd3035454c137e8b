package sim

import (
	"context"
	"errors"
	"fmt"

	"github.com/duet-company/ops-skill/internal/platform"
)

// ErrPaused means a rollout restart was asked of a paused workload.
var ErrPaused = errors.New("rollout is paused")

type clusterPort struct{ p *Platform }

// GetWorkload returns the observed state of one workload now.
func (c clusterPort) GetWorkload(ctx context.Context, ref platform.WorkloadRef) (platform.Workload, error) {
	if err := ctx.Err(); err != nil {
		return platform.Workload{}, err
	}
	c.p.mu.RLock()
	defer c.p.mu.RUnlock()
	s, err := c.p.lookup(ref)
	if err != nil {
		return platform.Workload{}, err
	}
	return s.view(c.p.clock.Now()), nil
}

// ListWorkloads returns every workload of the namespace in scenario order; an
// unknown namespace has none.
func (c clusterPort) ListWorkloads(ctx context.Context, namespace string) ([]platform.Workload, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.p.mu.RLock()
	defer c.p.mu.RUnlock()
	out := []platform.Workload{}
	if namespace != c.p.sc.Namespace {
		return out, nil
	}
	now := c.p.clock.Now()
	for _, s := range c.p.services {
		out = append(out, s.view(now))
	}
	return out, nil
}

// write looks up a workload for a change under the write lock and checks the
// expected resourceVersion. The caller must call the returned unlock.
func (c clusterPort) write(ctx context.Context, ref platform.WorkloadRef, expected string) (*service, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	c.p.mu.Lock()
	s, err := c.p.lookup(ref)
	if err == nil && expected != "" && expected != s.resourceVersion() {
		err = errorf(platform.ErrConflict, "%s %s is at resourceVersion %s, not %s", s.spec.Kind, ref, s.resourceVersion(), expected)
	}
	if err != nil {
		c.p.mu.Unlock()
		return nil, nil, err
	}
	return s, c.p.mu.Unlock, nil
}

// Scale sets the replicas and writes the annotations in the same update.
func (c clusterPort) Scale(ctx context.Context, ref platform.WorkloadRef, req platform.ScaleRequest) (platform.Workload, error) {
	if req.Replicas < 0 {
		return platform.Workload{}, fmt.Errorf("scale %s: replicas %d must not be negative", ref, req.Replicas)
	}
	s, unlock, err := c.write(ctx, ref, req.ExpectedVersion)
	if err != nil {
		return platform.Workload{}, err
	}
	defer unlock()
	now := c.p.clock.Now()
	if req.DryRun {
		w := s.view(now)
		w.Replicas = req.Replicas
		annotate(w.Annotations, req.Annotations)
		return w, nil
	}
	changed := req.Replicas != s.replicas
	s.scaleTo(now, req.Replicas)
	c.p.claimVolumes(s, now, true)
	annotate(s.annotations, req.Annotations)
	c.p.touch(s, changed)
	return s.view(now), nil
}

// RolloutRestart replaces every pod (refused with ErrPaused for a paused rollout).
func (c clusterPort) RolloutRestart(ctx context.Context, ref platform.WorkloadRef, req platform.RestartRequest) (platform.Workload, error) {
	s, unlock, err := c.write(ctx, ref, req.ExpectedVersion)
	if err != nil {
		return platform.Workload{}, err
	}
	defer unlock()
	if s.paused {
		return platform.Workload{}, fmt.Errorf("rollout restart of %s %s refused: %w (resume the rollout first)", s.spec.Kind, ref, ErrPaused)
	}
	now := c.p.clock.Now()
	if req.DryRun {
		w := s.view(now)
		annotate(w.Annotations, req.Annotations)
		return w, nil
	}
	s.rollout(now, append([]platform.Container(nil), s.current().containers...))
	annotate(s.annotations, req.Annotations)
	c.p.touch(s, true)
	return s.view(now), nil
}

// EvictPod evicts one pod through the eviction API, honouring the disruption budget.
func (c clusterPort) EvictPod(ctx context.Context, ref platform.WorkloadRef, podName string, dryRun bool) error {
	s, unlock, err := c.write(ctx, ref, "")
	if err != nil {
		return err
	}
	defer unlock()
	now := c.p.clock.Now()
	var target *pod
	ready := 0
	for _, pd := range s.alive(now) {
		if pd.name == podName {
			target = pd
		}
		if s.status(pd, now).ready {
			ready++
		}
	}
	if target == nil {
		return errorf(platform.ErrNotFound, "pod %q of %s", podName, ref)
	}
	if b := s.spec.DisruptionBudget; b != nil {
		after := ready
		if s.status(target, now).ready {
			after--
		}
		if int32(after) < b.MinAvailable {
			return errorf(platform.ErrDisruptionBudget, "evict %s: %d of %d pods would stay ready, budget needs %d",
				podName, after, ready, b.MinAvailable)
		}
	}
	if !dryRun {
		s.evict(now, target)
	}
	return nil
}

// SetResources changes one container's limits (empty name: the main container)
// and rolls the pods out.
func (c clusterPort) SetResources(ctx context.Context, ref platform.WorkloadRef, req platform.ResourceRequest) (platform.Workload, error) {
	if req.MemoryLimit < 0 || req.CPULimitM < 0 || (req.MemoryLimit == 0 && req.CPULimitM == 0) {
		return platform.Workload{}, fmt.Errorf("set resources of %s: give a positive memory or cpu limit", ref)
	}
	s, unlock, err := c.write(ctx, ref, req.ExpectedVersion)
	if err != nil {
		return platform.Workload{}, err
	}
	defer unlock()
	cs, err := s.withLimits(req)
	if err != nil {
		return platform.Workload{}, err
	}
	now := c.p.clock.Now()
	if req.DryRun {
		w := s.view(now)
		w.Containers = cs
		annotate(w.Annotations, req.Annotations)
		return w, nil
	}
	s.rollout(now, cs)
	annotate(s.annotations, req.Annotations)
	c.p.touch(s, true)
	return s.view(now), nil
}

func (s *service) withLimits(req platform.ResourceRequest) ([]platform.Container, error) {
	name := req.Container
	if name == "" {
		name = s.spec.Memory.Container
	}
	cs := append([]platform.Container(nil), s.current().containers...)
	for i := range cs {
		if cs[i].Name != name {
			continue
		}
		if req.MemoryLimit > 0 {
			cs[i].MemoryLimit = req.MemoryLimit
		}
		if req.CPULimitM > 0 {
			cs[i].CPULimitM = req.CPULimitM
		}
		if cs[i].MemoryLimit > 0 && cs[i].MemoryLimit < cs[i].MemoryRequest {
			return nil, fmt.Errorf("set resources of %s: memory limit %d is below the request %d", s.ref, cs[i].MemoryLimit, cs[i].MemoryRequest)
		}
		if cs[i].CPULimitM > 0 && cs[i].CPULimitM < cs[i].CPURequestM {
			return nil, fmt.Errorf("set resources of %s: cpu limit %dm is below the request %dm", s.ref, cs[i].CPULimitM, cs[i].CPURequestM)
		}
		return cs, nil
	}
	return nil, errorf(platform.ErrNotFound, "container %q of %s", name, s.ref)
}

// RecycleStalledPods deletes a StatefulSet's pods that are not ready on an
// old template, which hold its roll, at most req.Max; the controller
// recreates them from the current template. A Deployment has none.
func (c clusterPort) RecycleStalledPods(ctx context.Context, ref platform.WorkloadRef, req platform.RecycleRequest) (platform.RecycleResult, error) {
	s, unlock, err := c.write(ctx, ref, "")
	if err != nil {
		return platform.RecycleResult{}, err
	}
	defer unlock()
	if s.spec.Kind != "StatefulSet" {
		return platform.RecycleResult{}, nil
	}
	return s.recycle(c.p.clock.Now(), req.Max, req.DryRun), nil
}

// RecordEvent appends an event to the workload (time zero: now).
func (c clusterPort) RecordEvent(ctx context.Context, ref platform.WorkloadRef, ev platform.Event) error {
	s, unlock, err := c.write(ctx, ref, "")
	if err != nil {
		return err
	}
	defer unlock()
	if ev.Time.IsZero() {
		ev.Time = c.p.clock.Now()
	}
	s.events = append(s.events, ev)
	return nil
}
