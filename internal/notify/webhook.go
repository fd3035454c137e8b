package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// WebhookVersion is the version of WebhookBody.
const WebhookVersion = 1

// WebhookBody is the JSON body of the generic webhook: the incident as data,
// for chat tools and automations other than Slack.
type WebhookBody struct {
	Version      int                           `json:"version"`
	Source       string                        `json:"source"` // always "ops-skill"
	State        string                        `json:"state"`  // resolved, unresolved, worse, escalated, acted
	Severity     string                        `json:"severity,omitempty"`
	Title        string                        `json:"title"`
	Text         string                        `json:"text"`
	Alert        string                        `json:"alert,omitempty"`
	Service      string                        `json:"service,omitempty"`
	Target       string                        `json:"target,omitempty"`
	IncidentID   string                        `json:"incidentId,omitempty"`
	Escalated    bool                          `json:"escalated"`
	Actions      []platform.NotificationAction `json:"actions"`  // writes: executed, dry_run, failed
	Refusals     []platform.NotificationAction `json:"refusals"` // refused calls
	Verification *WebhookVerification          `json:"verification,omitempty"`
	// TimeToResolutionSeconds is zero when not resolved.
	TimeToResolutionSeconds float64           `json:"timeToResolutionSeconds,omitempty"`
	Links                   map[string]string `json:"links,omitempty"`
	Fields                  map[string]string `json:"fields,omitempty"`
	At                      time.Time         `json:"at,omitzero"`
	// Platform names the cluster, context and namespace (or the simulated platform).
	Platform *platform.Where `json:"platform,omitempty"`
}

// WebhookVerification is the verification of the run.
type WebhookVerification struct {
	Result string `json:"result"` // resolved, unresolved, worse
	Detail string `json:"detail,omitempty"`
}

// Webhook posts WebhookBody to a generic webhook URL (a secret). With a
// dispatcher's MaxBatch above one, a coalesced post is a JSON array.
type Webhook struct {
	url     secret
	post    poster
	grafana string
}

// NewWebhook builds the generic webhook sender.
func NewWebhook(webhookURL string, o SenderOptions) (*Webhook, error) {
	if !isHTTP(webhookURL) {
		return nil, fmt.Errorf("%w: the generic webhook (GENERIC_WEBHOOK_URL) must be an http(s) URL", ErrConfig)
	}
	return &Webhook{url: newSecret(webhookURL), post: newPoster("webhook", o.Client, o.Clock, webhookURL), grafana: o.GrafanaURL}, nil
}

// Channel is "webhook".
func (w *Webhook) Channel() string { return "webhook" }

// String names the channel without its URL.
func (w *Webhook) String() string { return "generic webhook [redacted]" }

// Format renders every verb as String, so no rendering reaches a secret.
func (w *Webhook) Format(st fmt.State, _ rune) { _, _ = st.Write([]byte(w.String())) }

// Body is the body for one notification.
func (w *Webhook) Body(n platform.Notification) WebhookBody {
	v := newView(n, w.grafana)
	b := WebhookBody{Version: WebhookVersion, Source: "ops-skill", State: v.State, Severity: v.Severity, Title: v.Title, Text: v.Text,
		Alert: v.Alert, Service: v.Service, Target: v.Target, IncidentID: v.Incident, Escalated: v.Escalated,
		Actions: nonNil(v.Writes), Refusals: nonNil(v.Refusals), TimeToResolutionSeconds: v.TTR.Seconds(), At: v.At, Platform: v.Place}
	if v.Verification != "" {
		b.Verification = &WebhookVerification{Result: v.Verification, Detail: v.VerificationDetail}
	}
	if len(v.Links) > 0 {
		b.Links = map[string]string{}
		for _, l := range v.Links {
			b.Links[l.Key] = l.URL
		}
	}
	if len(v.Fields) > 0 {
		b.Fields = v.Fields
	}
	return b
}

// Send posts the batch: one object, or an array when coalesced.
func (w *Webhook) Send(ctx context.Context, batch []platform.Notification) error {
	var body []byte
	var err error
	if len(batch) == 1 {
		body, err = marshal(w.Body(batch[0]))
	} else {
		bodies := make([]WebhookBody, len(batch))
		for i, n := range batch {
			bodies[i] = w.Body(n)
		}
		body, err = marshal(bodies)
	}
	if err != nil {
		return &DeliveryError{Channel: "webhook", Kind: ErrRejected, Final: true, Err: err}
	}
	_, err = w.post.post(ctx, w.url.value(), body, nil)
	return err
}

func nonNil(a []platform.NotificationAction) []platform.NotificationAction {
	if a == nil {
		return []platform.NotificationAction{}
	}
	return a
}
