package notify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

const routingKey = "R0UTINGKEY0123456789abcdef012345"

// pdEvent is the wire form of an event, routing key included.
type pdEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"`
	DedupKey    string            `json:"dedup_key"`
	Payload     *PagerDutyPayload `json:"payload"`
}

func pdAccepted(_ int, r request) answer {
	var ev pdEvent
	_ = json.Unmarshal(r.Body, &ev)
	return answer{status: 202, body: `{"status":"success","message":"Event processed","dedup_key":"` + ev.DedupKey + `"}`}
}

func newTestPagerDuty(t *testing.T, base string, keys KeyStore) *PagerDuty {
	t.Helper()
	p, err := NewPagerDuty(routingKey, PagerDutyOptions{BaseURL: base, Keys: keys, SenderOptions: SenderOptions{GrafanaURL: grafanaBase}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeEvents(t *testing.T, rc *receiver) []pdEvent {
	t.Helper()
	var out []pdEvent
	for _, r := range rc.requests() {
		if r.Path != "/v2/enqueue" {
			t.Errorf("posted to %s, want /v2/enqueue", r.Path)
		}
		var ev pdEvent
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func TestPagerDutyTriggerOfTheEscalatedIncidentMatchesGolden(t *testing.T) {
	rc := newReceiver(t, pdAccepted)
	p := newTestPagerDuty(t, rc.URL, NewMemoryKeyStore())
	if err := p.Send(context.Background(), []platform.Notification{oomIncident()}); err != nil {
		t.Fatal(err)
	}
	golden(t, "pagerduty_trigger.json", rc.requests()[0].Body)
}

func TestPagerDutyTriggersOnEscalationAndResolvesWithTheSameKey(t *testing.T) {
	rc := newReceiver(t, pdAccepted)
	keys := NewMemoryKeyStore()
	p := newTestPagerDuty(t, rc.URL, keys)
	ctx := context.Background()
	steps := []platform.Notification{
		cpuIncident(),  // resolved, nothing open for backend: no event
		oomIncident(),  // escalated: trigger INC-…-001
		oomIncident(),  // re-sent: trigger again with the same key (attaches to the same alert)
		diskIncident(), // resolved, same workload but another problem (no incident): no event
		oomCleared(),   // the incident cleared: resolve INC-…-001
		oomCleared(),   // resolved again: nothing open any more, no event
	}
	for _, n := range steps {
		if err := p.Send(ctx, []platform.Notification{n}); err != nil {
			t.Fatal(err)
		}
	}
	evs := decodeEvents(t, rc)
	var got []string
	for _, ev := range evs {
		got = append(got, ev.EventAction+" "+ev.DedupKey)
		if ev.RoutingKey != routingKey {
			t.Errorf("routing key %q", ev.RoutingKey)
		}
	}
	want := "[trigger INC-2026-11-26-001 trigger INC-2026-11-26-001 resolve INC-2026-11-26-001]"
	if strings.Join(strings.Fields(strings.Join(got, " ")), " ") != strings.Trim(want, "[]") {
		t.Errorf("events %v, want %s", got, want)
	}
	if evs[2].Payload != nil {
		t.Errorf("resolve carries a payload: %+v", evs[2].Payload)
	}
	if _, ok, _ := keys.Get(ctx, "ai-data-labs/clickhouse"); ok {
		t.Error("key still stored after resolve")
	}
}

func TestPagerDutyKeyWithoutAnIncidentIsStablePerTarget(t *testing.T) {
	rc := newReceiver(t, pdAccepted)
	p := newTestPagerDuty(t, rc.URL, NewMemoryKeyStore())
	n := legacy(oomIncident())
	n.IncidentID, n.Target = "", "ai-data-labs/clickhouse"
	for range 2 {
		if err := p.Send(context.Background(), []platform.Notification{n}); err != nil {
			t.Fatal(err)
		}
	}
	evs := decodeEvents(t, rc)
	if len(evs) != 2 || evs[0].DedupKey != "ops-skill:ai-data-labs/clickhouse" || evs[1].DedupKey != evs[0].DedupKey {
		t.Errorf("events %+v", evs)
	}
}

func TestPagerDutySummaryIsAtMost1024Characters(t *testing.T) {
	rc := newReceiver(t, pdAccepted)
	p := newTestPagerDuty(t, rc.URL, NewMemoryKeyStore())
	n := oomIncident()
	n.Title = strings.Repeat("ü", 3000)
	if err := p.Send(context.Background(), []platform.Notification{n}); err != nil {
		t.Fatal(err)
	}
	s := decodeEvents(t, rc)[0].Payload.Summary
	if utf8.RuneCountInString(s) > 1024 || !utf8.ValidString(s) || !strings.HasPrefix(s, "[INC-2026-11-26-001] ") {
		t.Errorf("summary of %d characters: %.40q", utf8.RuneCountInString(s), s)
	}
}

func TestPagerDutySeverityMapsToTheAPIsFour(t *testing.T) {
	for in, want := range map[string]string{"critical": "critical", "high": "error", "error": "error", "warning": "warning", "info": "info", "": "info"} {
		if got := pagerSeverity(in); got != want {
			t.Errorf("pagerSeverity(%q) = %q, want %q", in, got, want)
		}
	}
}

// failingKeys fails its first n writes.
type failingKeys struct {
	*MemoryKeyStore
	n int
}

func (f *failingKeys) Put(ctx context.Context, target, key string) error {
	if f.n > 0 {
		f.n--
		return errors.New("database is locked")
	}
	return f.MemoryKeyStore.Put(ctx, target, key)
}

func TestPagerDutyThroughADispatcher(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(int, request) answer
		keys   KeyStore
		kinds  []error
		posts  int
	}{
		{"202 is delivered", pdAccepted, nil, nil, 1},
		{"400 invalid event is final", always(400, `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]}`), nil, []error{ErrRejected}, 1},
		{"429 is retried", func(i int, r request) answer {
			if i == 0 {
				return answer{status: 429, body: `{"status":"throttle event","message":"Requests for this service are arriving too quickly."}`}
			}
			return pdAccepted(i, r)
		}, nil, nil, 2},
		{"500 is retried", func(i int, r request) answer {
			if i < 2 {
				return answer{status: 500}
			}
			return pdAccepted(i, r)
		}, nil, nil, 3},
		{"a failed key write resends the idempotent trigger", pdAccepted, &failingKeys{NewMemoryKeyStore(), 1}, nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, tc.script)
			fc := testingclock.NewFakeClock(t0)
			keys := tc.keys
			if keys == nil {
				keys = NewMemoryKeyStore()
			}
			d := NewDispatcher(newTestPagerDuty(t, rc.URL, keys), DispatcherOptions{Clock: fc})
			defer d.Close(context.Background())
			var err error
			run(t, fc, func() { err = d.Notify(context.Background(), oomIncident()) }, d)
			checkKinds(t, err, tc.kinds)
			if n := len(rc.requests()); n != tc.posts {
				t.Errorf("%d posts, want %d", n, tc.posts)
			}
			if tc.kinds != nil && !strings.Contains(err.Error(), "Event object is invalid") {
				t.Errorf("reason missing: %v", err)
			}
			if k, ok, _ := keys.Get(context.Background(), "ai-data-labs/clickhouse"); (tc.kinds == nil) != (ok && k == "INC-2026-11-26-001") {
				t.Errorf("stored key %q %v", k, ok)
			}
		})
	}
}

func TestPagerDutyRejectsABadConfig(t *testing.T) {
	for _, tc := range []struct {
		key, base string
	}{{"", ""}, {"  ", ""}, {routingKey, "events.pagerduty.com"}} {
		if _, err := NewPagerDuty(tc.key, PagerDutyOptions{BaseURL: tc.base}); !errors.Is(err, ErrConfig) {
			t.Errorf("%q %q: err = %v", tc.key, tc.base, err)
		}
	}
	p, err := NewPagerDuty(routingKey, PagerDutyOptions{})
	if err != nil || p.endpoint != "https://events.pagerduty.com/v2/enqueue" {
		t.Errorf("default endpoint %q, %v", p.endpoint, err)
	}
	_ = time.Second
}
