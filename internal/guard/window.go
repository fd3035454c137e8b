package guard

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Observation is a metric as the tool gathered it. A non-nil Err or no samples
// make every rule that reads it unknown.
type Observation struct {
	Samples []platform.Sample
	Err     error
}

// ObservationFrom turns a metric query answer into an Observation. The answer
// must hold exactly one series; zero series gives an empty (unknown)
// observation, several series an ambiguous (failed) one.
func ObservationFrom(res platform.MetricResult, err error) Observation {
	switch {
	case err != nil:
		return Observation{Err: err}
	case len(res.Series) == 0:
		return Observation{}
	case len(res.Series) > 1:
		return Observation{Err: fmt.Errorf("ambiguous metric: %d series where one was expected", len(res.Series))}
	}
	return Observation{Samples: res.Series[0].Samples}
}

// Truth is the three-valued result of a rule over a window.
type Truth int8

// The three truths. The zero Truth is Unknown, so an unset result never fires.
const (
	Unknown Truth = iota
	False
	True
)

// String renders the truth as unknown, false or true.
func (t Truth) String() string {
	switch t {
	case True:
		return "true"
	case False:
		return "false"
	}
	return "unknown"
}

// Comparison is how each sample is compared with the threshold.
type Comparison int8

// The comparisons; all are strict except NotAbove.
const (
	Above    Comparison = iota + 1 // value > threshold
	Below                          // value < threshold
	NotAbove                       // value <= threshold
)

func (c Comparison) holds(v, threshold float64) bool {
	switch c {
	case Above:
		return v > threshold
	case Below:
		return v < threshold
	case NotAbove:
		return v <= threshold
	}
	return false
}

func (c Comparison) word() string {
	switch c {
	case Above:
		return "above"
	case Below:
		return "below"
	case NotAbove:
		return "at or below"
	}
	return "compared with"
}

// Cause says why an evaluation is Unknown or False.
type Cause string

// The causes. Settling means the window is not yet covered by samples taken
// after the last scale in the same direction (stabilisation).
const (
	CauseNone         Cause = ""
	CauseError        Cause = "error"
	CauseNoSamples    Cause = "no_samples"
	CauseNonFinite    Cause = "non_finite"
	CauseStale        Cause = "stale"
	CauseNotCovered   Cause = "not_covered"
	CauseGap          Cause = "gap"
	CauseSettling     Cause = "settling"
	CauseNotSustained Cause = "not_sustained"
)

// Window is a sustained-threshold rule over the samples of [now-Sustain, now].
type Window struct {
	// Metric labels the metric in reasons, e.g. "cpu".
	Metric    string
	Compare   Comparison
	Threshold float64
	Sustain   time.Duration
	// Step is the expected spacing of samples; a gap over 2*Step is unknown,
	// and the first sample must be at or before now-Sustain+Step.
	Step time.Duration
	// Freshness bounds the age of the newest sample; zero means 2*Step.
	Freshness time.Duration
	// After, when set, keeps only samples taken strictly after it (the last
	// scale in the same direction).
	After time.Time
}

// Evaluation is the result of a Window over an Observation.
type Evaluation struct {
	Truth  Truth
	Cause  Cause
	Reason string
	// Samples is the number of samples in the window; Last the newest value.
	Samples int
	Last    float64
}

// Evaluate decides whether every sample of the window satisfies the
// comparison and the window is fully covered: True, False (a sample does not
// satisfy it) or Unknown (failed query, no samples, non-finite value, stale
// newest sample, late first sample, gap, or not yet covered since After).
// Unknown takes precedence over False.
func (w Window) Evaluate(obs Observation, now time.Time) Evaluation {
	if obs.Err != nil {
		return w.unknown(CauseError, fmt.Sprintf("%s query failed: %v", w.Metric, obs.Err))
	}
	if len(obs.Samples) == 0 {
		return w.unknown(CauseNoSamples, fmt.Sprintf("no %s samples", w.Metric))
	}
	start := now.Add(-w.Sustain)
	in := w.inWindow(sortedSamples(obs.Samples), start, now)
	if len(in) == 0 {
		return w.uncovered(start, nil)
	}
	ev := Evaluation{Samples: len(in), Last: in[len(in)-1].V}
	if e, bad := w.coverage(in, start, now); bad {
		e.Samples, e.Last = ev.Samples, ev.Last
		return e
	}
	bad, last := 0, -1
	for i, s := range in {
		if !w.Compare.holds(s.V, w.Threshold) {
			bad, last = bad+1, i
		}
	}
	if bad > 0 {
		ev.Truth, ev.Cause = False, CauseNotSustained
		ev.Reason = fmt.Sprintf("%s %s at %s is not %s %s (%d of %d samples of the last %s are not; every one must be)",
			w.Metric, fmtPct(in[last].V), fmtClock(in[last].T), w.Compare.word(), fmtThr(w.Threshold), bad, len(in), fmtDur(w.Sustain))
		return ev
	}
	ev.Truth = True
	ev.Reason = fmt.Sprintf("%s %s %s for %s: all %d samples from %s to %s, last %s",
		w.Metric, w.Compare.word(), fmtThr(w.Threshold), fmtDur(w.Sustain), len(in),
		fmtClock(in[0].T), fmtClock(in[len(in)-1].T), fmtPct(ev.Last))
	return ev
}

