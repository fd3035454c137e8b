package serve

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// checkLedgerPrune runs the pruning table on l (SQLite here, PostgreSQL in
// ledger_postgres_test.go): which deliveries a prune at now with a 24h TTL
// forgets, and that a forgotten delivery may be claimed again while a kept
// one may not.
func checkLedgerPrune(t *testing.T, l ledger) {
	t.Helper()
	ctx := context.Background()
	const ttl = 24 * time.Hour
	now := testStart.Add(48 * time.Hour)
	cases := []struct {
		key    string
		d      delivery
		raw    string // stored as is instead of d
		pruned bool
	}{
		{key: "done-25h", d: delivery{Status: deliveryDone, At: now.Add(-25 * time.Hour), Fingerprint: "fp1"}, pruned: true},
		{key: "done-23h", d: delivery{Status: deliveryDone, At: now.Add(-23 * time.Hour), Fingerprint: "fp2"}},
		{key: "done-exactly-ttl", d: delivery{Status: deliveryDone, At: now.Add(-ttl), Fingerprint: "fp3"}},
		{key: "cancelled-25h", d: delivery{Status: deliveryCancelled, At: now.Add(-25 * time.Hour), Fingerprint: "fp4"}, pruned: true},
		{key: "running-claimed-25h-stale", d: delivery{Status: deliveryRunning, Owner: "dead#1", At: now.Add(-25 * time.Hour), Fingerprint: "fp5"}, pruned: true},
		{key: "running-claimed-1m", d: delivery{Status: deliveryRunning, Owner: "alive#1", At: now.Add(-time.Minute), Fingerprint: "fp6"}},
		{key: "done-25h-alert-still-firing", d: delivery{Status: deliveryDone, At: now.Add(-25 * time.Hour), Fingerprint: "firing"}},
		{key: "damaged", raw: "{not json", pruned: false},
	}
	for _, c := range cases {
		if c.raw != "" {
			if err := l.st.UpdateState(ctx, l.env, deliveryPrefix+c.key, func([]byte) ([]byte, error) { return []byte(c.raw), nil }); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := l.finish(ctx, c.key, c.d); err != nil {
			t.Fatal(err)
		}
	}
	a := alert.Alert{Text: "still firing", Service: "backend", StartsAt: now.Add(-30 * time.Hour), Fingerprint: "firing"}
	if err := l.track(ctx, "firing", firing{Alert: a, Lane: "ai-data-labs/backend"}); err != nil {
		t.Fatal(err)
	}
	n, err := l.prune(ctx, now, ttl)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, c := range cases {
		b, err := l.st.LoadState(ctx, l.env, deliveryPrefix+c.key)
		if err != nil {
			t.Fatal(err)
		}
		if gone := b == nil; gone != c.pruned {
			t.Errorf("%s: pruned %v, want %v", c.key, gone, c.pruned)
		}
		if c.pruned {
			want++
		}
	}
	if n != want {
		t.Errorf("prune reported %d, want %d", n, want)
	}
	if ok, _, err := l.claim(ctx, "done-25h", "new#1", "fp1", now, 15*time.Minute); !ok || err != nil {
		t.Errorf("a forgotten delivery: claimed %v, %v; want it claimed again", ok, err)
	}
	if ok, _, err := l.claim(ctx, "done-23h", "new#1", "fp2", now, 15*time.Minute); ok || err != nil {
		t.Errorf("a remembered delivery: claimed %v, %v; want it still handled", ok, err)
	}
	if n, err := l.prune(ctx, now, ttl); n != 0 || err != nil {
		t.Errorf("a second prune: %d, %v; want nothing more", n, err)
	}
}

func TestLedgerPruneForgetsDeliveriesPastTheTTL(t *testing.T) {
	checkLedgerPrune(t, newLedger(t))
}

// TestLeaderPrunesTheLedgerEveryPeriodOnTheInjectedClock: a leader prunes
// at once, then once a period of the fake clock; a delivery finished now is
// gone only after the TTL has passed on that clock.
func TestLeaderPrunesTheLedgerEveryPeriodOnTheInjectedClock(t *testing.T) {
	ctx := context.Background()
	cfg := quietConfig()
	cfg.LedgerTTL, cfg.PrunePeriod = 24*time.Hour, time.Hour
	e := newTestEnv(t, cfg, tools.Deps{})
	for i := range 3 {
		d := delivery{Status: deliveryDone, Owner: "test-replica#1", At: e.clock.Now(), Fingerprint: fmt.Sprint("fp", i)}
		if err := e.s.led.finish(ctx, fmt.Sprint("k", i), d); err != nil {
			t.Fatal(err)
		}
	}
	e.lead(t)
	left := func() int {
		n := 0
		for i := range 3 {
			if b, err := e.store.LoadState(ctx, store.EnvSimulated, deliveryPrefix+fmt.Sprint("k", i)); err != nil {
				t.Fatal(err)
			} else if b != nil {
				n++
			}
		}
		return n
	}
	steps := []struct {
		step time.Duration
		left int
	}{
		{0, 3},              // the round at once: nothing expired
		{23 * time.Hour, 3}, // 23h later: still remembered
		{2 * time.Hour, 0},  // 25h after they finished: forgotten
	}
	for i, st := range steps {
		e.clock.Step(st.step)
		waitRounds(t, e.s.m, "ledger-prune", uint64(i+1))
		if n := left(); n != st.left {
			t.Errorf("after round %d (%s on the clock): %d deliveries left, want %d", i+1, e.clock.Since(testStart), n, st.left)
		}
	}
	if got := metricValue(e.s.m.ledgerPruned); got != 3 {
		t.Errorf("ledger_pruned_total %v, want 3", got)
	}
}

// waitRounds waits until the loop has finished n rounds (its duration
// histogram has n samples).
func waitRounds(t *testing.T, m *Metrics, loop string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var d dto.Metric
		if err := m.loopSeconds.WithLabelValues(loop).(prometheus.Metric).Write(&d); err != nil {
			t.Fatal(err)
		}
		if got := d.GetHistogram().GetSampleCount(); got >= n {
			if got > n {
				t.Fatalf("%d rounds of %s, want %d", got, loop, n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s loop did not finish round %d", loop, n)
		}
		time.Sleep(time.Millisecond)
	}
}
