package guard

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// fuzzSeries builds 31 samples every 30s ending now around level; bit i of
// noise replaces sample i by level±30, bit 32+i drops it.
func fuzzSeries(level float64, noise uint64) []platform.Sample {
	s := flat(level, 15*time.Minute)
	var out []platform.Sample
	for i, x := range s {
		if noise&(1<<(32+uint(i))) != 0 {
			continue
		}
		if noise&(1<<uint(i)) != 0 {
			x.V = level + float64(int(i%3)-1)*30
		}
		out = append(out, x)
	}
	return out
}

func FuzzScaleDecide(f *testing.F) {
	f.Add(uint8(2), uint8(10), uint8(3), int16(5), uint8(85), uint8(1), uint64(0), uint8(1), uint8(1), uint8(2), int16(0), int16(0), uint8(0))
	f.Add(uint8(2), uint8(10), uint8(4), int16(7), uint8(90), uint8(20), uint64(0), uint8(1), uint8(1), uint8(2), int16(0), int16(0), uint8(0))
	f.Add(uint8(2), uint8(10), uint8(5), int16(1), uint8(10), uint8(1), uint64(0), uint8(1), uint8(3), uint8(2), int16(0), int16(0), uint8(0))
	f.Add(uint8(2), uint8(10), uint8(12), int16(2), uint8(50), uint8(1), uint64(0), uint8(1), uint8(1), uint8(2), int16(-30), int16(0), uint8(0))
	f.Add(uint8(3), uint8(10), uint8(1), int16(9), uint8(95), uint8(50), uint64(0), uint8(1), uint8(1), uint8(4), int16(0), int16(0), uint8(0))
	f.Add(uint8(2), uint8(10), uint8(3), int16(1000), uint8(85), uint8(1), uint64(1<<40|1<<3), uint8(1), uint8(1), uint8(2), int16(-12), int16(-60), uint8(8))
	f.Add(uint8(2), uint8(10), uint8(3), int16(0), uint8(85), uint8(1), uint64(0), uint8(1), uint8(1), uint8(2), int16(0), int16(0), uint8(2))
	f.Add(uint8(2), uint8(10), uint8(6), int16(5), uint8(20), uint8(1), uint64(0), uint8(1), uint8(1), uint8(2), int16(-20), int16(0), uint8(4))
	f.Fuzz(func(t *testing.T, minR, maxR, cur uint8, req int16, cpuLvl, errLvl uint8, noise uint64,
		up, down, out uint8, upAgo, downAgo int16, flags uint8) {
		now := testNow()
		p := DefaultScalingPolicy()
		p.Min, p.Max = int64(minR%16), int64(maxR%32)
		p.Up.Step, p.Down.Step, p.Out.Step = int64(up%6), int64(down%6), int64(out%6)
		p.Enabled = flags&1 == 0
		w := workload(int32(cur % 40))
		if flags&2 != 0 {
			w.AutoscaledBy = "HorizontalPodAutoscaler/backend"
		}
		if flags&4 != 0 {
			w.Annotations = map[string]string{DefaultOptOutAnnotation: "true"}
		}
		if flags&8 != 0 && w.ReadyReplicas > 0 {
			w.ReadyReplicas--
		}
		in := ScaleInput{Workload: w, Requested: int64(req), Now: now,
			CPU:       obs(fuzzSeries(float64(cpuLvl), noise)),
			ErrorRate: obs(fuzzSeries(float64(errLvl%101), noise>>7|noise<<57))}
		if flags&16 != 0 {
			in.CPU.Err = errors.New("cpu failed")
		}
		if flags&32 != 0 {
			in.ErrorRate.Err = errors.New("error rate failed")
		}
		if upAgo != 0 {
			in.State.LastScaleUp = now.Add(time.Duration(upAgo) * 10 * time.Second)
		}
		if downAgo != 0 {
			in.State.LastScaleDown = now.Add(time.Duration(downAgo) * 10 * time.Second)
		}
		checkScaleInvariants(t, p, in, p.Decide(in))
	})
}

