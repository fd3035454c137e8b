package sim

import (
	"math"
	"time"
)

// State is the modelled truth at one time, for tests and eval predicates. It
// ignores metric overrides and metrics_down: it is what is, not what is reported.
type State struct {
	At       time.Time
	Services map[string]ServiceState
	Storage  StorageState
	Volumes  map[string]VolumeState // the StatefulSets' claims, by name
}

// ServiceState is the state of one service. Percentages are 0-100 (memory may
// exceed 100 when the working set is above the limit).
type ServiceState struct {
	Replicas      int32
	ReadyReplicas int32
	Pods          int // alive pods, including old ones still terminating
	MemoryLimit   int64
	CPU           float64
	ErrorRate     float64
	LatencyP99    float64
	Memory        float64
	Restarts      int32 // total over the live pods
	CrashLooping  int
	Healthy       bool // the health check passes
	// VolumeCapacity is the capacity of the first pod's claim (0 without
	// one), VolumeUsage the usage of the fullest claim, in percent.
	VolumeCapacity int64
	VolumeUsage    float64
}

// StorageState is the data volume of the storage service.
type StorageState struct {
	Available  bool // the server answers
	TotalBytes uint64
	UsedBytes  uint64
	UsagePct   float64
	Partitions int
}

// Snapshot returns the state now.
func (p *Platform) Snapshot() State {
	p.mu.RLock()
	defer p.mu.RUnlock()
	now := p.clock.Now()
	st := State{At: now, Services: map[string]ServiceState{}, Volumes: p.volumeStates(now)}
	for _, s := range p.services {
		o := p.observe(s, now)
		ss := ServiceState{
			Replicas:      s.replicas,
			ReadyReplicas: int32(o.ready),
			Pods:          o.pods,
			MemoryLimit:   s.current().containers[s.memIdx].MemoryLimit,
			CPU:           round2(o.cpu),
			ErrorRate:     round2(o.errorRate),
			LatencyP99:    round2(o.latency),
			Memory:        round2(o.memory),
			Restarts:      int32(o.restarts),
			CrashLooping:  o.crashLooping,
			Healthy:       s.check(now).OK,
		}
		if v := p.volumes[claimName(s.spec.Name, 0)]; v != nil && v.svc == s {
			ss.VolumeCapacity = v.capacityAt(now)
		}
		if pct, ok := p.diskUsage(s, now); ok && s.spec.Kind == "StatefulSet" {
			ss.VolumeUsage = round2(pct)
		}
		st.Services[s.spec.Name] = ss
	}
	if sto := p.storage; sto != nil {
		used := sto.usedAt(now)
		st.Storage = StorageState{
			Available:  sto.service.serving(now),
			TotalBytes: uint64(sto.totalAt(now)),
			UsedBytes:  uint64(math.Round(used)),
			UsagePct:   round2(100 * used / sto.totalAt(now)),
			Partitions: len(sto.partitionsAt(now)),
		}
	}
	return st
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
