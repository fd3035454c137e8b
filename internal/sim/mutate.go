package sim

import (
	"sort"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// The mutations below run under the platform's write lock at virtual time now;
// they only append records or end pods at now or later.

// scaleTo sets the replicas: new pods become ready startup later; removed pods
// go at once (StatefulSet: highest ordinals; Deployment: unready, then newest).
func (s *service) scaleTo(now time.Time, n int32) {
	old := s.replicas
	s.replicas = n
	active := s.active()
	switch {
	case int(n) > len(active):
		for i := len(active); i < int(n); i++ {
			pd := s.newPod(now, i)
			if s.spec.Kind == "StatefulSet" {
				s.event(now, "Normal", "SuccessfulCreate", s.object(), "create Pod %s in StatefulSet %s successful", pd.name, s.spec.Name)
			}
		}
	case int(n) < len(active):
		s.sortForRemoval(active, now)
		for _, pd := range active[:len(active)-int(n)] {
			pd.deleted = now
			if s.spec.Kind == "StatefulSet" {
				s.event(now, "Normal", "SuccessfulDelete", s.object(), "delete Pod %s in StatefulSet %s successful", pd.name, s.spec.Name)
			}
		}
	}
	if s.spec.Kind == "Deployment" && n != old {
		dir := "up"
		if n < old {
			dir = "down"
		}
		s.event(now, "Normal", "ScalingReplicaSet", s.object(), "Scaled %s replica set %s-%s from %d to %d", dir, s.spec.Name, s.current().hash, old, n)
	}
}

func (s *service) sortForRemoval(pods []*pod, now time.Time) {
	if s.spec.Kind == "StatefulSet" {
		sort.Slice(pods, func(i, j int) bool { return pods[i].ordinal > pods[j].ordinal })
		return
	}
	sort.SliceStable(pods, func(i, j int) bool {
		ri, rj := s.status(pods[i], now).ready, s.status(pods[j], now).ready
		if ri != rj {
			return !ri
		}
		return pods[i].created.After(pods[j].created)
	})
}

// rollout installs a new pod template and, unless paused, replaces every pod:
// a Deployment keeps its ready old pods until the new ones are ready (surge);
// a StatefulSet recreates its pods under the same names at once, unless one
// of its pods is not ready: the StatefulSet controller (OrderedReady) waits
// for every pod to be ready before it replaces any, so its pods stay on the
// old template until the not-ready ones are deleted (recycle).
func (s *service) rollout(now time.Time, cs []platform.Container) {
	oldHash := s.current().hash
	s.addTemplate(now, cs)
	switch {
	case s.paused:
		return
	case s.spec.Kind == "StatefulSet":
		if !s.rollBlocked(now) {
			s.rollStatefulSet(now)
		}
		return
	}
	for _, pd := range s.active() {
		pd.deleted = now
		if s.status(pd, now).ready {
			pd.deleted = now.Add(s.spec.Startup)
		}
	}
	for i := 0; i < int(s.replicas); i++ {
		s.newPod(now, i)
	}
	s.event(now, "Normal", "ScalingReplicaSet", s.object(), "Scaled up replica set %s-%s from 0 to %d", s.spec.Name, s.current().hash, s.replicas)
	s.event(now, "Normal", "ScalingReplicaSet", s.object(), "Scaled down replica set %s-%s from %d to 0", s.spec.Name, oldHash, s.replicas)
}

// rollBlocked reports whether a StatefulSet's roll waits: one of its pods is
// not ready.
func (s *service) rollBlocked(now time.Time) bool {
	for _, pd := range s.active() {
		if !s.status(pd, now).ready {
			return true
		}
	}
	return false
}

// rollStatefulSet recreates, under the same names, the pods of a
// StatefulSet not on its current template (the controller replaces them one
// by one, each once its successor is ready; here at once).
func (s *service) rollStatefulSet(now time.Time) {
	for _, pd := range s.byName(s.active()) {
		if pd.tmpl != len(s.templates)-1 {
			s.recreate(now, pd)
		}
	}
}

// recreate deletes one pod of a StatefulSet and creates it again, under the
// same name, from the current template.
func (s *service) recreate(now time.Time, pd *pod) {
	pd.deleted = now
	s.event(now, "Normal", "SuccessfulDelete", s.object(), "delete Pod %s in StatefulSet %s successful", pd.name, s.spec.Name)
	n := s.newPod(now, pd.ordinal)
	s.event(now, "Normal", "SuccessfulCreate", s.object(), "create Pod %s in StatefulSet %s successful", n.name, s.spec.Name)
}

// recycle deletes, of a StatefulSet's pods in name order, those not ready
// and not on the current template, at most max; the controller recreates
// them from the current template and, once they are ready, resumes the roll
// (here: at once, when they will be ready after the startup time). dryRun
// only reports, as if the template had just changed (any template).
func (s *service) recycle(now time.Time, max int, dryRun bool) platform.RecycleResult {
	var res platform.RecycleResult
	var todo []*pod
	for _, pd := range s.byName(s.active()) {
		if s.status(pd, now).ready || (!dryRun && pd.tmpl == len(s.templates)-1) {
			continue
		}
		if len(todo) >= max {
			res.Left = append(res.Left, pd.name)
			continue
		}
		todo = append(todo, pd)
		res.Recycled = append(res.Recycled, pd.name)
	}
	if dryRun || len(todo) == 0 {
		return res
	}
	for _, pd := range todo {
		s.recreate(now, pd)
	}
	if !s.paused && !s.rollBlocked(now.Add(s.spec.Startup)) {
		s.rollStatefulSet(now)
	}
	return res
}

// byName sorts pods by name.
func (s *service) byName(pods []*pod) []*pod {
	sort.Slice(pods, func(i, j int) bool { return pods[i].name < pods[j].name })
	return pods
}

// evict ends one pod now and lets the controller create its replacement.
func (s *service) evict(now time.Time, pd *pod) {
	wasActive := pd.deleted.IsZero()
	pd.deleted = now
	s.event(now, "Normal", "Evicted", "Pod/"+pd.name, "Evicted pod %s through the eviction API", pd.name)
	if wasActive {
		s.newPod(now, pd.ordinal)
	}
}

// annotate merges annotations; an empty value removes the key.
func annotate(m map[string]string, add map[string]string) {
	for k, v := range add {
		if v == "" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
}

// touch records a write to the object: a new resourceVersion and, for spec
// changes, a new generation.
func (p *Platform) touch(s *service, specChanged bool) {
	s.version = p.nextVersion()
	if specChanged {
		s.generation++
	}
}
