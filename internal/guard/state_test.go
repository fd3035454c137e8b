package guard

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	now := testNow()
	s := WorkloadState{
		LastScaleUp: now.Add(-time.Minute), LastScaleDown: now.Add(-time.Hour), LastScaleFrom: 3, LastScaleTo: 4,
		Restarts: []time.Time{now.Add(-10 * time.Minute)}, ConsecutiveFailures: 2,
		MemoryBaseline: 4 << 30, MemoryBaselineAt: now.Add(-2 * time.Hour), Evictions: []time.Time{now},
	}
	got, err := DecodeState(s.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastScaleUp.Equal(s.LastScaleUp) || !got.LastScaleDown.Equal(s.LastScaleDown) || !got.MemoryBaselineAt.Equal(s.MemoryBaselineAt) ||
		got.LastScaleFrom != 3 || got.LastScaleTo != 4 || got.ConsecutiveFailures != 2 || got.MemoryBaseline != 4<<30 ||
		len(got.Restarts) != 1 || !got.Restarts[0].Equal(s.Restarts[0]) || len(got.Evictions) != 1 {
		t.Fatalf("round trip: got %+v, want %+v", got, s)
	}
}

func TestStateEncodeIsCompact(t *testing.T) {
	if got := (WorkloadState{}).Encode(); got != "{}" {
		t.Fatalf("zero state encodes as %q", got)
	}
	got := WorkloadState{LastScaleUp: time.Date(2026, 2, 16, 10, 0, 0, 0, time.FixedZone("CET", 3600))}.Encode()
	if got != `{"up":"2026-02-16T09:00:00Z"}` {
		t.Fatalf("Encode = %s", got)
	}
}

func TestStateEncodeClampsUnencodableTimes(t *testing.T) {
	far := time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	got, err := DecodeState(WorkloadState{LastScaleUp: far}.Encode())
	if err != nil || got.LastScaleUp.Year() != 9999 {
		t.Fatalf("far-future time: %+v, %v; want clamped to year 9999", got, err)
	}
}

func TestDecodeState(t *testing.T) {
	tests := []struct {
		name string
		text string
		err  bool
	}{
		{"an empty annotation is the zero state", "", false},
		{"unknown fields from newer versions are ignored", `{"up":"2026-02-16T09:00:00Z","future":1}`, false},
		{"malformed JSON is an error", `{"up":`, true},
		{"a wrong type is an error", `{"failures":"many"}`, true},
		{"a negative failure count is an error", `{"failures":-1}`, true},
		{"a negative baseline is an error", `{"memBase":-5}`, true},
		{"an oversized annotation is an error", `{"x":"` + strings.Repeat("a", 70<<10) + `"}`, true},
		{"too many restarts is an error", `{"restarts":[` + strings.TrimSuffix(strings.Repeat(`"2026-02-16T09:00:00Z",`, 1100), ",") + `]}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeState(tc.text)
			if (err != nil) != tc.err {
				t.Fatalf("DecodeState err = %v, want error %v", err, tc.err)
			}
			if err != nil && !errors.Is(err, ErrInvalidState) {
				t.Fatalf("error %v is not ErrInvalidState", err)
			}
		})
	}
}

func TestStateUpdates(t *testing.T) {
	now := testNow()
	s := WorkloadState{}.WithScale(3, 4, now)
	if !s.LastScaleUp.Equal(now) || !s.LastScaleDown.IsZero() || s.LastScaleFrom != 3 || s.LastScaleTo != 4 {
		t.Fatalf("scale up: %+v", s)
	}
	s = s.WithScale(4, 3, now.Add(time.Hour))
	if !s.LastScaleDown.Equal(now.Add(time.Hour)) || !s.LastScaleUp.Equal(now) || s.LastScaleTo != 3 {
		t.Fatalf("scale down: %+v", s)
	}
	if s2 := s.WithScale(3, 3, now.Add(2*time.Hour)); s2.LastScaleTo != 3 || !s2.LastScaleDown.Equal(s.LastScaleDown) {
		t.Fatalf("no-op scale changed state: %+v", s2)
	}
	h := WorkloadState{}.WithHealth(false).WithHealth(false).WithHealth(false)
	if h.ConsecutiveFailures != 3 {
		t.Fatalf("failures = %d", h.ConsecutiveFailures)
	}
	if h.WithHealth(true).ConsecutiveFailures != 0 {
		t.Fatal("a success did not reset the failures")
	}
	base := WorkloadState{}.WithRestart(now.Add(-2 * time.Hour))
	r := base.WithRestart(now.Add(-time.Minute)).WithEviction(now)
	if len(base.Restarts) != 1 || len(r.Restarts) != 2 || len(r.Evictions) != 1 {
		t.Fatalf("restarts: base %v, r %v", base.Restarts, r.Restarts)
	}
	if p := r.Prune(now); len(p.Restarts) != 1 || !p.Restarts[0].Equal(now.Add(-time.Minute)) || len(p.Evictions) != 1 {
		t.Fatalf("Prune kept %v / %v", p.Restarts, p.Evictions)
	}
}

func TestPruneKeepsTheNewest(t *testing.T) {
	now := testNow()
	var s WorkloadState
	for i := range 100 {
		s = s.WithRestart(now.Add(-time.Duration(i) * time.Second))
	}
	p := s.Prune(now)
	if len(p.Restarts) != keepEvents || !p.Restarts[len(p.Restarts)-1].Equal(now) {
		t.Fatalf("kept %d, newest %v", len(p.Restarts), p.Restarts[len(p.Restarts)-1])
	}
}
