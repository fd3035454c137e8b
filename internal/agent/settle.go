package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// Evidence-based settling: after a write the run waits until the written
// workloads' rollouts are complete (observed, updated, available, no old
// pod left) and Prometheus has taken DefaultFreshSamples samples of the
// signal after that, never longer than the settle maximum
// (Config.SettleTime). The verification then reads the signal from those
// samples alone. A partition drop waits until the disks' used space has
// fallen by most of what it freed. A write with nothing to watch (a volume
// expansion) waits the settle maximum, as does a run whose evidence cannot
// be read.
const (
	// DefaultFreshSamples is how many samples after the rollout make the
	// evidence: rate() needs two, and Prometheus' own advice for a rate
	// window is four scrape intervals.
	DefaultFreshSamples = 4
	// settlePoll is how often the rollout and the samples are read.
	settlePoll = 2 * time.Second
	// releasedShare is the share of a drop's bytes the disks must have
	// given back: a little less than all of it, since the table may grow
	// meanwhile and file systems count blocks, not bytes.
	releasedShare = 0.9
	// spaceReleaseMax bounds the wait for a partition drop's space when it
	// is longer than the settle maximum: ClickHouse marks dropped parts
	// inactive at once but deletes their files later, "approximately in
	// 10 minutes" (its documentation of DROP PARTITION; old_parts_lifetime
	// is 8 minutes by default). Verifying before that would read the disk
	// as full and escalate a drop that worked.
	spaceReleaseMax = 10 * time.Minute
)

// rollingTools are the writes whose effect is a rollout of their target.
var rollingTools = map[tools.Name]bool{tools.ScaleDeployment: true, tools.RestartPods: true, tools.UpdateResources: true}

// Settled is what the run waited for before verifying.
type Settled struct {
	Waited time.Duration
	// Since is when the change took effect (the last rollout completed):
	// the verification reads only samples after it. Zero: no samples are
	// known to exist after it, so the signal is read as usual.
	Since time.Time
	// Complete says every piece of evidence came before the maximum.
	Complete bool
	// Evidence says what was waited for, e.g. "the rollout of
	// ai-data-labs/backend completed after 32s, then 4 fresh CPU samples".
	Evidence string
}

// settleWanted is what a run's writes wait for.
type settleWanted struct {
	rollouts []platform.WorkloadRef
	signal   platform.MetricQuery // Metric "" when no metric shows the effect
	release  spaceWanted
}

// spaceWanted is the space the run's partition drops freed.
type spaceWanted struct {
	freed      uint64 // bytes dropped, on disk; 0: nothing dropped
	usedBefore uint64 // the disks' used bytes before the first drop
	known      bool   // usedBefore could be read
	dropped    int    // partitions dropped
}

// target is the used bytes the disks show once the space is released.
func (s spaceWanted) target() uint64 {
	want := uint64(float64(s.freed) * releasedShare)
	if want > s.usedBefore {
		return 0
	}
	return s.usedBefore - want
}

// wanted derives the evidence from the run's writes and its signal.
func (r *run) wanted() settleWanted {
	var w settleWanted
	seen := map[string]bool{}
	for _, o := range r.outcomes {
		if !o.Wrote() || !rollingTools[o.Tool] || seen[o.Target] {
			continue
		}
		ns, name, ok := strings.Cut(o.Target, "/")
		if !ok || name == "" {
			continue
		}
		seen[o.Target] = true
		w.rollouts = append(w.rollouts, platform.WorkloadRef{Namespace: ns, Name: name})
	}
	w.release = r.released()
	if m := freshMetric(r.al.Kind); m != "" && r.ref.Name != "" {
		w.signal = platform.MetricQuery{Metric: m, Target: platform.WorkloadRef{Namespace: r.ref.Namespace, Name: r.ref.Name}}
	}
	return w
}

// released sums what the run's partition drops freed, with the used bytes
// read before the first of them.
func (r *run) released() spaceWanted {
	var w spaceWanted
	for _, o := range r.outcomes {
		res, ok := o.Result.(tools.DropResult)
		if !ok || !o.Wrote() || res.DryRun || res.FreedBytes() == 0 {
			continue
		}
		if w.freed == 0 {
			w.usedBefore, w.known = res.UsedBefore()
		}
		w.freed += res.FreedBytes()
		w.dropped += len(res.Dropped)
	}
	return w
}

