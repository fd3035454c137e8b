package store

import (
	"context"
	"sort"
	"strings"
	"testing"
)

// TestPruneStateDeletesOnlyExpiredKeysOfThePrefix runs on the engine under
// test (PostgreSQL with the integration tag).
func TestPruneStateDeletesOnlyExpiredKeysOfThePrefix(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	put := func(env, key, v string) {
		t.Helper()
		if err := s.UpdateState(ctx, env, key, func([]byte) ([]byte, error) { return []byte(v), nil }); err != nil {
			t.Fatal(err)
		}
	}
	put("prod", "serve:delivery:a", "old")
	put("prod", "serve:delivery:b", "new")
	put("prod", "serve:delivery:c", "old")
	put("prod", "serve:firing:a", "old")      // another prefix
	put("staging", "serve:delivery:a", "old") // another env
	put("prod", "serve:deliveryX", "old")     // not under the prefix "serve:delivery:"
	put("prod", "ai-data-labs/backend", "old")

	n, err := s.PruneState(ctx, "prod", "serve:delivery:", func(_ string, v []byte) bool { return string(v) == "old" })
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	var left []string
	for _, k := range []struct{ env, key string }{{"prod", "serve:delivery:a"}, {"prod", "serve:delivery:b"}, {"prod", "serve:delivery:c"},
		{"prod", "serve:firing:a"}, {"staging", "serve:delivery:a"}, {"prod", "serve:deliveryX"}, {"prod", "ai-data-labs/backend"}} {
		v, err := s.LoadState(ctx, k.env, k.key)
		if err != nil {
			t.Fatal(err)
		}
		if v != nil {
			left = append(left, k.env+" "+k.key)
		}
	}
	sort.Strings(left)
	want := "prod ai-data-labs/backend,prod serve:delivery:b,prod serve:deliveryX,prod serve:firing:a,staging serve:delivery:a"
	if got := strings.Join(left, ","); got != want {
		t.Errorf("left %s\nwant %s", got, want)
	}
	if n, err := s.PruneState(ctx, "prod", "serve:delivery:", func(string, []byte) bool { return true }); err != nil || n != 1 {
		t.Errorf("second prune: %d, %v; want 1 (b)", n, err)
	}
}

// TestPruneStateJudgesTheCurrentValue: a state that changed after the scan
// judged it expired is judged again on its new value, and kept.
func TestPruneStateJudgesTheCurrentValue(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	if err := s.UpdateState(ctx, "prod", "p:k", func([]byte) ([]byte, error) { return []byte("old"), nil }); err != nil {
		t.Fatal(err)
	}
	calls := 0
	n, err := s.PruneState(ctx, "prod", "p:", func(_ string, v []byte) bool {
		calls++
		return calls == 1 // expired when scanned, renewed (judged not expired) under the lock
	})
	if err != nil || n != 0 || calls != 2 {
		t.Fatalf("pruned %d after %d judgements, %v; want 0 after 2", n, calls, err)
	}
	if v, _ := s.LoadState(ctx, "prod", "p:k"); string(v) != "old" {
		t.Errorf("state %q, want it kept", v)
	}
}
