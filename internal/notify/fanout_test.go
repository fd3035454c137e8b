package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

// receivers are one test receiver per channel.
type receivers struct {
	slack, webhook, pagerduty, grafana *receiver
}

func newReceivers(t *testing.T, slack, webhook, pd, grafana func(int, request) answer) receivers {
	return receivers{newReceiver(t, slack), newReceiver(t, webhook), newReceiver(t, pd), newReceiver(t, grafana)}
}

func (r receivers) config() Config {
	return Config{SlackWebhook: r.slack.URL + "/services/T0/B0/slacksecret", GenericWebhook: r.webhook.URL + "/hooks/genericsecret",
		PagerDutyRoutingKey: routingKey, PagerDutyURL: r.pagerduty.URL, GrafanaURL: r.grafana.URL, GrafanaToken: grafanaToken}
}

func (r receivers) counts() map[string]int {
	return map[string]int{"slack": len(r.slack.requests()), "webhook": len(r.webhook.requests()),
		"pagerduty": len(r.pagerduty.requests()), "grafana": len(r.grafana.requests())}
}

// dispatchers lists the fanout's dispatchers for the clock driver.
func dispatchers(f *Fanout) []*Dispatcher {
	var ds []*Dispatcher
	for _, r := range f.routes {
		switch n := r.Notifier.(type) {
		case *Dispatcher:
			ds = append(ds, n)
		case *Annotator:
			ds = append(ds, n.d)
		}
	}
	return ds
}

func newTestFanout(t *testing.T, cfg Config, deps Deps) (*Fanout, *testingclock.FakeClock) {
	t.Helper()
	fc := testingclock.NewFakeClock(t0)
	deps.Clock = fc
	f, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = f.Close(ctx)
	})
	return f, fc
}

func TestMessagesPerSpecIncident(t *testing.T) {
	rs := newReceivers(t, always(200, "ok"), always(202, ""), pdAccepted, always(200, `{"message":"Annotation added"}`))
	f, fc := newTestFanout(t, rs.config(), Deps{})
	if got := fmt.Sprint(f.Channels()); got != "[slack webhook pagerduty grafana]" {
		t.Fatalf("channels %s", got)
	}
	for _, tc := range []struct {
		name string
		n    platform.Notification
		want map[string]int // posts per channel for this notification
	}{
		{"high CPU: scaled 3 → 4, resolved", cpuIncident(), map[string]int{"slack": 1, "webhook": 1, "pagerduty": 0, "grafana": 1}},
		{"ClickHouse OOM: memory raised, scaled, escalated", oomIncident(), map[string]int{"slack": 1, "webhook": 1, "pagerduty": 1, "grafana": 2}},
		{"ClickHouse OOM: incident cleared later", oomCleared(), map[string]int{"slack": 1, "webhook": 1, "pagerduty": 1, "grafana": 0}},
		{"disk 85%: partitions dropped, resolved", diskIncident(), map[string]int{"slack": 1, "webhook": 1, "pagerduty": 0, "grafana": 1}},
	} {
		before := rs.counts()
		var err error
		run(t, fc, func() { err = f.Notify(context.Background(), tc.n) }, dispatchers(f)...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		after, total := rs.counts(), 0
		for ch, want := range tc.want {
			got := after[ch] - before[ch]
			total += got
			if got != want {
				t.Errorf("%s: %d %s posts, want %d", tc.name, got, ch, want)
			}
		}
		t.Logf("messages per incident — %s: %d (slack %d, webhook %d, pagerduty %d, grafana %d)", tc.name, total,
			after["slack"]-before["slack"], after["webhook"]-before["webhook"], after["pagerduty"]-before["pagerduty"], after["grafana"]-before["grafana"])
	}
	pd := decodeEvents(t, rs.pagerduty)
	if len(pd) != 2 || pd[0].EventAction != "trigger" || pd[1].EventAction != "resolve" || pd[0].DedupKey != pd[1].DedupKey {
		t.Errorf("pager events %+v", pd)
	}
}

func TestFanoutNamesTheChannelThatFailed(t *testing.T) {
	rs := newReceivers(t, always(400, "invalid_payload"), always(202, ""), always(400, `{"message":"Event object is invalid"}`), always(200, "{}"))
	f, fc := newTestFanout(t, rs.config(), Deps{})
	var err error
	run(t, fc, func() { err = f.Notify(context.Background(), oomIncident()) }, dispatchers(f)...)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "slack: ") || !strings.Contains(msg, "\npagerduty: ") || strings.Contains(msg, "webhook:") || strings.Contains(msg, "grafana:") {
		t.Errorf("error does not name exactly the failed channels:\n%s", msg)
	}
	var de *DeliveryError
	if !errors.As(err, &de) || !errors.Is(err, ErrRejected) {
		t.Errorf("err %v is not a DeliveryError", err)
	}
}

func TestFanoutWithNothingConfiguredHasNoChannel(t *testing.T) {
	f, err := New(Config{GrafanaURL: "http://grafana:3000"}, Deps{})
	if err != nil || len(f.Channels()) != 0 {
		t.Fatalf("channels %v, err %v", f.Channels(), err)
	}
	if err := f.Notify(context.Background(), cpuIncident()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestNewReportsEveryBadSetting(t *testing.T) {
	_, err := New(Config{SlackWebhook: "hooks.slack.com/x", GenericWebhook: "ftp://x", PagerDutyRoutingKey: "k", PagerDutyURL: "nope",
		GrafanaURL: "grafana", GrafanaToken: "t"}, Deps{})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v", err)
	}
	for _, key := range []string{"ALERT_WEBHOOK", "GENERIC_WEBHOOK_URL", "PAGERDUTY_URL", "GRAFANA_URL"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
}

func TestFanoutCloseDeliversWhatIsQueued(t *testing.T) {
	rs := newReceivers(t, always(200, "ok"), always(202, ""), pdAccepted, always(200, "{}"))
	f, fc := newTestFanout(t, rs.config(), Deps{})
	ds := dispatchers(f)
	for i := range 3 {
		if err := ds[0].Enqueue(numbered(i)); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	run(t, fc, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = f.Close(ctx)
	}, ds...)
	if err != nil || f.Stats()["slack"].Delivered != 3 {
		t.Fatalf("close = %v, stats %+v", err, f.Stats())
	}
}
