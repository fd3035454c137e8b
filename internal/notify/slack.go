package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// Slack limits (Block Kit): header text 150 characters, section text 3000,
// a field 2000, ten fields per section, fifty blocks per message.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldMax   = 2000
	slackTextMax    = 3000
	slackURLMax     = 3000
	// SlackMaxBatch is how many notifications one Slack message can carry
	// (seven blocks each, fifty per message).
	SlackMaxBatch = 7
)

// SenderOptions are the dependencies shared by the channel senders.
type SenderOptions struct {
	// Client makes the requests; nil means NewHTTPClient().
	Client *http.Client
	// Clock dates Retry-After answers and annotations; nil means the real clock.
	Clock clock.PassiveClock
	// GrafanaURL, when set, adds a Grafana Explore link for the service to
	// notifications that carry no dashboard link.
	GrafanaURL string
}

// Slack posts to a Slack-style incoming webhook: `text` (the notification
// fallback) plus Block Kit blocks. It is a Sender; put a Dispatcher in front of
// it for pacing, coalescing and retries.
type Slack struct {
	url     secret
	post    poster
	grafana string
	timeout time.Duration
}

// NewSlackSender builds the Slack sender for webhookURL (a secret).
func NewSlackSender(webhookURL string, o SenderOptions) (*Slack, error) {
	if !isHTTP(webhookURL) {
		return nil, fmt.Errorf("%w: the Slack webhook (ALERT_WEBHOOK) must be an http(s) URL", ErrConfig)
	}
	return &Slack{url: newSecret(webhookURL), post: newPoster("slack", o.Client, o.Clock, webhookURL), grafana: o.GrafanaURL}, nil
}

// NewSlack builds a Slack notifier whose Notify makes a single attempt
// bounded by timeout, without queueing or retries.
//
// Deprecated: kept so existing wiring compiles; use New or NewSlackSender with
// a Dispatcher.
func NewSlack(webhookURL string, client *http.Client, timeout time.Duration) *Slack {
	return &Slack{url: newSecret(webhookURL), post: newPoster("slack", client, nil, webhookURL), timeout: timeout}
}

// Channel is "slack".
func (s *Slack) Channel() string { return "slack" }

// String names the channel without its URL.
func (s *Slack) String() string { return "slack webhook [redacted]" }

// Format renders every verb as String, so no rendering reaches a secret.
func (s *Slack) Format(st fmt.State, _ rune) { _, _ = st.Write([]byte(s.String())) }

// Send posts the batch as one message.
func (s *Slack) Send(ctx context.Context, batch []platform.Notification) error {
	body, err := s.Payload(batch...)
	if err != nil {
		return &DeliveryError{Channel: "slack", Kind: ErrRejected, Final: true, Err: err}
	}
	_, err = s.post.post(ctx, s.url.value(), body, nil)
	return err
}

// Notify posts one notification in a single attempt (see NewSlack).
func (s *Slack) Notify(ctx context.Context, n platform.Notification) error {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	return s.Send(ctx, []platform.Notification{n})
}

// slackMessage is the webhook body.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string         `json:"type"`
	Text     *slackText     `json:"text,omitempty"`
	Fields   []slackText    `json:"fields,omitempty"`
	Elements []slackElement `json:"elements,omitempty"`
}

type slackText struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// slackElement is a context text element or a link button.
type slackElement struct {
	Type     string `json:"type"`
	Text     any    `json:"text,omitempty"`
	URL      string `json:"url,omitempty"`
	ActionID string `json:"action_id,omitempty"`
}

// Payload renders the message for a batch of notifications: the text
// fallback of each, and its blocks, separated by dividers.
func (s *Slack) Payload(batch ...platform.Notification) ([]byte, error) {
	if len(batch) == 0 {
		return nil, fmt.Errorf("%w: nothing to send", ErrConfig)
	}
	var msg slackMessage
	texts := make([]string, 0, len(batch))
	for i, n := range batch {
		v := newView(n, s.grafana)
		texts = append(texts, text.ClipRunes(slackFallback(v), slackTextMax/len(batch)))
		if i > 0 {
			msg.Blocks = append(msg.Blocks, slackBlock{Type: "divider"})
		}
		msg.Blocks = append(msg.Blocks, slackBlocks(v)...)
	}
	msg.Text = strings.Join(texts, "\n\n")
	return marshal(msg)
}

// stateIcon is the Slack emoji of a state.
func stateIcon(state string) string {
	switch state {
	case platform.NotifyResolved:
		return ":white_check_mark:"
	case platform.NotifyEscalated:
		return ":rotating_light:"
	case platform.NotifyUnresolved, platform.NotifyWorse:
		return ":warning:"
	}
	return ":information_source:"
}

func headline(v view) string {
	return stateIcon(v.State) + " " + strings.TrimPrefix(v.Title, "ops-skill: ")
}

