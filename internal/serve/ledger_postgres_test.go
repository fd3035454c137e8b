//go:build integration

package serve

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/store/pgtest"
)

// Two replicas, each with its own Store (connection pool) on one PostgreSQL
// database, race to claim the same deliveries: each delivery runs once.
func TestLedgerOnPostgresRunsEachDeliveryOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	var replicas []ledger
	for range 2 {
		st, err := store.Open(ctx, url, clocktesting.NewFakeClock(testStart))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if st.Engine() != "postgres" {
			t.Fatalf("engine %s, want postgres", st.Engine())
		}
		replicas = append(replicas, ledger{st: st, env: "prod"})
	}
	const deliveries, tries = 10, 8
	var claims [deliveries]atomic.Int32
	var wg sync.WaitGroup
	for r, l := range replicas {
		for d := range deliveries {
			for i := range tries {
				wg.Go(func() {
					owner := fmt.Sprintf("replica-%d#%d", r, i)
					ok, _, err := l.claim(ctx, fmt.Sprint("delivery-", d), owner, "fp", testStart, time.Minute)
					if err != nil {
						t.Error(err)
					}
					if ok {
						claims[d].Add(1)
					}
				})
			}
		}
	}
	wg.Wait()
	for d := range deliveries {
		if n := claims[d].Load(); n != 1 {
			t.Errorf("delivery-%d: %d of %d concurrent claims by two replicas succeeded, want exactly 1", d, n, 2*tries)
		}
	}
	if err := replicas[0].finish(ctx, "delivery-0", delivery{Status: deliveryDone, Owner: "replica-0#0"}); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := replicas[1].claim(ctx, "delivery-0", "replica-1#9", "fp", testStart.Add(time.Hour), time.Minute); ok || err != nil {
		t.Fatalf("the other replica claimed a done delivery: %v, %v", ok, err)
	}
}

// The pruning table on PostgreSQL.
func TestLedgerPruneOnPostgresForgetsDeliveriesPastTheTTL(t *testing.T) {
	st, err := store.Open(context.Background(), pgtest.URL(t), clocktesting.NewFakeClock(testStart))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	checkLedgerPrune(t, ledger{st: st, env: "prod"})
}
