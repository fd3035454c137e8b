package sim

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Log bounds.
const (
	DefaultTailLines = 100
	MaxTailLines     = 5000
	DefaultMaxBytes  = 64 << 10
	logSpan          = time.Hour // how far back a container's log is kept
)

// run is one container instance of a pod: [start, end), crashed when OOM-killed at end.
type run struct {
	start, end time.Time
	crashed    bool
}

// Logs returns the newest lines of the workload's pods (or one pod), filtered
// (case-insensitive substring) and bounded by TailLines and MaxBytes. For a pod
// in CrashLoopBackOff the current log is that of the last killed container, as
// kubectl shows it; Previous gives the instance before.
func (c clusterPort) Logs(ctx context.Context, ref platform.WorkloadRef, q platform.LogQuery) ([]platform.LogLine, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.p.mu.RLock()
	defer c.p.mu.RUnlock()
	s, err := c.p.lookup(ref)
	if err != nil {
		return nil, err
	}
	now := c.p.clock.Now()
	var lines []platform.LogLine
	found, withPrevious := false, false
	for _, pd := range s.alive(now) {
		if q.Pod != "" && pd.name != q.Pod {
			continue
		}
		found = true
		r, ok := s.logRun(pd, now, q.Previous)
		if !ok {
			continue
		}
		withPrevious = true
		lines = append(lines, s.runLines(pd, r)...)
	}
	switch {
	case q.Pod != "" && !found:
		return nil, errorf(platform.ErrNotFound, "pod %q of %s", q.Pod, ref)
	case q.Previous && !withPrevious:
		return nil, errorf(platform.ErrNotFound, "previous terminated container of %s", ref)
	}
	return boundLines(lines, q), nil
}

// logRun picks the container instance whose log is read.
func (s *service) logRun(pd *pod, now time.Time, previous bool) (run, bool) {
	ci := s.crashes(pd, now)
	start := pd.created
	if ci.restarts > len(ci.last) {
		start = ci.last[0].Add(-s.spec.Memory.CrashPeriod)
	}
	var runs []run
	for _, c := range ci.last {
		runs = append(runs, run{start: start, end: c, crashed: true})
		start = c
	}
	if !ci.looping {
		runs = append(runs, run{start: start, end: now})
	}
	i := len(runs) - 1
	if previous {
		i--
	}
	if i < 0 {
		return run{}, false
	}
	return runs[i], true
}

// runLines renders one container instance: the scenario's lines cycled every
// log interval (the stuck line once the pod is stuck) and the OOM line at a kill.
func (s *service) runLines(pd *pod, r run) []platform.LogLine {
	var out []platform.LogLine
	from := r.start
	if r.end.Sub(from) > logSpan {
		from = r.end.Add(-logSpan)
	}
	every := s.spec.Logs.Interval
	k := int(from.Sub(r.start) / every)
	for t := r.start.Add(time.Duration(k) * every); t.Before(r.end); t = t.Add(every) {
		if t.Before(from) {
			k++
			continue
		}
		if text, ok := s.lineAt(pd, t, k); ok {
			out = append(out, platform.LogLine{Pod: pd.name, Time: t, Text: text})
		}
		k++
	}
	if r.crashed {
		out = append(out, platform.LogLine{Pod: pd.name, Time: r.end, Text: s.oomLine(pd, r.end)})
	}
	return out
}

func (s *service) lineAt(pd *pod, t time.Time, k int) (string, bool) {
	if s.stuck && !pd.created.After(s.stuckSince) && !t.Before(s.stuckSince) && s.spec.Stuck.Log != "" {
		return s.spec.Stuck.Log, true
	}
	if len(s.spec.Logs.Lines) == 0 {
		return "", false
	}
	return s.spec.Logs.Lines[k%len(s.spec.Logs.Lines)], true
}

func (s *service) oomLine(pd *pod, t time.Time) string {
	return strings.NewReplacer(
		"{working_set}", Bytes(s.ws.value(t)).GiB(),
		"{limit}", Bytes(s.memLimit(pd)).GiB(),
	).Replace(s.spec.Memory.OOMLog)
}

// boundLines sorts, filters and keeps the newest lines within the bounds.
func boundLines(lines []platform.LogLine, q platform.LogQuery) []platform.LogLine {
	sort.SliceStable(lines, func(i, j int) bool {
		if !lines[i].Time.Equal(lines[j].Time) {
			return lines[i].Time.Before(lines[j].Time)
		}
		return lines[i].Pod < lines[j].Pod
	})
	if f := strings.ToLower(q.Filter); f != "" {
		kept := lines[:0]
		for _, l := range lines {
			if strings.Contains(strings.ToLower(l.Text), f) {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	tail := q.TailLines
	if tail <= 0 {
		tail = DefaultTailLines
	}
	tail = min(tail, MaxTailLines)
	maxBytes := q.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	n, size := 0, 0
	for i := len(lines) - 1; i >= 0 && n < tail; i-- {
		size += len(lines[i].Text) + 1
		if size > maxBytes {
			break
		}
		n++
	}
	return append([]platform.LogLine{}, lines[len(lines)-n:]...)
}