// slackFallback is the notification's text: headline, the agent's lines, links.
func slackFallback(v view) string {
	lines := []string{esc(headline(v))}
	if t := strings.TrimSpace(v.Text); t != "" {
		lines = append(lines, esc(strings.Replace(t, "Alert: Alert: ", "Alert: ", 1)))
	}
	if v.TTR > 0 && !strings.Contains(v.Text, "Time to resolution") {
		lines = append(lines, "Time to resolution: "+humanDuration(v.TTR))
	}
	for _, l := range v.Links {
		lines = append(lines, slackLink(l.URL, l.Label))
	}
	return strings.Join(lines, "\n")
}

// slackBlocks lays out one notification like the spec's examples: what fired,
// what was done (from → to), verification, time to resolution, incident, links.
func slackBlocks(v view) []slackBlock {
	blocks := []slackBlock{{Type: "header", Text: &slackText{Type: "plain_text", Text: text.ClipRunes(headline(v), slackHeaderMax), Emoji: true}}}
	if v.Alert != "" {
		blocks = append(blocks, section("*Alert*\n"+esc(v.Alert)))
	}
	blocks = append(blocks, section("*Actions*\n"+actionLines(v)))
	if f := slackFields(v); len(f) > 0 {
		blocks = append(blocks, slackBlock{Type: "section", Fields: f})
	}
	if b := linkButtons(v.Links); b != nil {
		blocks = append(blocks, *b)
	}
	ctx := "ops-skill · " + v.State
	if v.Where != "" {
		ctx = "ops-skill · " + v.Where + " · " + v.State
	}
	if v.Severity != "" {
		ctx += " · " + v.Severity
	}
	if !v.At.IsZero() {
		ctx += " · " + v.At.UTC().Format(time.RFC3339)
	}
	return append(blocks, slackBlock{Type: "context", Elements: []slackElement{{Type: "mrkdwn", Text: esc(ctx)}}})
}

func section(mrkdwn string) slackBlock {
	return slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: text.ClipRunes(mrkdwn, slackSectionMax)}}
}

// actionLines lists the writes (from → to) and refusals.
func actionLines(v view) string {
	var lines []string
	for _, a := range v.Writes {
		line := "• " + esc(Arrow(a))
		switch a.Status {
		case StatusDryRun:
			line += " _(dry run: nothing changed)_"
		case StatusFailed:
			line = "• :x: Failed: " + esc(Arrow(a))
		}
		lines = append(lines, line)
	}
	for _, a := range v.Refusals {
		line := "• :no_entry: Refused: " + esc(refusal(a))
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return "No automatic action taken"
	}
	return strings.Join(lines, "\n")
}

func refusal(a platform.NotificationAction) string {
	if a.Tool == "" {
		return a.Summary
	}
	s := strings.TrimSpace(a.Tool + " " + a.Target)
	if a.Rule != "" || a.Reason != "" {
		s += " (" + strings.TrimPrefix(a.Rule+": "+a.Reason, ": ") + ")"
	}
	return s
}

func slackFields(v view) []slackText {
	var f []slackText
	add := func(k, val string) {
		if val != "" && len(f) < 10 {
			f = append(f, slackText{Type: "mrkdwn", Text: text.ClipRunes("*"+k+"*\n"+esc(val), slackFieldMax)})
		}
	}
	add("Verification", strings.TrimSuffix(v.Verification+" — "+v.VerificationDetail, " — "))
	if v.TTR > 0 {
		add("Time to resolution", humanDuration(v.TTR))
	}
	add("Incident", v.Incident)
	if v.Escalated {
		add("Escalation", "Escalated to engineering")
	}
	add("Service", v.Service)
	for _, k := range sortedKeys(v.Fields) {
		add(k, v.Fields[k])
	}
	return f
}

// linkButtons renders the links as URL buttons; nil when there is none.
func linkButtons(ls []link) *slackBlock {
	var els []slackElement
	for _, l := range ls {
		if len(l.URL) > slackURLMax || len(els) == 25 {
			continue
		}
		els = append(els, slackElement{Type: "button", Text: slackText{Type: "plain_text", Text: text.ClipRunes(l.Label, 75)},
			URL: l.URL, ActionID: "link-" + l.Key})
	}
	if len(els) == 0 {
		return nil
	}
	return &slackBlock{Type: "actions", Elements: els}
}

// esc escapes the three characters Slack's mrkdwn treats as control
// characters, so alert text cannot mention <!channel> or forge links.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackLink renders <url|label> with the URL's control characters escaped.
func slackLink(u, label string) string {
	u = strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C").Replace(u)
	return "<" + u + "|" + esc(label) + ">"
}

// humanDuration renders 3m0s as "3 minutes", 90s as "1m30s".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d%time.Hour == 0 && d >= time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0 && d >= time.Minute:
		return plural(int(d/time.Minute), "minute")
	case d < time.Minute:
		return plural(int(d/time.Second), "second")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
