package sim

import (
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// template is one revision of a service's pod template, in force from at.
type template struct {
	at         time.Time
	hash       string
	containers []platform.Container
}

// pod is the append-only record of one pod: created at created, gone at deleted
// (zero while it lives or until a scheduled deletion). The status at any time is
// computed from this record and the scenario signals, so the past never changes.
type pod struct {
	name    string
	ordinal int
	created time.Time
	deleted time.Time
	tmpl    int
}

func (p *pod) aliveAt(t time.Time) bool {
	return !t.Before(p.created) && (p.deleted.IsZero() || t.Before(p.deleted))
}

// service is the mutable runtime state of one workload.
type service struct {
	spec        Service
	ref         platform.WorkloadRef
	replicas    int32
	paused      bool
	annotations map[string]string
	version     int64
	generation  int64
	templates   []template
	pods        []*pod
	events      []platform.Event
	seq         int
	memIdx      int
	demand      stepFn
	errBase     stepFn
	rps         stepFn
	ws          stepFn
	stuckSince  time.Time
	stuck       bool
	overrides   map[platform.MetricName][]Override
}

func newService(spec Service, ns string, start time.Time) *service {
	s := &service{
		spec:        spec,
		ref:         platform.WorkloadRef{Namespace: ns, Name: spec.Name},
		replicas:    spec.Replicas,
		paused:      spec.Paused,
		annotations: map[string]string{},
		generation:  1,
		overrides:   map[platform.MetricName][]Override{},
	}
	for k, v := range spec.Annotations {
		s.annotations[k] = v
	}
	cs := make([]platform.Container, len(spec.Containers))
	for i, c := range spec.Containers {
		cs[i] = platform.Container{Name: c.Name, CPURequestM: int64(c.CPURequest), CPULimitM: int64(c.CPULimit),
			MemoryRequest: int64(c.MemoryRequest), MemoryLimit: int64(c.MemoryLimit)}
		if c.Name == spec.Memory.Container {
			s.memIdx = i
		}
	}
	created := start.Add(-spec.PodAge)
	s.addTemplate(created, cs)
	s.setSignals(start, cs[s.memIdx])
	for i := 0; i < int(spec.Replicas); i++ {
		s.newPod(created, i)
	}
	for _, ev := range spec.Events {
		s.events = append(s.events, platform.Event{Time: start.Add(ev.At), Type: ev.Type, Reason: ev.Reason,
			Object: ev.Object, Message: ev.Message})
	}
	for name, ovs := range spec.Metrics {
		s.overrides[platform.MetricName(name)] = ovs
	}
	return s
}

func (s *service) setSignals(start time.Time, mem platform.Container) {
	id := func(v float64) float64 { return v }
	s.demand = resolve(s.spec.Load.Demand, start, id)
	s.errBase = resolve(s.spec.Load.ErrorRate, start, id)
	s.rps = s.demand
	if s.spec.Load.RequestRate != nil {
		s.rps = resolve(*s.spec.Load.RequestRate, start, id)
	}
	def := mem.MemoryLimit / 2
	if mem.MemoryLimit == 0 {
		def = mem.MemoryRequest
	}
	s.ws = constFn(float64(def))
	if s.spec.Memory.WorkingSet != nil {
		s.ws = resolve(*s.spec.Memory.WorkingSet, start, func(b Bytes) float64 { return float64(b) })
	}
	if s.spec.Stuck != nil {
		s.stuck, s.stuckSince = true, start.Add(s.spec.Stuck.Since)
	}
}

func (s *service) addTemplate(at time.Time, cs []platform.Container) {
	idx := len(s.templates)
	s.templates = append(s.templates, template{at: at, hash: nameHash(s.spec.Name+"/rev/"+strconv.Itoa(idx), 10), containers: cs})
}

func (s *service) current() template { return s.templates[len(s.templates)-1] }

// newPod creates a pod of the current template at t.
func (s *service) newPod(t time.Time, ordinal int) *pod {
	s.seq++
	name := s.spec.Name + "-" + strconv.Itoa(ordinal)
	if s.spec.Kind == "Deployment" {
		name = s.spec.Name + "-" + s.current().hash + "-" + nameHash(s.spec.Name+"/pod/"+strconv.Itoa(s.seq), 5)
	}
	p := &pod{name: name, ordinal: ordinal, created: t, tmpl: len(s.templates) - 1}
	s.pods = append(s.pods, p)
	return p
}

// alive returns the pods alive at t, sorted by name.
func (s *service) alive(t time.Time) []*pod {
	var out []*pod
	for _, p := range s.pods {
		if p.aliveAt(t) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// active returns the pods not yet marked for deletion (the ones the controller counts).
func (s *service) active() []*pod {
	var out []*pod
	for _, p := range s.pods {
		if p.deleted.IsZero() {
			out = append(out, p)
		}
	}
	return out
}

func (s *service) memLimit(p *pod) float64 {
	return float64(s.templates[p.tmpl].containers[s.memIdx].MemoryLimit)
}

// podStatus is the computed state of one pod at one time.
type podStatus struct {
	ready     bool
	crashLoop bool
	stuck     bool
	crashInfo
}

func (s *service) status(p *pod, t time.Time) podStatus {
	st := podStatus{crashInfo: s.crashes(p, t)}
	st.crashLoop = st.looping
	st.stuck = s.stuck && !p.created.After(s.stuckSince) && !t.Before(s.stuckSince)
	st.ready = p.aliveAt(t) && !t.Before(p.created.Add(s.spec.Startup)) && !st.crashLoop
	return st
}

// crashInfo describes the OOM kills of one pod up to some time.
type crashInfo struct {
	restarts  int
	last      []time.Time // the most recent kills, oldest first (at most three)
	looping   bool        // the pod is in a crash loop at that time
	loopStart time.Time   // first kill of the current loop
}

// crashes counts the OOM kills of p up to t: the first comes crash_after after the
// pod starts (or after the working set rises above its limit), then one every
// crash_period while the working set stays above the limit and the pod lives.
func (s *service) crashes(p *pod, t time.Time) crashInfo {
	var ci crashInfo
	limit := s.memLimit(p)
	if limit <= 0 {
		return ci
	}
	after, period := s.spec.Memory.CrashAfter, s.spec.Memory.CrashPeriod
	for _, iv := range s.ws.above(limit) {
		first := later(iv.from, p.created).Add(after)
		bound := earliest(iv.to, p.deleted)
		if first.After(t) || (!bound.IsZero() && !first.Before(bound)) {
			continue
		}
		k := int(t.Sub(first) / period)
		if !bound.IsZero() {
			k = min(k, int(math.Ceil(float64(bound.Sub(first))/float64(period)))-1)
		}
		ci.restarts += k + 1
		for i := max(0, k-2); i <= k; i++ {
			ci.last = append(ci.last, first.Add(time.Duration(i)*period))
		}
		if iv.contains(t) && p.aliveAt(t) {
			ci.looping, ci.loopStart = true, first
		}
	}
	if len(ci.last) > 3 {
		ci.last = ci.last[len(ci.last)-3:]
	}
	return ci
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earliest returns the earlier of two bounds where zero means unbounded.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// nameHash derives a stable lowercase suffix in the alphabet Kubernetes uses
// for generated names.
func nameHash(s string, n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	v := h.Sum64()
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
	}
	return string(out)
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