// coverage checks finiteness, freshness, the start of the window and gaps.
func (w Window) coverage(in []platform.Sample, start, now time.Time) (Evaluation, bool) {
	for _, s := range in {
		if math.IsNaN(s.V) || math.IsInf(s.V, 0) {
			return w.unknown(CauseNonFinite, fmt.Sprintf("%s sample at %s is %v", w.Metric, fmtClock(s.T), s.V)), true
		}
	}
	fresh := w.Freshness
	if fresh <= 0 {
		fresh = 2 * w.Step
	}
	if age := now.Sub(in[len(in)-1].T); age > fresh {
		return w.unknown(CauseStale, fmt.Sprintf("newest %s sample is %s old (at most %s allowed)",
			w.Metric, fmtDur(age), fmtDur(fresh))), true
	}
	if in[0].T.After(start.Add(w.Step)) {
		return w.uncovered(start, in), true
	}
	maxGap := 2 * w.Step
	for i := 1; i < len(in); i++ {
		if gap := in[i].T.Sub(in[i-1].T); gap > maxGap {
			return w.unknown(CauseGap, fmt.Sprintf("%s has a %s gap between samples at %s and %s (at most %s allowed)",
				w.Metric, fmtDur(gap), fmtClock(in[i-1].T), fmtClock(in[i].T), fmtDur(maxGap))), true
		}
	}
	return Evaluation{}, false
}

// uncovered explains a window whose start has no sample, as settling when the
// last same-direction scale lies inside the window.
func (w Window) uncovered(start time.Time, in []platform.Sample) Evaluation {
	if !w.After.IsZero() && !w.After.Before(start) {
		return w.unknown(CauseSettling, fmt.Sprintf("%s has %d samples since the last scale at %s; a full %s window after it is needed (about %s)",
			w.Metric, len(in), fmtClock(w.After), fmtDur(w.Sustain), fmtClock(w.After.Add(w.Sustain))))
	}
	if len(in) == 0 {
		return w.unknown(CauseNoSamples, fmt.Sprintf("no %s samples in the last %s", w.Metric, fmtDur(w.Sustain)))
	}
	return w.unknown(CauseNotCovered, fmt.Sprintf("%s samples start at %s, %s into the %s window (must start within %s)",
		w.Metric, fmtClock(in[0].T), fmtDur(in[0].T.Sub(start)), fmtDur(w.Sustain), fmtDur(w.Step)))
}

func (w Window) unknown(c Cause, reason string) Evaluation {
	return Evaluation{Truth: Unknown, Cause: c, Reason: reason}
}

// inWindow returns the contiguous run of sorted samples inside [start, now]
// and, when After is set, strictly after After.
func (w Window) inWindow(sorted []platform.Sample, start, now time.Time) []platform.Sample {
	lo := 0
	for lo < len(sorted) && (sorted[lo].T.Before(start) || (!w.After.IsZero() && !sorted[lo].T.After(w.After))) {
		lo++
	}
	hi := lo
	for hi < len(sorted) && !sorted[hi].T.After(now) {
		hi++
	}
	return sorted[lo:hi]
}

// sortedSamples returns the samples in time order, copying only when needed.
func sortedSamples(s []platform.Sample) []platform.Sample {
	byTime := func(a, b platform.Sample) int { return a.T.Compare(b.T) }
	if slices.IsSortedFunc(s, byTime) {
		return s
	}
	c := slices.Clone(s)
	slices.SortStableFunc(c, byTime)
	return c
}
