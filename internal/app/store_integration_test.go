//go:build integration

package app

import (
	"context"
	"testing"

	testclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/store/pgtest"
)

func TestOpenStoreOpensPostgresForAStoreURL(t *testing.T) {
	ctx := context.Background()
	d := deps{clock: testclock.NewFakeClock(goldenStart)}
	st, err := d.openStore(ctx, config.Config{StateDir: t.TempDir(), Store: pgtest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Engine() != "postgres" {
		t.Fatalf("engine %s, want postgres", st.Engine())
	}
}

// TestPagesOfTwoPostgresStoresNeverMerge: two PostgreSQL databases (schemas)
// count the same incident IDs; their pages stay apart, and every handle on
// one database pages an incident with one key.
func TestPagesOfTwoPostgresStoresNeverMerge(t *testing.T) {
	checkPagesApart(t, openPagerStore(t, pgtest.URL(t)), openPagerStore(t, pgtest.URL(t)))
	url := pgtest.URL(t)
	a, b := openPagerStore(t, url), openPagerStore(t, url)
	if a.Identity() == "" || a.Identity() != b.Identity() {
		t.Errorf("two handles on one database have identities %q and %q, want one", a.Identity(), b.Identity())
	}
}
