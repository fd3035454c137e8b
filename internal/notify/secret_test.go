package notify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/testenv"
)

// echo answers with everything the receiver saw, secrets included, as a
// hostile or misconfigured receiver might.
func echo(status int) func(int, request) answer {
	return func(_ int, r request) answer {
		return answer{status: status, body: fmt.Sprintf(`{"message":"you sent %s %s auth=%s"}`, r.Path, r.Body, r.Header.Get("Authorization"))}
	}
}

// secretsOf lists the secret values of cfg and their fragments.
func secretsOf(cfg Config) []string {
	return []string{cfg.SlackWebhook, "slacksecret", "/services/T0/B0/slacksecret", cfg.GenericWebhook, "genericsecret",
		cfg.PagerDutyRoutingKey, cfg.GrafanaToken}
}

func leaks(out string, secrets []string) string {
	for _, s := range secrets {
		if strings.Contains(out, s) {
			return s
		}
	}
	return ""
}

// renderings prints v with every verb a caller might use.
func renderings(v any) string {
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&b, verb+"\n", v)
	}
	return b.String()
}

func TestNoSecretInErrorsLogsOrRenderings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
	}{
		{"400 echoing the request", 400},
		{"500 echoing the request until the deadline", 500},
		{"410 echoing the request", 410},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := newReceivers(t, echo(tc.status), echo(tc.status), echo(tc.status), echo(tc.status))
			cfg := rs.config()
			var logs testenv.SyncBuffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			f, fc := newTestFanout(t, cfg, Deps{Logger: logger})
			var err error
			run(t, fc, func() { err = f.Notify(context.Background(), oomIncident()) }, dispatchers(f)...)
			if err == nil {
				t.Fatal("no error from receivers answering errors")
			}
			if c := rs.counts(); c["slack"] == 0 || c["pagerduty"] == 0 || c["grafana"] == 0 || c["webhook"] == 0 {
				t.Fatalf("not every channel was tried: %v", c)
			}
			if !strings.Contains(err.Error(), "you sent") {
				t.Errorf("the receivers' reasons are missing, the test proves nothing: %v", err)
			}
			outputs := map[string]string{"error": err.Error() + renderings(err), "log": logs.String(),
				"config": renderings(cfg) + renderings(&cfg), "fanout": renderings(f)}
			for _, ch := range f.routes {
				outputs["route "+ch.Name] = renderings(ch.Notifier) + renderings(ch)
			}
			for what, out := range outputs {
				if s := leaks(out, secretsOf(cfg)); s != "" {
					t.Errorf("%s shows the secret %q:\n%s", what, s, out)
				}
			}
			if !strings.Contains(logs.String(), "notification not delivered") {
				t.Errorf("nothing logged, the log check proves nothing:\n%s", logs.String())
			}
		})
	}
}

func TestNoSecretInNetworkErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	l.Close()
	cfg := Config{SlackWebhook: base + "/services/T0/B0/slacksecret", GenericWebhook: base + "/hooks/genericsecret?token=querysecret",
		PagerDutyRoutingKey: routingKey, PagerDutyURL: base, GrafanaURL: base, GrafanaToken: grafanaToken}
	var logs testenv.SyncBuffer
	f, fc := newTestFanout(t, cfg, Deps{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	run(t, fc, func() { err = f.Notify(context.Background(), oomIncident()) }, dispatchers(f)...)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
	secrets := append(secretsOf(cfg), "querysecret")
	for what, out := range map[string]string{"error": renderings(err), "log": logs.String()} {
		if s := leaks(out, secrets); s != "" {
			t.Errorf("%s shows %q:\n%s", what, s, out)
		}
	}
}

func TestSendersNeverRenderTheirSecrets(t *testing.T) {
	url := "https://chat.invalid/services/T0/B0/slacksecret"
	s, _ := NewSlackSender(url, SenderOptions{})
	w, _ := NewWebhook("https://chat.example/hooks/genericsecret", SenderOptions{})
	p, _ := NewPagerDuty(routingKey, PagerDutyOptions{})
	g, _ := NewGrafana("https://grafana.example", grafanaToken, GrafanaOptions{})
	legacySlack := NewSlack(url, nil, 0)
	d := NewDispatcher(s, DispatcherOptions{})
	defer d.Close(context.Background())
	a := NewAnnotator(g, DispatcherOptions{})
	defer a.Close(context.Background())
	ev, _ := p.Event(context.Background(), oomIncident())
	secrets := []string{url, "slacksecret", "genericsecret", routingKey, grafanaToken}
	for _, v := range []any{s, *s, w, *w, p, *p, g, *g, legacySlack, d, a, ev, newSecret(routingKey), newScrubber(url)} {
		if leak := leaks(renderings(v), secrets); leak != "" {
			t.Errorf("%T renders %q", v, leak)
		}
	}
	if body, _ := s.Payload(platform.Notification{Title: "t"}); bytes.Contains(body, []byte("slacksecret")) {
		t.Error("payload carries the webhook")
	}
}

func TestScrubberRemovesSecretFragments(t *testing.T) {
	sc := newScrubber("https://user:pa55word@hooks.example/services/T0/B0/slacksecret?sig=abcdef123", routingKey)
	in := "got /services/T0/B0/slacksecret and slacksecret and sig=abcdef123 and pa55word and " + routingKey
	out := sc.clean(in)
	for _, s := range []string{"slacksecret", "abcdef123", "pa55word", routingKey} {
		if strings.Contains(out, s) {
			t.Errorf("%q left in %q", s, out)
		}
	}
}
