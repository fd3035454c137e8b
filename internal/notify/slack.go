// Package notify delivers notifications: a Slack-style incoming webhook (the
// `text` fallback plus Block Kit blocks). The webhook URL is a secret and never
// appears in errors or output.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// ErrDelivery marks a notification the receiver refused or never got.
var ErrDelivery = errors.New("notification not delivered")

// Slack posts to an incoming webhook.
type Slack struct {
	url    string
	client *http.Client
}

// NewSlack builds a webhook notifier. timeout bounds each delivery.
func NewSlack(webhookURL string, client *http.Client, timeout time.Duration) *Slack {
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	return &Slack{url: webhookURL, client: client}
}

type block struct {
	Type   string  `json:"type"`
	Text   *text   `json:"text,omitempty"`
	Fields []*text `json:"fields,omitempty"`
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Payload renders the message body: text always (the fallback), plus blocks.
func Payload(n platform.Notification) ([]byte, error) {
	body := map[string]any{"text": clip(n.Title+"\n"+n.Text, 3000)}
	blocks := []block{{Type: "header", Text: &text{Type: "plain_text", Text: clip(n.Title, 150)}},
		{Type: "section", Text: &text{Type: "mrkdwn", Text: clip(n.Text, 3000)}}}
	var fields []*text
	for _, k := range sortedKeys(n.Fields) {
		fields = append(fields, &text{Type: "mrkdwn", Text: fmt.Sprintf("*%s*\n%s", k, n.Fields[k])})
	}
	if n.IncidentID != "" {
		fields = append(fields, &text{Type: "mrkdwn", Text: "*incident*\n" + n.IncidentID})
	}
	if len(fields) > 0 {
		blocks = append(blocks, block{Type: "section", Fields: fields[:min(len(fields), 10)]})
	}
	var links []string
	for _, k := range sortedKeys(n.Links) {
		links = append(links, fmt.Sprintf("<%s|%s>", n.Links[k], k))
	}
	if len(links) > 0 {
		blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: strings.Join(links, " · ")}})
	}
	body["blocks"] = blocks
	return json.Marshal(body)
}

// Notify posts one notification.
func (s *Slack) Notify(ctx context.Context, n platform.Notification) error {
	body, err := Payload(n)
	if err != nil {
		return fmt.Errorf("%w: encode: %v", ErrDelivery, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: the webhook URL (ALERT_WEBHOOK) is not a valid URL", ErrDelivery)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: the webhook did not answer: %s", ErrDelivery, scrub(err, s.url))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: the webhook answered HTTP %d: %s", ErrDelivery, resp.StatusCode, clip(strings.TrimSpace(string(msg)), 200))
	}
	return nil
}

// scrub removes the webhook URL (a secret) from an error's text.
func scrub(err error, url string) string {
	s := err.Error()
	if url != "" {
		s = strings.ReplaceAll(s, url, "[webhook]")
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
