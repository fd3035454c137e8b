package guard

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// StateAnnotation is the workload annotation that holds the encoded
// WorkloadState, written in the same update as the change it records.
const StateAnnotation = "ops-skill/state"

// ErrInvalidState is matched (errors.Is) when persisted state cannot be
// decoded. A caller that cannot decode the state must refuse writes rather
// than start from an empty state, which would forget cooldowns.
var ErrInvalidState = errors.New("invalid guard state")

// Bounds on decoded state, so a tampered annotation cannot exhaust memory.
const (
	maxStateBytes   = 64 << 10
	maxStateEntries = 1024
	// keepEvents is how many restart and eviction times Prune keeps at most.
	keepEvents = 64
)

// WorkloadState is what the guard remembers about one workload between runs.
type WorkloadState struct {
	LastScaleUp         time.Time   `json:"up,omitzero"`
	LastScaleDown       time.Time   `json:"down,omitzero"`
	LastScaleFrom       int64       `json:"from,omitzero"`
	LastScaleTo         int64       `json:"to,omitzero"`
	Restarts            []time.Time `json:"restarts,omitempty"`
	ConsecutiveFailures int         `json:"failures,omitzero"`
	MemoryBaseline      int64       `json:"memBase,omitzero"`
	MemoryBaselineAt    time.Time   `json:"memBaseAt,omitzero"`
	Evictions           []time.Time `json:"evictions,omitempty"`
	// VolumeBaseline is the requested size of a PersistentVolumeClaim
	// before the first expansion of its incident (kept under the claim's
	// own key, see tools.VolumeStateKey).
	VolumeBaseline   int64     `json:"volBase,omitzero"`
	VolumeBaselineAt time.Time `json:"volBaseAt,omitzero"`
}

// Encode renders the state as compact JSON with UTC times. Times outside the
// years 1-9999 are clamped into them, so encoding never fails; a clamped
// future time only lengthens a cooldown.
func (s WorkloadState) Encode() string {
	s.LastScaleUp = clampTime(s.LastScaleUp)
	s.LastScaleDown = clampTime(s.LastScaleDown)
	s.MemoryBaselineAt = clampTime(s.MemoryBaselineAt)
	s.VolumeBaselineAt = clampTime(s.VolumeBaselineAt)
	s.Restarts = clampTimes(s.Restarts)
	s.Evictions = clampTimes(s.Evictions)
	b, err := json.Marshal(s)
	if err != nil { // unreachable: every field is encodable after clamping
		return "{}"
	}
	return string(b)
}

// DecodeState parses Encode's output. The empty string is the zero state (a
// workload never acted on). Unknown fields are ignored so newer versions can
// add some; negative counts, oversized input and malformed JSON are errors
// wrapping ErrInvalidState.
func DecodeState(text string) (WorkloadState, error) {
	var s WorkloadState
	if text == "" {
		return s, nil
	}
	if len(text) > maxStateBytes {
		return s, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidState, len(text), maxStateBytes)
	}
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return WorkloadState{}, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	switch {
	case s.ConsecutiveFailures < 0, s.MemoryBaseline < 0, s.VolumeBaseline < 0, s.LastScaleFrom < 0, s.LastScaleTo < 0:
		return WorkloadState{}, fmt.Errorf("%w: negative count", ErrInvalidState)
	case len(s.Restarts) > maxStateEntries, len(s.Evictions) > maxStateEntries:
		return WorkloadState{}, fmt.Errorf("%w: more than %d recorded events", ErrInvalidState, maxStateEntries)
	}
	return s, nil
}

// WithScale records a replica change from → to at the given time.
func (s WorkloadState) WithScale(from, to int64, at time.Time) WorkloadState {
	switch {
	case to > from:
		s.LastScaleUp = at
	case to < from:
		s.LastScaleDown = at
	default:
		return s
	}
	s.LastScaleFrom, s.LastScaleTo = from, to
	return s
}

// WithRestart records one restart action (a rollout restart or one pod
// replacement), which counts against the restart budget.
func (s WorkloadState) WithRestart(at time.Time) WorkloadState {
	s.Restarts = append(slices.Clone(s.Restarts), at)
	return s
}

// WithEviction records one evicted pod.
func (s WorkloadState) WithEviction(at time.Time) WorkloadState {
	s.Evictions = append(slices.Clone(s.Evictions), at)
	return s
}

// WithHealth counts a health-check result: a failure increments
// ConsecutiveFailures, any success resets it.
func (s WorkloadState) WithHealth(ok bool) WorkloadState {
	if ok {
		s.ConsecutiveFailures = 0
	} else {
		s.ConsecutiveFailures++
	}
	return s
}

// Prune drops restart and eviction times older than an hour before now (the
// longest window any rule reads) and keeps at most the newest 64 of each, so
// the annotation stays small.
func (s WorkloadState) Prune(now time.Time) WorkloadState {
	s.Restarts = recent(s.Restarts, now.Add(-time.Hour))
	s.Evictions = recent(s.Evictions, now.Add(-time.Hour))
	return s
}

func recent(ts []time.Time, since time.Time) []time.Time {
	var out []time.Time
	for _, t := range ts {
		if t.After(since) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	if len(out) > keepEvents {
		out = out[len(out)-keepEvents:]
	}
	return out
}

// countSince counts the times strictly after since (future times included).
func countSince(ts []time.Time, since time.Time) int {
	n := 0
	for _, t := range ts {
		if t.After(since) {
			n++
		}
	}
	return n
}

// clampTime keeps a time within the years JSON can encode (1-9999).
func clampTime(t time.Time) time.Time {
	minStateTime := time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)
	maxStateTime := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	switch {
	case t.IsZero():
		return t
	case t.Before(minStateTime):
		return minStateTime
	case t.After(maxStateTime):
		return maxStateTime
	}
	return t.UTC()
}

func clampTimes(ts []time.Time) []time.Time {
	if len(ts) == 0 {
		return nil
	}
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = clampTime(t)
	}
	return out
}
