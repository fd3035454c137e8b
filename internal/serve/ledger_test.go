package serve

import (
	"context"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/store"
)

func newLedger(t *testing.T) ledger {
	t.Helper()
	st, err := store.Open(context.Background(), store.MemoryPath, clocktesting.NewFakeClock(testStart))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return ledger{st: st, env: store.EnvSimulated}
}

func TestLedgerClaimsADeliveryOnce(t *testing.T) {
	ctx := context.Background()
	const timeout = 15 * time.Minute
	claimBy := func(owner string) func(l ledger) {
		return func(l ledger) { _, _, _ = l.claim(ctx, "k", owner, "fp", testStart, timeout) }
	}
	tests := []struct {
		name      string
		before    func(l ledger)
		owner     string
		after     time.Duration
		wantClaim bool
	}{
		{"new delivery", func(ledger) {}, "a#1", 0, true},
		{"done by anyone", func(l ledger) { _ = l.finish(ctx, "k", delivery{Status: deliveryDone, Owner: "b#1"}) }, "a#1", time.Hour, false},
		{"running by the same owner", claimBy("a#1"), "a#1", time.Minute, false},
		// Older than any run: its run ended without recording it (the store
		// was down), so the alert is run again and resumed.
		{"running by the same owner, past the claim timeout", claimBy("a#1"), "a#1", timeout, true},
		{"running by a replica that stopped: it may have acted", claimBy("b#1"), "a#1", time.Minute, false},
		{"running by a replica that stopped, past the claim timeout", claimBy("b#1"), "a#1", timeout, true},
		{"running in our own earlier term", claimBy("a#1"), "a#2", time.Minute, false},
		{"cancelled before acting", func(l ledger) { _ = l.finish(ctx, "k", delivery{Status: deliveryCancelled, Owner: "a#1"}) }, "a#1", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger(t)
			tt.before(l)
			got, _, err := l.claim(ctx, "k", tt.owner, "fp", testStart.Add(tt.after), timeout)
			if err != nil || got != tt.wantClaim {
				t.Fatalf("claim = %v, %v; want %v", got, err, tt.wantClaim)
			}
		})
	}
}

func TestLedgerIsSharedByProcessesOnOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	var ledgers []ledger
	for range 4 { // four "replicas", each with its own connection pool
		st, err := store.Open(ctx, path, clocktesting.NewFakeClock(testStart))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		ledgers = append(ledgers, ledger{st: st, env: "ctx"})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	claims := 0
	for _, l := range ledgers {
		for range 5 {
			wg.Go(func() {
				ok, _, err := l.claim(ctx, "same-key", "leader#1", "fp", testStart, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					claims++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if claims != 1 {
		t.Fatalf("%d of 20 concurrent claims through 4 connections succeeded, want exactly 1", claims)
	}
	_ = ledgers[3].finish(ctx, "same-key", delivery{Status: deliveryDone, Owner: "leader#1"})
	for i, l := range ledgers {
		if ok, _, _ := l.claim(ctx, "same-key", "next-leader#1", "fp", testStart.Add(time.Hour), time.Minute); ok {
			t.Fatalf("ledger %d: a new leader claimed a done delivery", i)
		}
	}
}

func TestLedgerSettleKeepsWhatIsDone(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	_ = l.finish(ctx, "done", delivery{Status: deliveryDone, Outcome: "resolved"})
	_, _, _ = l.claim(ctx, "running", "a#1", "fp", testStart, time.Minute)
	for _, k := range []string{"done", "running", "absent"} {
		if err := l.settle(ctx, k, delivery{Status: deliveryDone, Outcome: "resolved_before_run"}); err != nil {
			t.Fatal(err)
		}
		if ok, prev, _ := l.claim(ctx, k, "b#1", "fp", testStart.Add(time.Hour), time.Minute); ok || prev.Status != deliveryDone {
			t.Fatalf("%s: claimable after settle (%+v)", k, prev)
		}
	}
}

func TestLedgerTracksFiringAlertsUntilResolvedOrStale(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	now := testStart
	for fp, age := range map[string]time.Duration{"new": 10 * time.Minute, "old": 2 * time.Hour, "ancient": 9 * 24 * time.Hour} {
		f := firing{Alert: alert.Alert{Text: fp, StartsAt: now.Add(-age)}, Lane: "ns/" + fp}
		if err := l.track(ctx, fp, f); err != nil {
			t.Fatal(err)
		}
	}
	due, err := l.due(ctx, now, time.Hour, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0] != "old" {
		t.Fatalf("due %v, want [old]", due)
	}
	if _, ok, _ := l.firing(ctx, "ancient"); ok {
		t.Error("an alert past the TTL is still tracked")
	}
	if err := l.untrack(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	due, _ = l.due(ctx, now.Add(time.Hour), time.Hour, 7*24*time.Hour)
	sort.Strings(due)
	if len(due) != 1 || due[0] != "new" {
		t.Fatalf("due an hour later %v, want [new]", due)
	}
}
