package guard

import (
	"errors"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestWindowEvaluate(t *testing.T) {
	now := testNow()
	above := Window{Metric: "cpu", Compare: Above, Threshold: 80, Sustain: 5 * time.Minute, Step: step}
	tests := []struct {
		name  string
		w     Window
		obs   Observation
		truth Truth
		cause Cause
	}{
		{"every sample above is true", above, obs(flat(90, 5*time.Minute)), True, CauseNone},
		{"a sample at the threshold is false", above, obs(with(flat(90, 5*time.Minute), 2, 80)), False, CauseNotSustained},
		{"below compares strictly", Window{Metric: "cpu", Compare: Below, Threshold: 30, Sustain: 5 * time.Minute, Step: step},
			obs(with(flat(10, 5*time.Minute), 4, 30)), False, CauseNotSustained},
		{"not-above accepts the threshold itself", Window{Metric: "err", Compare: NotAbove, Threshold: 10, Sustain: 2 * time.Minute, Step: step},
			obs(flat(10, 2*time.Minute)), True, CauseNone},
		{"a failed query is unknown even with samples", above, Observation{Samples: flat(90, 5*time.Minute), Err: errors.New("x")}, Unknown, CauseError},
		{"no samples at all is unknown", above, obs(nil), Unknown, CauseNoSamples},
		{"samples only before the window are unknown", above, obs(shifted(flat(90, time.Minute), -10*time.Minute)), Unknown, CauseNoSamples},
		{"a stale newest sample is unknown", above, obs(shifted(flat(90, 10*time.Minute), -61*time.Second)), Unknown, CauseStale},
		{"a late first sample is unknown", above, obs(flat(90, 4*time.Minute)), Unknown, CauseNotCovered},
		{"a gap is unknown", above, obs(without(flat(90, 5*time.Minute), 3, 4)), Unknown, CauseGap},
		{"unknown takes precedence over a dip", above, obs(without(with(flat(90, 5*time.Minute), 1, 10), 3, 4)), Unknown, CauseGap},
		{"a scale inside the window is settling", withAfter(above, now.Add(-time.Minute)), obs(flat(90, 5*time.Minute)), Unknown, CauseSettling},
		{"a scale just now leaves no post-scale sample and is settling", withAfter(above, now), obs(flat(90, 5*time.Minute)), Unknown, CauseSettling},
		{"a scale before the window does not matter", withAfter(above, now.Add(-6*time.Minute)), obs(flat(90, 5*time.Minute)), True, CauseNone},
		{"samples at the scale instant do not count", withAfter(above, now.Add(-4*time.Minute-30*time.Second)), obs(flat(90, 5*time.Minute)), Unknown, CauseSettling},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.w.Evaluate(tc.obs, now)
			if e.Truth != tc.truth || e.Cause != tc.cause {
				t.Fatalf("Evaluate = %s/%q (%s), want %s/%q", e.Truth, e.Cause, e.Reason, tc.truth, tc.cause)
			}
			if e.Reason == "" {
				t.Error("empty reason")
			}
		})
	}
}

func withAfter(w Window, after time.Time) Window {
	w.After = after
	return w
}

func TestWindowDoesNotReorderCallerSamples(t *testing.T) {
	s := flat(90, 5*time.Minute)
	s[0], s[len(s)-1] = s[len(s)-1], s[0]
	first := s[0]
	w := Window{Metric: "cpu", Compare: Above, Threshold: 80, Sustain: 5 * time.Minute, Step: step}
	if e := w.Evaluate(obs(s), testNow()); e.Truth != True {
		t.Fatalf("unsorted samples: %s %s", e.Truth, e.Reason)
	}
	if s[0] != first {
		t.Fatal("Evaluate reordered the caller's slice")
	}
}

func TestObservationFrom(t *testing.T) {
	one := platform.Series{Samples: flat(1, time.Minute)}
	tests := []struct {
		name    string
		res     platform.MetricResult
		err     error
		wantErr bool
		samples int
	}{
		{"one series gives its samples", platform.MetricResult{Series: []platform.Series{one}}, nil, false, 3},
		{"no series gives no samples", platform.MetricResult{}, nil, false, 0},
		{"several series are ambiguous", platform.MetricResult{Series: []platform.Series{one, one}}, nil, true, 0},
		{"a query error is kept", platform.MetricResult{}, platform.ErrUnavailable, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ObservationFrom(tc.res, tc.err)
			if (o.Err != nil) != tc.wantErr || len(o.Samples) != tc.samples {
				t.Fatalf("got err=%v samples=%d", o.Err, len(o.Samples))
			}
			if tc.err != nil && !errors.Is(o.Err, tc.err) {
				t.Fatalf("error %v does not wrap %v", o.Err, tc.err)
			}
		})
	}
}

func TestTruthString(t *testing.T) {
	for tr, want := range map[Truth]string{True: "true", False: "false", Unknown: "unknown", Truth(9): "unknown"} {
		if tr.String() != want {
			t.Errorf("%d.String() = %q, want %q", tr, tr.String(), want)
		}
	}
}
