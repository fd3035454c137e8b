package compose_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/compose"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

var t0 = time.Date(2026, 2, 16, 9, 30, 0, 0, time.UTC)

// openStore opens a history file, as the CLI and serve do (several
// connections, so concurrent claims really race).
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"), clocktesting.NewFakePassiveClock(t0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sameState allows a notification unless the last one told the same state.
func sameState(state string) func(agent.NotifyRecord, bool) bool {
	return func(last agent.NotifyRecord, ok bool) bool { return !ok || last.State != state }
}

func TestConcurrentNotificationClaimsHaveOneWinner(t *testing.T) {
	ctx := context.Background()
	for _, acrossRuns := range []bool{true, false} {
		h := compose.NewHistory(openStore(t), "prod", acrossRuns)
		const n = 20
		won := make([]bool, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				c, err := h.ClaimNotify(ctx, "shop/backend", "prod", agent.NotifyRecord{At: t0, State: "escalated", Incident: "INC-1"}, sameState("escalated"))
				if err != nil {
					t.Error(err)
				}
				won[i] = c.Claimed
			})
		}
		close(start)
		wg.Wait()
		claimed := 0
		for _, w := range won {
			if w {
				claimed++
			}
		}
		if claimed != 1 {
			t.Errorf("acrossRuns=%v: %d of %d concurrent claims of one notification won, want 1", acrossRuns, claimed, n)
		}
	}
}

func TestNotificationClaimsAndReleases(t *testing.T) {
	ctx := context.Background()
	h := compose.NewHistory(openStore(t), "prod", true)
	claim := func(state string) agent.NotifyClaim {
		t.Helper()
		c, err := h.ClaimNotify(ctx, "shop/backend", "prod", agent.NotifyRecord{At: t0, State: state}, sameState(state))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	last := func() string {
		t.Helper()
		rec, ok, err := h.LastNotified(ctx, "shop/backend", "prod")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return "none"
		}
		return rec.State
	}
	release := func(c agent.NotifyClaim) {
		t.Helper()
		if err := h.ReleaseNotify(ctx, "shop/backend", "prod", c); err != nil {
			t.Fatal(err)
		}
	}
	first := claim("escalated")
	if !first.Claimed || first.HadLast || last() != "escalated" {
		t.Fatalf("first claim %+v, last %s", first, last())
	}
	if again := claim("escalated"); again.Claimed || again.Last.State != "escalated" {
		t.Fatalf("the same state claimed twice: %+v", again)
	}
	resolved := claim("resolved")
	if !resolved.Claimed || last() != "resolved" {
		t.Fatalf("a change of state is claimed: %+v, last %s", resolved, last())
	}
	release(resolved) // undelivered: the last notification is the one before
	if last() != "escalated" {
		t.Fatalf("after release the last is %s, want escalated", last())
	}
	release(first) // stale: "escalated" is still the last, so the claim is the same and is undone
	if last() != "none" {
		t.Fatalf("after releasing the first claim the last is %s, want none", last())
	}
	later := claim("resolved")
	release(first) // first is no longer the last: nothing changes
	if !later.Claimed || last() != "resolved" {
		t.Fatalf("a release undid a later claim: last %s", last())
	}
}

func TestSimulatedHistoriesCorrelateOnlyWithThemselves(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	open := func(h compose.History) tools.IncidentResult {
		t.Helper()
		res, err := h.OpenIncident(ctx, tools.IncidentRequest{Title: "ClickHouse OOM", Service: "clickhouse", Severity: "high", Subject: "ai-data-labs/clickhouse"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	tests := []struct {
		name       string
		acrossRuns bool
		shared     bool // a second History on the store joins and sees the first's notification
	}{
		{"real platform: every invocation shares", true, true},
		{"simulated platform: each invocation its own", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := "env-" + tt.name
			a, b := compose.NewHistory(st, env, tt.acrossRuns), compose.NewHistory(st, env, tt.acrossRuns)
			first := open(a)
			if again := open(a); again.ID != first.ID || !again.Joined {
				t.Fatalf("a History's second open %+v, want joined %s", again, first.ID)
			}
			other := open(b)
			if (other.ID == first.ID) != tt.shared || other.Joined != tt.shared {
				t.Fatalf("another History got %+v (first %s), shared=%v", other, first.ID, tt.shared)
			}
			if _, err := a.ClaimNotify(ctx, "ai-data-labs/clickhouse", env, agent.NotifyRecord{At: t0, State: "escalated"}, sameState("escalated")); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := b.LastNotified(ctx, "ai-data-labs/clickhouse", env); err != nil || ok != tt.shared {
				t.Fatalf("another History sees the notification: %v, %v; want %v", ok, err, tt.shared)
			}
		})
	}
}
