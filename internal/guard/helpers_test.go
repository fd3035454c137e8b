package guard

import (
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// testNow is the fixed instant every test decides at.
func testNow() time.Time { return time.Date(2026, 2, 16, 10, 0, 0, 0, time.UTC) }

const step = 30 * time.Second

// flat returns samples of value v every 30s covering [now-d, now], oldest first.
func flat(v float64, d time.Duration) []platform.Sample {
	return ramp(testNow(), d, func(int) float64 { return v })
}

// ramp returns samples every 30s from end-d to end with value f(i).
func ramp(end time.Time, d time.Duration, f func(i int) float64) []platform.Sample {
	n := int(d/step) + 1
	out := make([]platform.Sample, n)
	for i := range n {
		out[i] = platform.Sample{T: end.Add(-d + time.Duration(i)*step), V: f(i)}
	}
	return out
}

// with returns a copy of s where the sample at index i has value v (negative
// i counts from the end).
func with(s []platform.Sample, i int, v float64) []platform.Sample {
	c := append([]platform.Sample(nil), s...)
	if i < 0 {
		i += len(c)
	}
	c[i].V = v
	return c
}

// without returns a copy of s without the samples at the given indexes.
func without(s []platform.Sample, idx ...int) []platform.Sample {
	drop := map[int]bool{}
	for _, i := range idx {
		if i < 0 {
			i += len(s)
		}
		drop[i] = true
	}
	var c []platform.Sample
	for i, x := range s {
		if !drop[i] {
			c = append(c, x)
		}
	}
	return c
}

// shifted returns a copy of s moved by d in time.
func shifted(s []platform.Sample, d time.Duration) []platform.Sample {
	c := append([]platform.Sample(nil), s...)
	for i := range c {
		c[i].T = c[i].T.Add(d)
	}
	return c
}

func obs(s []platform.Sample) Observation { return Observation{Samples: s} }

// workload returns a ready Deployment ai-data-labs/backend with n replicas and pods.
func workload(n int32) platform.Workload {
	w := platform.Workload{
		Ref:  platform.WorkloadRef{Namespace: "ai-data-labs", Name: "backend"},
		Kind: "Deployment", Replicas: n, ReadyReplicas: n, UpdatedReplicas: n, AvailableReplicas: n,
		Containers: []platform.Container{{Name: "app", MemoryLimit: 4 << 30}},
	}
	for i := range n {
		w.Pods = append(w.Pods, platform.Pod{Name: "backend-" + string(rune('a'+i)), Phase: "Running", Ready: true})
	}
	return w
}

// checkDecision compares the verdict, rule, target and reason fragments.
func checkDecision(t *testing.T, got Decision, verdict Verdict, rule string, to int64, reasonHas ...string) {
	t.Helper()
	if got.Verdict != verdict || got.Rule != rule {
		t.Fatalf("got %s %s (%s), want %s %s", got.Verdict, got.Rule, got.Reason, verdict, rule)
	}
	if to >= 0 && got.To != to {
		t.Errorf("To = %d, want %d (%s)", got.To, to, got.Reason)
	}
	for _, frag := range reasonHas {
		if !strings.Contains(got.Reason, frag) {
			t.Errorf("reason %q does not mention %q", got.Reason, frag)
		}
	}
}