// readsMetric says the verification reads the alert's signal from a metric
// (otherwise from pod status, health checks or storage).
func readsMetric(k alert.Kind) bool {
	return k == alert.KindCPU || k == alert.KindErrorRate || k == alert.KindLatency
}

// freshMetric is the metric whose fresh samples show a write's effect on
// the alert's signal: the signal's own, or the working set of the new pods
// for a signal read from pod status.
func freshMetric(k alert.Kind) platform.MetricName {
	switch k {
	case alert.KindDisk, alert.KindUnknown:
		return ""
	}
	if readsMetric(k) {
		return metricFor(k)
	}
	return platform.MetricMemory
}

// settle waits for the evidence of the run's writes, bounded by the settle
// maximum; only a cancelled run is an error.
func (r *run) settle(ctx context.Context, w settleWanted) (Settled, error) {
	d := r.a.d
	start := r.now()
	deadline := start.Add(r.a.cfg.SettleTime)
	if r.awaitsRelease(w) {
		return r.awaitReleased(ctx, w.release, start, start.Add(r.settleMax(w)))
	}
	if len(w.rollouts) == 0 || d.Rollouts == nil {
		why := "no rollout to watch"
		if len(w.rollouts) > 0 {
			why = "rollouts cannot be read here"
		}
		return r.waitOut(ctx, start, deadline, why)
	}
	var notes []string
	since := start
	for _, ref := range w.rollouts {
		p, at, err := r.awaitRollout(ctx, ref, deadline)
		switch {
		case ctx.Err() != nil:
			return Settled{}, context.Cause(ctx)
		case err != nil:
			return r.waitOut(ctx, start, deadline, fmt.Sprintf("the rollout of %s could not be read: %v", ref, err))
		case !p.Done:
			return Settled{Waited: r.now().Sub(start), Evidence: fmt.Sprintf("the rollout of %s did not complete: %s", ref, p.Message)}, nil
		}
		since = at
		notes = append(notes, fmt.Sprintf("the rollout of %s completed after %s", ref, units.Duration(at.Sub(start))))
	}
	s := Settled{Complete: true}
	if w.signal.Metric != "" && d.Fresh != nil {
		n, err := r.awaitFresh(ctx, w.signal, since, deadline)
		switch {
		case ctx.Err() != nil:
			return Settled{}, context.Cause(ctx)
		case err != nil && !readsMetric(r.al.Kind):
			// The signal is read from pod status and health checks, which
			// need no Prometheus: the completed rollout is the evidence.
			notes = append(notes, fmt.Sprintf("fresh %s samples could not be counted (%v), the rollout is the evidence", samplesOf(w.signal.Metric), err))
		case err != nil:
			notes = append(notes, fmt.Sprintf("fresh %s samples could not be counted: %v", samplesOf(w.signal.Metric), err))
			return r.waitOut(ctx, start, deadline, strings.Join(notes, ", "))
		case n < r.freshSamples():
			s.Complete = false
			notes = append(notes, fmt.Sprintf("only %d fresh %s samples by the settle maximum", n, samplesOf(w.signal.Metric)))
		default:
			notes = append(notes, fmt.Sprintf("then %d fresh %s samples", n, samplesOf(w.signal.Metric)))
		}
		if n > 0 {
			// Read from the samples after the rollout only when there are
			// some: an empty window would read as no data.
			s.Since = since
		}
	}
	s.Waited, s.Evidence = r.now().Sub(start), strings.Join(notes, ", ")
	return s, nil
}

func (r *run) freshSamples() int {
	if n := r.a.cfg.FreshSamples; n > 0 {
		return n
	}
	return DefaultFreshSamples
}

// awaitRollout polls a rollout until it is done, failed or the deadline
// passes, and says when it was last read.
func (r *run) awaitRollout(ctx context.Context, ref platform.WorkloadRef, deadline time.Time) (platform.RolloutProgress, time.Time, error) {
	for i := 0; ; i++ {
		p, err := r.a.d.Rollouts.RolloutProgress(ctx, ref)
		at := r.now()
		if err != nil || p.Done || p.Failed || !at.Before(deadline) || i >= r.maxPolls() {
			return p, at, err
		}
		if err := r.pause(ctx, deadline); err != nil {
			return p, at, err
		}
	}
}

