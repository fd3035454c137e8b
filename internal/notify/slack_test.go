package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/duet-company/ops-skill/internal/platform"
)

func newTestSlack(t *testing.T, url string) *Slack {
	t.Helper()
	s, err := NewSlackSender(url, SenderOptions{GrafanaURL: grafanaBase})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSlackPayloadOfTheSpecIncidentsMatchesGolden(t *testing.T) {
	s := newTestSlack(t, "https://hooks.example/services/T/B/x")
	for _, tc := range []struct {
		name string
		n    platform.Notification
	}{
		{"slack_cpu.json", cpuIncident()},
		{"slack_oom.json", oomIncident()},
		{"slack_disk.json", diskIncident()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := s.Payload(tc.n)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, body)
		})
	}
}

// slackMsg decodes a Slack body generically.
func slackMsg(t *testing.T, body []byte) (text string, blocks string, n int) {
	t.Helper()
	var m struct {
		Text   string            `json:"text"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	b, _ := marshal(m.Blocks)
	return m.Text, string(b), len(m.Blocks)
}

func TestSlackMessageSaysWhatFiredWhatWasDoneAndHowItVerified(t *testing.T) {
	s := newTestSlack(t, "https://hooks.example/services/T/B/x")
	for _, tc := range []struct {
		name       string
		n          platform.Notification
		text, blks []string
	}{
		{"cpu scale from 3 to 4", cpuIncident(),
			[]string{"Scaled ai-data-labs/backend from 3 to 4 replicas", "Verification: resolved", "<" + grafanaBase + "/explore?left=", "|Grafana dashboard>"},
			[]string{`"type":"header"`, "*Alert*\\nBackend service CPU at 85% for 5 minutes", "scale ai-data-labs/backend 3 → 4 replicas",
				"*Verification*\\nresolved — CPU after 2m: 45% (was 85%)", "*Time to resolution*\\n2 minutes", `"url":"` + grafanaBase + "/explore?left="}},
		{"oom escalation carries the incident and the alert link", oomIncident(),
			[]string{"Incident: INC-2026-11-26-001", "Escalated to engineering", "<http://prometheus.example:9090/graph?g0.expr=container_memory_working_set_bytes&amp;g0.tab=1|Alert source>"},
			[]string{":rotating_light:", "raise the memory limit of ai-data-labs/clickhouse (container clickhouse) 4Gi → 8Gi", "scale ai-data-labs/clickhouse 2 → 3 replicas",
				"*Incident*\\nINC-2026-11-26-001", "*Escalation*\\nEscalated to engineering", `"action_id":"link-alert"`, `"url":"` + generatorURL + `"`}},
		{"today's agent (text lines only) still gets from → to", legacy(cpuIncident()),
			[]string{"Action: scale ai-data-labs/backend from 3 to 4 replicas"},
			[]string{"scale ai-data-labs/backend 3 → 4 replicas", "*Alert*\\nBackend service CPU at 85% for 5 minutes", "*Verification*\\nresolved — CPU after 2m"}},
		{"without a dashboard link, GRAFANA_URL gives an Explore link", func() platform.Notification {
			n := legacy(diskIncident())
			n.Links = nil
			return n
		}(), []string{"<" + grafanaBase + "/explore?left=", "|Grafana Explore>"}, []string{`"text":"Grafana Explore"`, `"action_id":"link-dashboard"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := s.Payload(tc.n)
			if err != nil {
				t.Fatal(err)
			}
			text, blocks, _ := slackMsg(t, body)
			if miss := contains(text, tc.text...); miss != "" {
				t.Errorf("text lacks %q:\n%s", miss, text)
			}
			if miss := contains(blocks, tc.blks...); miss != "" {
				t.Errorf("blocks lack %q:\n%s", miss, blocks)
			}
		})
	}
}

func TestSlackEscapesAlertTextSoItCannotMentionOrForgeLinks(t *testing.T) {
	s := newTestSlack(t, "https://hooks.example/services/T/B/x")
	n := cpuIncident()
	n.Alert = "<!channel> CPU & more <https://evil.example|click here>"
	n.Text = "Alert: " + n.Alert
	body, err := s.Payload(n)
	if err != nil {
		t.Fatal(err)
	}
	text, blocks, _ := slackMsg(t, body)
	for _, out := range []string{text, blocks} {
		if strings.Contains(out, "<!channel>") || strings.Contains(out, "<https://evil") {
			t.Errorf("unescaped control sequence in %s", out)
		}
	}
	if !strings.Contains(blocks, "&lt;!channel&gt; CPU &amp; more") {
		t.Errorf("alert not escaped: %s", blocks)
	}
}

func TestSlackPayloadStaysWithinBlockKitLimits(t *testing.T) {
	s := newTestSlack(t, "https://hooks.example/services/T/B/x")
	huge := oomIncident()
	huge.Title = strings.Repeat("é", 400)
	huge.Alert = strings.Repeat("x", 10000)
	huge.Text = strings.Repeat("line\n", 2000)
	huge.Links["javascript"] = "javascript:alert(1)"
	huge.Links["long"] = "https://x.example/" + strings.Repeat("a", 4000)
	for i := range 30 {
		huge.Actions = append(huge.Actions, platform.NotificationAction{Status: StatusExecuted, Summary: strings.Repeat("y", 200) + string(rune('a'+i))})
	}
	batch := make([]platform.Notification, SlackMaxBatch)
	for i := range batch {
		batch[i] = huge
	}
	body, err := s.Payload(batch...)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string     `json:"type"`
			Text     *slackText `json:"text"`
			Fields   []slackText
			Elements []struct {
				URL string `json:"url"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(m.Text); n > slackTextMax+10 {
		t.Errorf("text has %d characters", n)
	}
	if len(m.Blocks) > 50 {
		t.Errorf("%d blocks, Slack allows 50", len(m.Blocks))
	}
	for _, b := range m.Blocks {
		limit := map[string]int{"header": slackHeaderMax, "section": slackSectionMax}[b.Type]
		if b.Text != nil && limit > 0 && utf8.RuneCountInString(b.Text.Text) > limit {
			t.Errorf("%s text has %d characters, limit %d", b.Type, utf8.RuneCountInString(b.Text.Text), limit)
		}
		if len(b.Fields) > 10 {
			t.Errorf("section with %d fields", len(b.Fields))
		}
		for _, e := range b.Elements {
			if e.URL != "" && (len(e.URL) > slackURLMax || !strings.HasPrefix(e.URL, "http")) {
				t.Errorf("button URL not allowed: %.60s", e.URL)
			}
		}
	}
}

func TestSlackCoalescedMessageKeepsEveryNotificationInOrder(t *testing.T) {
	s := newTestSlack(t, "https://hooks.example/services/T/B/x")
	body, err := s.Payload(cpuIncident(), oomIncident(), diskIncident())
	if err != nil {
		t.Fatal(err)
	}
	text, blocks, _ := slackMsg(t, body)
	iCPU, iOOM, iDisk := strings.Index(text, "backend"), strings.Index(text, "INC-2026-11-26-001"), strings.Index(text, "partitions")
	if iCPU < 0 || iCPU > iOOM || iOOM > iDisk {
		t.Errorf("text out of order: %d %d %d", iCPU, iOOM, iDisk)
	}
	if strings.Count(blocks, `"type":"divider"`) != 2 || strings.Count(blocks, `"type":"header"`) != 3 {
		t.Errorf("want 3 headers and 2 dividers: %s", blocks)
	}
}

func TestSlackSenderClassifiesAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer answer
		kind   error
		final  bool
		reason string
	}{
		{"200 ok is delivered", answer{status: 200, body: "ok"}, nil, false, ""},
		{"400 invalid_payload is final", answer{status: 400, body: "invalid_payload"}, ErrRejected, true, "invalid_payload"},
		{"403 action_prohibited is final", answer{status: 403, body: "action_prohibited"}, ErrRejected, true, "action_prohibited"},
		{"404 no_service is final", answer{status: 404, body: "no_service"}, ErrRejected, true, "no_service"},
		{"410 channel_is_archived is final", answer{status: 410, body: "channel_is_archived"}, ErrRejected, true, "channel_is_archived"},
		{"429 is retried", answer{status: 429, body: "rate_limited", retryAfter: "30"}, ErrRateLimited, false, "rate_limited"},
		{"500 is retried", answer{status: 500, body: "rollup_error"}, ErrUnavailable, false, "rollup_error"},
		{"302 is final, never followed", answer{status: 302, body: ""}, ErrRejected, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, func(int, request) answer { return tc.answer })
			err := newTestSlack(t, rc.URL+"/services/T/B/x").Send(context.Background(), []platform.Notification{cpuIncident()})
			if tc.kind == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var de *DeliveryError
			if !errors.As(err, &de) || !errors.Is(err, tc.kind) || !errors.Is(err, ErrDelivery) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if de.Final != tc.final || de.Reason != tc.reason || de.Status != tc.answer.status || de.Channel != "slack" {
				t.Errorf("got %+v", *de)
			}
			if tc.answer.retryAfter == "30" && de.RetryAfter.Seconds() != 30 {
				t.Errorf("retry after %s", de.RetryAfter)
			}
			if len(rc.requests()) != 1 {
				t.Errorf("%d requests, want 1 (no redirect followed)", len(rc.requests()))
			}
		})
	}
}

func TestSlackRejectsAConfigThatIsNotAURL(t *testing.T) {
	for _, u := range []string{"", "hooks.slack.com/services/x", "ftp://x/y", "http://"} {
		if _, err := NewSlackSender(u, SenderOptions{}); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: err = %v", u, err)
		}
	}
}

func TestLegacyNewSlackStillNotifiesOnce(t *testing.T) {
	rc := newReceiver(t, always(http.StatusOK, "ok"))
	if err := NewSlack(rc.URL+"/services/T/B/x", nil, 0).Notify(context.Background(), cpuIncident()); err != nil {
		t.Fatal(err)
	}
	if r := rc.requests(); len(r) != 1 || r[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("requests %+v", r)
	}
}
