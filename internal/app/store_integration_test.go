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
