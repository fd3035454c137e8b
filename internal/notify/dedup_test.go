package notify

import (
	"context"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestDedupScopeKeys(t *testing.T) {
	const store, other = "5f0c9a52-3c1e-4f43-9d7e-1b2a3c4d5e6f", "0b7e4d1a-9f2c-4e8b-a3d5-6c7b8a9f0e1d"
	long := strings.Repeat("arn:aws:eks:eu-west-1:123456789012:cluster/", 8)
	cases := []struct {
		name  string
		scope DedupScope
		id    string
		want  string
	}{
		{"no scope: the bare incident ID", DedupScope{}, "INC-2026-11-26-001", "INC-2026-11-26-001"},
		{"incident within store and cluster", DedupScope{Store: store, Cluster: "prod"}, "INC-2026-11-26-001",
			"ops-skill:" + store + ":prod:INC-2026-11-26-001"},
		{"no incident: the target within the scope", DedupScope{Store: store, Cluster: "prod"}, "ops-skill:ai-data-labs/clickhouse",
			"ops-skill:" + store + ":prod:ai-data-labs/clickhouse"},
		{"a cluster name too long for the API is hashed", DedupScope{Store: store, Cluster: long}, "INC-2026-11-26-001",
			"ops-skill:" + store + ":sha256-" + "%s" + ":INC-2026-11-26-001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.scope.Key(c.id)
			if len(got) > pagerDutyDedupMax {
				t.Errorf("key of %d bytes, the API allows %d", len(got), pagerDutyDedupMax)
			}
			if head, tail, hashed := strings.Cut(c.want, "%s"); hashed {
				if !strings.HasPrefix(got, head) || !strings.HasSuffix(got, tail) || len(got) != len(head)+16+len(tail) {
					t.Errorf("key %q, want %s<16 hex>%s", got, head, tail)
				}
				return
			}
			if got != c.want {
				t.Errorf("key %q, want %q", got, c.want)
			}
		})
	}
	id := "INC-2026-11-26-001"
	keys := map[string]DedupScope{}
	for _, s := range []DedupScope{{store, "prod"}, {other, "prod"}, {store, "staging"}, {store, long}, {store, long + "x"}} {
		k := s.Key(id)
		if prev, dup := keys[k]; dup {
			t.Errorf("scopes %+v and %+v give %s the same key %q", prev, s, id, k)
		}
		keys[k] = s
	}
}

// TestPagerDutyScopedKeyResolvesTheTriggerAndAnUnscopedPage: a scoped sender
// resolves with its trigger's key, and also a page an older version opened
// under the bare incident ID.
func TestPagerDutyScopedKeyResolvesTheTriggerAndAnUnscopedPage(t *testing.T) {
	ctx := context.Background()
	scope := DedupScope{Store: "5f0c9a52-3c1e-4f43-9d7e-1b2a3c4d5e6f", Cluster: "prod"}
	want := scope.Key("INC-2026-11-26-001")
	cases := []struct {
		name  string
		steps []platform.Notification
		open  string // the key stored before the steps
		want  []string
	}{
		{"trigger and resolve", []platform.Notification{oomIncident(), oomCleared()}, "",
			[]string{"trigger " + want, "resolve " + want}},
		{"a page opened unscoped", []platform.Notification{oomCleared()}, "INC-2026-11-26-001",
			[]string{"resolve INC-2026-11-26-001"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := newReceiver(t, pdAccepted)
			keys := NewMemoryKeyStore()
			if c.open != "" {
				_ = keys.Put(ctx, "ai-data-labs/clickhouse", c.open)
			}
			p, err := NewPagerDuty(routingKey, PagerDutyOptions{BaseURL: rc.URL, Keys: keys, Scope: scope})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Send(ctx, c.steps); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range decodeEvents(t, rc) {
				got = append(got, ev.EventAction+" "+ev.DedupKey)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("events %q, want %q", got, c.want)
			}
			if _, ok, _ := keys.Get(ctx, "ai-data-labs/clickhouse"); ok {
				t.Error("key still stored after resolve")
			}
		})
	}
}
