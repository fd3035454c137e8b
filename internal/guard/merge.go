package guard

import (
	"slices"
	"time"
)

// MergeState combines two records of one workload's state (the history
// database and the annotation on the workload, which another agent may have
// written), keeping the most recent of each fact, so neither source can make
// the guard forget a cooldown or a restart.
func MergeState(a, b WorkloadState) WorkloadState {
	out := a
	out.LastScaleUp = later(a.LastScaleUp, b.LastScaleUp)
	out.LastScaleDown = later(a.LastScaleDown, b.LastScaleDown)
	if later(b.LastScaleUp, b.LastScaleDown).After(later(a.LastScaleUp, a.LastScaleDown)) {
		out.LastScaleFrom, out.LastScaleTo = b.LastScaleFrom, b.LastScaleTo
	}
	out.ConsecutiveFailures = max(a.ConsecutiveFailures, b.ConsecutiveFailures)
	if b.MemoryBaselineAt.After(a.MemoryBaselineAt) {
		out.MemoryBaseline, out.MemoryBaselineAt = b.MemoryBaseline, b.MemoryBaselineAt
	}
	if b.VolumeBaselineAt.After(a.VolumeBaselineAt) {
		out.VolumeBaseline, out.VolumeBaselineAt = b.VolumeBaseline, b.VolumeBaselineAt
	}
	out.Restarts = unionTimes(a.Restarts, b.Restarts)
	out.Evictions = unionTimes(a.Evictions, b.Evictions)
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func unionTimes(a, b []time.Time) []time.Time {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	all := append(append([]time.Time(nil), a...), b...)
	slices.SortFunc(all, func(x, y time.Time) int { return x.Compare(y) })
	return slices.CompactFunc(all, func(x, y time.Time) bool { return x.Equal(y) })
}