// awaitFresh polls the count of samples after since until there are enough
// or the deadline passes.
func (r *run) awaitFresh(ctx context.Context, q platform.MetricQuery, since, deadline time.Time) (int, error) {
	q.Since = since
	for i := 0; ; i++ {
		n, err := r.a.d.Fresh.FreshSamples(ctx, q)
		if err != nil || n >= r.freshSamples() || !r.now().Before(deadline) || i >= r.maxPolls() {
			return n, err
		}
		if err := r.pause(ctx, deadline); err != nil {
			return n, err
		}
	}
}

// maxPolls bounds a wait by the polls that fit in the settle maximum, so a
// waiter that does not move the clock cannot make it endless.
func (r *run) maxPolls() int { return int(max(r.a.cfg.SettleTime, spaceReleaseMax)/settlePoll) + 1 }

// pause waits one poll interval, or less to end at the deadline.
func (r *run) pause(ctx context.Context, deadline time.Time) error {
	return r.a.d.Waiter.Wait(ctx, min(settlePoll, deadline.Sub(r.now())))
}

// waitOut waits until the deadline, the settle maximum, and says why.
func (r *run) waitOut(ctx context.Context, start, deadline time.Time, why string) (Settled, error) {
	if rest := deadline.Sub(r.now()); rest > 0 {
		if err := r.a.d.Waiter.Wait(ctx, rest); err != nil {
			return Settled{}, err
		}
	}
	return Settled{Waited: r.now().Sub(start), Evidence: fmt.Sprintf("the settle maximum of %s (%s)", units.Duration(r.a.cfg.SettleTime), why)}, nil
}

// samplesOf names a metric's samples in a sentence: "CPU", "memory".
func samplesOf(m platform.MetricName) string {
	if m == platform.MetricCPU {
		return metricLabel(string(m))
	}
	return strings.ToLower(metricLabel(string(m)))
}

// awaitsRelease says the run waits for a partition drop's space: it
// dropped for real, rolled nothing out and can read the disks.
func (r *run) awaitsRelease(w settleWanted) bool {
	return len(w.rollouts) == 0 && w.release.freed > 0 && r.a.d.Disks != nil
}

// settleMax is the longest the run waits for w.
func (r *run) settleMax(w settleWanted) time.Duration {
	if r.awaitsRelease(w) {
		return max(r.a.cfg.SettleTime, spaceReleaseMax)
	}
	return r.a.cfg.SettleTime
}

// awaitReleased polls the disks until their used space has fallen by most
// of what the drops freed, or the deadline passes.
func (r *run) awaitReleased(ctx context.Context, w spaceWanted, start, deadline time.Time) (Settled, error) {
	if !w.known {
		return r.waitOut(ctx, start, start.Add(r.a.cfg.SettleTime), "the disks could not be read before the drop")
	}
	what := fmt.Sprintf("the space of the %d dropped partitions (%s)", w.dropped, units.Bytes(w.freed))
	var used uint64
	for i := 0; ; i++ {
		disks, err := r.a.d.Disks.Disks(ctx)
		switch {
		case ctx.Err() != nil:
			return Settled{}, context.Cause(ctx)
		case err != nil || len(disks) == 0:
			return r.waitOut(ctx, start, start.Add(r.a.cfg.SettleTime), fmt.Sprintf("the disks could not be read after the drop: %v", err))
		}
		used = tools.UsedBytes(disks)
		if used <= w.target() {
			return Settled{Waited: r.now().Sub(start), Complete: true,
				Evidence: fmt.Sprintf("%s released after %s", what, units.Duration(r.now().Sub(start)))}, nil
		}
		if !r.now().Before(deadline) || i >= r.maxPolls() {
			break
		}
		if err := r.pause(ctx, deadline); err != nil {
			return Settled{}, err
		}
	}
	gone := uint64(0)
	if w.usedBefore > used {
		gone = w.usedBefore - used
	}
	return Settled{Waited: r.now().Sub(start),
		Evidence: fmt.Sprintf("%s: only %s released after %s", what, units.Bytes(gone), units.Duration(r.now().Sub(start)))}, nil
}
