package app

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/store"
)

// openPagerStore opens a store at location on the golden day, closed at the
// end of the test.
func openPagerStore(t *testing.T, location string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), location, testingclock.NewFakeClock(goldenStart))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// page opens an incident in st and escalates it through the notifier the
// runtime builds for cluster env, and returns the incident ID and the
// PagerDuty dedup keys of the trigger and of the resolve that follows.
func page(t *testing.T, st *store.Store, env string) (id, trigger, resolve string) {
	t.Helper()
	ctx := context.Background()
	inc, err := st.CreateIncident(ctx, store.Incident{Title: "clickhouse OOMKilled", Env: env})
	if err != nil {
		t.Fatal(err)
	}
	pager := newReceiver(t)
	var cfg config.Config
	cfg.Alerting.PagerDutyRoutingKey, cfg.Alerting.PagerDutyURL = "routing-key-0123456789", pager.srv.URL
	fan, err := newNotifier(cfg, st, env)
	if err != nil {
		t.Fatal(err)
	}
	n := platform.Notification{Severity: "critical", Title: "clickhouse OOMKilled", IncidentID: inc.ID,
		Target: "ai-data-labs/clickhouse", Escalate: true, State: platform.NotifyEscalated}
	resolved := n
	resolved.Escalate, resolved.State = false, platform.NotifyResolved
	for _, n := range []platform.Notification{n, resolved} {
		if err := fan.Notify(ctx, n); err != nil {
			t.Fatal(err)
		}
		if err := fan.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := fan.Close(ctx); err != nil {
		t.Fatal(err)
	}
	events := pager.received()
	if len(events) != 2 {
		t.Fatalf("PagerDuty received %d events, want a trigger and a resolve: %q", len(events), events)
	}
	keys := make([]string, len(events))
	for i, body := range events {
		var ev struct {
			Action   string `json:"event_action"`
			DedupKey string `json:"dedup_key"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatal(err)
		}
		keys[i] = ev.DedupKey
	}
	return inc.ID, keys[0], keys[1]
}

// checkPagesApart checks the pager's dedup keys of stores a and b: the same
// incident ID in both is two pages, the same store's incident one page (its
// resolve has its trigger's key).
func checkPagesApart(t *testing.T, a, b *store.Store) {
	t.Helper()
	idA, keyA, resolveA := page(t, a, "prod")
	idB, keyB, resolveB := page(t, b, "prod")
	if idA != idB {
		t.Fatalf("incident IDs %s and %s: the test needs two stores counting the same ID", idA, idB)
	}
	if keyA == keyB {
		t.Errorf("both stores' %s page with dedup key %q: two problems would merge into one page", idA, keyA)
	}
	if resolveA != keyA || resolveB != keyB {
		t.Errorf("resolve keys %q, %q; want the triggers' %q, %q", resolveA, resolveB, keyA, keyB)
	}
}

func TestPagesOfTwoSQLiteStoresNeverMerge(t *testing.T) {
	dir := t.TempDir()
	checkPagesApart(t, openPagerStore(t, filepath.Join(dir, "a.db")), openPagerStore(t, filepath.Join(dir, "b.db")))
}

// TestTheSameStoreGivesTheSameIncidentTheSameKey reopens one store: its
// identity, and so the key of an incident, survives the restart.
func TestTheSameStoreGivesTheSameIncidentTheSameKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	first := openPagerStore(t, path)
	id := first.Identity()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, other := openPagerStore(t, path), openPagerStore(t, path)
	if again.Identity() != id || other.Identity() != id || id == "" {
		t.Fatalf("identities %q, %q after reopening, want %q", again.Identity(), other.Identity(), id)
	}
	_, key, _ := page(t, again, "prod")
	if want := "ops-skill:" + id + ":prod:INC-2026-02-16-001"; key != want {
		t.Errorf("dedup key %q, want %q", key, want)
	}
}
