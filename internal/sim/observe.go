package sim

import (
	"math"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// observation is the modelled state of one service at one time.
type observation struct {
	pods         int
	ready        int
	stuck        int // ready pods that fail their health check
	crashLooping int
	restarts     int
	cpu          float64
	latency      float64
	errorRate    float64
	requests     float64
	memory       float64 // % of the limit, max over pods
}

// observe computes the state of s at t. Callers hold the platform lock.
func (p *Platform) observe(s *service, t time.Time) observation {
	var o observation
	pods := s.alive(t)
	o.pods = len(pods)
	for _, pd := range pods {
		st := s.status(pd, t)
		o.restarts += st.restarts
		if st.crashLoop {
			o.crashLooping++
		}
		if st.ready {
			o.ready++
			if st.stuck {
				o.stuck++
			}
		}
	}
	o.memory = s.memoryPct(pods, t)
	o.requests = s.rps.value(t)
	l := s.spec.Load
	if o.ready == 0 {
		o.cpu, o.latency, o.errorRate = l.IdleCPU, l.TimeoutMS, 100
		return o
	}
	u := s.demand.value(t) / float64(o.ready)
	over := math.Max(0, u-l.Knee)
	o.cpu = math.Min(100, u+l.Amplification*over)
	o.latency = l.LatencyMS + l.LatencySlopeMS*over
	o.errorRate = s.errBase.value(t) + l.ErrorSlope*over + 100*float64(o.stuck)/float64(o.ready)
	if p.dependencyDown(s, t) {
		o.errorRate += l.DependencyErrorRate
	}
	o.errorRate = math.Min(100, o.errorRate)
	return o
}

// memoryPct is the working set as a percentage of the smallest limit among the
// live pods (the max over pods), or of the current template's limit when none lives.
func (s *service) memoryPct(pods []*pod, t time.Time) float64 {
	limit := float64(s.current().containers[s.memIdx].MemoryLimit)
	for _, pd := range pods {
		if l := s.memLimit(pd); l > 0 && (limit <= 0 || l < limit) {
			limit = l
		}
	}
	if limit <= 0 {
		return 0
	}
	return 100 * s.ws.value(t) / limit
}

// serving reports whether s answers at t: some pod ready and none of the ready ones stuck.
func (s *service) serving(t time.Time) bool {
	ready := 0
	for _, pd := range s.alive(t) {
		st := s.status(pd, t)
		if st.ready && st.stuck {
			return false
		}
		if st.ready {
			ready++
		}
	}
	return ready > 0
}

func (p *Platform) dependencyDown(s *service, t time.Time) bool {
	for _, d := range s.spec.DependsOn {
		if dep := p.byName[d]; dep != nil && !dep.serving(t) {
			return true
		}
	}
	return false
}

// restartsIn counts the OOM kills of all pods of s in (t-w, t].
func (s *service) restartsIn(t time.Time, w time.Duration) int {
	n := 0
	for _, pd := range s.pods {
		if pd.created.After(t) {
			continue
		}
		n += s.crashes(pd, t).restarts - s.crashes(pd, t.Add(-w)).restarts
	}
	return n
}

// sampled says what a scrape at one time found.
type sampled int

const (
	sampleTaken sampled = iota
	// sampleMissing: the series exists but this scrape has no sample, as
	// a server's own HTTP metrics while none of its pods is ready: nothing
	// serves them (its callers see the errors, in their own series).
	sampleMissing
	// noSeries: the service has no such series at all (disk usage of a
	// service without a volume).
	noSeries
)

// metricValue is the modelled value of a named metric at t.
func (p *Platform) metricValue(s *service, m platform.MetricName, t time.Time, window time.Duration) (float64, sampled) {
	switch m {
	case platform.MetricDiskUsage:
		if v, ok := p.diskUsage(s, t); ok {
			return v, sampleTaken
		}
		return 0, noSeries
	case platform.MetricRestarts:
		return float64(s.restartsIn(t, window)), sampleTaken
	}
	o := p.observe(s, t)
	switch m {
	case platform.MetricCPU:
		return o.cpu, sampleTaken
	case platform.MetricMemory:
		return o.memory, sampleTaken
	case platform.MetricErrorRate, platform.MetricLatencyP99, platform.MetricRequests:
		if o.ready == 0 {
			return 0, sampleMissing
		}
	}
	switch m {
	case platform.MetricErrorRate:
		return o.errorRate, sampleTaken
	case platform.MetricLatencyP99:
		return o.latency, sampleTaken
	case platform.MetricRequests:
		return o.requests, sampleTaken
	}
	return 0, noSeries
}