// checkScaleInvariants asserts what must hold for every scaling decision.
func checkScaleInvariants(t *testing.T, p ScalingPolicy, in ScaleInput, d Decision) {
	t.Helper()
	from, to, req := int64(in.Workload.Replicas), d.To, in.Requested
	if d.Verdict != Allow && d.Verdict != Clamp && d.Verdict != Refuse || d.Rule == "" || d.Reason == "" {
		t.Fatalf("malformed decision %+v", d)
	}
	if d.From != from || d.Requested != req {
		t.Fatalf("From/Requested = %d/%d, want %d/%d", d.From, d.Requested, from, req)
	}
	_, optOut := in.Workload.Annotations[DefaultOptOutAnnotation]
	blocked := !p.Enabled || in.Workload.AutoscaledBy != "" || optOut || p.Validate() != nil
	if !d.Allowed() {
		if to != from {
			t.Fatalf("refusal moved replicas %d → %d", from, to)
		}
		return
	}
	if blocked {
		t.Fatalf("allowed %d → %d although disabled/owned/opted out/invalid: %s", from, to, d)
	}
	if to <= 0 || to == from || (to > from) != (req > from) || abs(to-from) > abs(req-from) {
		t.Fatalf("allowed target %d from %d for request %d: %s", to, from, req, d)
	}
	if (d.Verdict == Allow) != (to == req) {
		t.Fatalf("verdict %s with target %d for request %d", d.Verdict, to, req)
	}
	maxStep := max(p.Up.Step, p.Down.Step, p.Out.Step)
	switch {
	case from >= p.Min && from <= p.Max:
		if to < p.Min || to > p.Max || abs(to-from) > maxStep {
			t.Fatalf("target %d from %d outside [%d,%d] or beyond step %d: %s", to, from, p.Min, p.Max, maxStep, d)
		}
	case from < p.Min:
		if to < from || to > p.Max || to > max(p.Min, from+max(p.Up.Step, p.Out.Step)) {
			t.Fatalf("target %d from %d below min %d: %s", to, from, p.Min, d)
		}
	case from > p.Max:
		if to > from || to < p.Min || to < min(p.Max, from-p.Down.Step) {
			t.Fatalf("target %d from %d above max %d: %s", to, from, p.Max, d)
		}
	}
	if to < from {
		checkScaleDownPreconditions(t, p, in, d)
	}
}

// checkScaleDownPreconditions asserts that an allowed scale-down had known
// metrics, ready pods and, within bounds, no recent scale up.
func checkScaleDownPreconditions(t *testing.T, p ScalingPolicy, in ScaleInput, d Decision) {
	t.Helper()
	if in.CPU.Err != nil || in.ErrorRate.Err != nil || in.Workload.ReadyReplicas < in.Workload.Replicas {
		t.Fatalf("scale-down allowed with a failed metric or unready pods: %s", d)
	}
	up := in.State.LastScaleUp
	if int64(in.Workload.Replicas) <= p.Max && !up.IsZero() && in.Now.Sub(up) < p.Down.Sustain {
		t.Fatalf("scale-down allowed %s after a scale up: %s", in.Now.Sub(up), d)
	}
	for _, s := range in.ErrorRate.Samples {
		if !s.T.Before(in.Now.Add(-p.Out.Sustain)) && !s.T.After(in.Now) && (s.V > p.Out.Threshold || math.IsNaN(s.V)) {
			t.Fatalf("scale-down allowed with error rate %v at %s: %s", s.V, s.T, d)
		}
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func BenchmarkScaleDecide(b *testing.B) {
	now := testNow()
	p := DefaultScalingPolicy()
	p.SampleStep, p.Out.Sustain = 15*time.Second, 5*time.Minute
	samples := func(v float64) []platform.Sample {
		s := make([]platform.Sample, 20)
		for i := range s {
			s[i] = platform.Sample{T: now.Add(-time.Duration(19-i) * 15 * time.Second), V: v}
		}
		return s
	}
	in := ScaleInput{Workload: workload(4), Requested: 6, CPU: obs(samples(85)), ErrorRate: obs(samples(15)), Now: now}
	if d := p.Decide(in); d.Verdict != Allow || d.To != 6 || !strings.HasPrefix(d.Inputs[RuleScaleUpCPU], "true") {
		b.Fatalf("benchmark input does not fire both rules: %s %v", d, d.Inputs)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Decide(in)
	}
}
