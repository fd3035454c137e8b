package guard

import (
	"testing"
	"time"
)

func TestMergeStateKeepsTheMostRecentOfEachFact(t *testing.T) {
	t0 := time.Date(2026, 2, 16, 10, 0, 0, 0, time.UTC)
	db := WorkloadState{LastScaleUp: t0, LastScaleFrom: 3, LastScaleTo: 4, Restarts: []time.Time{t0}, ConsecutiveFailures: 2}
	ann := WorkloadState{LastScaleUp: t0.Add(time.Minute), LastScaleFrom: 4, LastScaleTo: 5, Restarts: []time.Time{t0, t0.Add(time.Minute)},
		MemoryBaseline: 4 << 30, MemoryBaselineAt: t0}
	got := MergeState(db, ann)
	if !got.LastScaleUp.Equal(t0.Add(time.Minute)) || got.LastScaleFrom != 4 || got.LastScaleTo != 5 {
		t.Errorf("scale facts = %v %d→%d, want the annotation's newer scale", got.LastScaleUp, got.LastScaleFrom, got.LastScaleTo)
	}
	if len(got.Restarts) != 2 {
		t.Errorf("restarts = %v, want the union without duplicates", got.Restarts)
	}
	if got.ConsecutiveFailures != 2 || got.MemoryBaseline != 4<<30 {
		t.Errorf("failures %d baseline %d", got.ConsecutiveFailures, got.MemoryBaseline)
	}
	if back := MergeState(ann, db); !back.LastScaleUp.Equal(got.LastScaleUp) || len(back.Restarts) != 2 {
		t.Errorf("merge is not symmetric in what it keeps: %+v", back)
	}
}
