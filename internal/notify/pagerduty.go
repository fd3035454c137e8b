package notify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// PagerDuty Events API v2.
const (
	// PagerDutyURL is the default base of the Events API.
	PagerDutyURL = "https://events.pagerduty.com"
	// pagerDutySummaryMax is the API's limit on payload.summary.
	pagerDutySummaryMax = 1024
)

// KeyStore remembers, across runs, the dedup key of the pager alert open for
// a target (platform.Notification.Target), so that a later run can resolve
// it. The lead backs it with the history store; MemoryKeyStore is for tests
// and single runs.
type KeyStore interface {
	// Get returns the dedup key of the alert open for target, if any.
	Get(ctx context.Context, target string) (key string, ok bool, err error)
	// Put records key as the alert open for target.
	Put(ctx context.Context, target, key string) error
	// Delete forgets the alert of target once it is resolved.
	Delete(ctx context.Context, target string) error
}

// MemoryKeyStore is a KeyStore in memory, safe for concurrent use.
type MemoryKeyStore struct {
	mu   sync.Mutex
	keys map[string]string
}

// NewMemoryKeyStore returns an empty store.
func NewMemoryKeyStore() *MemoryKeyStore { return &MemoryKeyStore{keys: map[string]string{}} }

// Get implements KeyStore.
func (m *MemoryKeyStore) Get(_ context.Context, target string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[target]
	return k, ok, nil
}

// Put implements KeyStore.
func (m *MemoryKeyStore) Put(_ context.Context, target, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[target] = key
	return nil
}

// Delete implements KeyStore.
func (m *MemoryKeyStore) Delete(_ context.Context, target string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, target)
	return nil
}

// PagerDutyOptions configure the PagerDuty sender.
type PagerDutyOptions struct {
	SenderOptions
	// BaseURL is the Events API base; events go to BaseURL + "/v2/enqueue".
	// Empty means PagerDutyURL.
	BaseURL string
	// Source overrides payload.source; empty means the notification's target,
	// or "ops-skill" when it has none.
	Source string
	// Keys remembers dedup keys across runs; nil means a MemoryKeyStore.
	Keys KeyStore
	// Scope makes the dedup keys unique across stores and clusters.
	Scope DedupScope
}

// PagerDuty sends Events API v2 events: trigger when a notification
// escalates, with the incident ID within its scope (store and cluster) as
// dedup_key (re-sends attach to the same alert), and resolve with the same key when a later notification for the
// same target and incident reports resolved. Other notifications send nothing.
type PagerDuty struct {
	key      secret
	endpoint string
	source   string
	post     poster
	keys     KeyStore
	scope    DedupScope
	grafana  string
}

// NewPagerDuty builds the sender for routingKey (a secret).
func NewPagerDuty(routingKey string, o PagerDutyOptions) (*PagerDuty, error) {
	if strings.TrimSpace(routingKey) == "" {
		return nil, fmt.Errorf("%w: the PagerDuty routing key (PAGERDUTY_ROUTING_KEY) is empty", ErrConfig)
	}
	base := o.BaseURL
	if base == "" {
		base = PagerDutyURL
	}
	if !isHTTP(base) {
		return nil, fmt.Errorf("%w: the PagerDuty URL (PAGERDUTY_URL) must be an http(s) URL", ErrConfig)
	}
	if o.Keys == nil {
		o.Keys = NewMemoryKeyStore()
	}
	p := newPoster("pagerduty", o.Client, o.Clock, routingKey)
	return &PagerDuty{key: newSecret(routingKey), endpoint: strings.TrimRight(base, "/") + "/v2/enqueue", source: o.Source,
		post: p, keys: o.Keys, scope: o.Scope, grafana: o.GrafanaURL}, nil
}

// Channel is "pagerduty".
func (p *PagerDuty) Channel() string { return "pagerduty" }

// String names the channel without its routing key.
func (p *PagerDuty) String() string { return "pagerduty events v2 [redacted]" }

// Format renders every verb as String, so no rendering reaches a secret.
func (p *PagerDuty) Format(st fmt.State, _ rune) { _, _ = st.Write([]byte(p.String())) }

// WantsPager reports whether n may need a pager event: it escalates or it
// reports resolved (the event itself depends on the key store).
func WantsPager(n platform.Notification) bool {
	return n.Escalate || StateOf(n) == platform.NotifyResolved
}

// PagerDutyEvent is an Events API v2 event, without its routing key.
type PagerDutyEvent struct {
	EventAction string            `json:"event_action"` // trigger or resolve
	DedupKey    string            `json:"dedup_key"`
	Payload     *PagerDutyPayload `json:"payload,omitempty"`
	Client      string            `json:"client,omitempty"`
	ClientURL   string            `json:"client_url,omitempty"`
	Links       []PagerDutyLink   `json:"links,omitempty"`
}

// PagerDutyPayload is the payload of a trigger event.
type PagerDutyPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"` // critical, error, warning, info
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// PagerDutyLink is a link shown on the alert.
type PagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Send sends the event each notification of the batch calls for, in order,
// and records or forgets its dedup key.
func (p *PagerDuty) Send(ctx context.Context, batch []platform.Notification) error {
	for _, n := range batch {
		if err := p.send(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (p *PagerDuty) send(ctx context.Context, n platform.Notification) error {
	ev, err := p.Event(ctx, n)
	if err != nil || ev == nil {
		return err
	}
	body, err := marshal(struct {
		RoutingKey string `json:"routing_key"`
		*PagerDutyEvent
	}{p.key.value(), ev})
	if err != nil {
		return &DeliveryError{Channel: "pagerduty", Kind: ErrRejected, Final: true, Err: err}
	}
	if _, err := p.post.post(ctx, p.endpoint, body, nil); err != nil {
		return err
	}
	target := TargetOf(n)
	if ev.EventAction == "resolve" {
		err = p.keys.Delete(ctx, target)
	} else {
		err = p.keys.Put(ctx, target, ev.DedupKey)
	}
	if err != nil {
		// The event is idempotent by dedup key: a retry sends it again and stores the key again.
		return &DeliveryError{Channel: "pagerduty", Kind: ErrUnavailable, Err: fmt.Errorf("remember the dedup key: %w", err)}
	}
	return nil
}

// Event is the event n calls for, nil when none. The dedup key is the
// incident ID, or "ops-skill:<target>" without one, within the sender's
// scope (DedupScope.Key). Trigger when n escalates; resolve when n reports
// resolved and the alert open for its target has the same key, so a
// resolved notification about another problem of the same workload (another
// incident, or none) never resolves the page. A page opened before keys had
// a scope (its key the bare ID) is resolved with the key it was opened with.
func (p *PagerDuty) Event(ctx context.Context, n platform.Notification) (*PagerDutyEvent, error) {
	target := TargetOf(n)
	open, ok, err := p.keys.Get(ctx, target)
	if err != nil {
		return nil, &DeliveryError{Channel: "pagerduty", Kind: ErrUnavailable, Err: fmt.Errorf("read the dedup key: %w", err)}
	}
	bare := firstNonEmpty(n.IncidentID, "ops-skill:"+target)
	key := p.scope.Key(bare)
	switch {
	case n.Escalate:
		return p.trigger(n, key), nil
	case StateOf(n) == platform.NotifyResolved && ok && (open == key || open == bare):
		return &PagerDutyEvent{EventAction: "resolve", DedupKey: open}, nil
	}
	return nil, nil
}

func (p *PagerDuty) trigger(n platform.Notification, key string) *PagerDutyEvent {
	v := newView(n, p.grafana)
	summary := v.Title
	if v.Incident != "" && !strings.Contains(summary, v.Incident) {
		summary = "[" + v.Incident + "] " + summary
	}
	ns, _, _ := strings.Cut(v.Target, "/")
	ev := &PagerDutyEvent{EventAction: "trigger", DedupKey: key, Client: "ops-skill",
		Payload: &PagerDutyPayload{Summary: text.ClipRunes(summary, pagerDutySummaryMax), Source: firstNonEmpty(p.source, v.Target, "ops-skill"),
			Severity: pagerSeverity(v.Severity), Component: v.Service, Group: ns, Class: v.State, CustomDetails: details(v)}}
	if !v.At.IsZero() {
		ev.Payload.Timestamp = v.At.UTC().Format(time.RFC3339)
	}
	for _, l := range v.Links {
		ev.Links = append(ev.Links, PagerDutyLink{Href: l.URL, Text: l.Label})
		if l.Key == "dashboard" {
			ev.ClientURL = l.URL
		}
	}
	return ev
}

// details are the custom_details of a trigger: what fired, what was done,
// how it verified.
func details(v view) map[string]any {
	d := map[string]any{"state": v.State}
	put := func(k, val string) {
		if val != "" {
			d[k] = text.ClipRunes(val, 2000)
		}
	}
	put("alert", v.Alert)
	put("platform", v.Where)
	put("incident", v.Incident)
	put("target", v.Target)
	put("verification", strings.TrimSuffix(v.Verification+" — "+v.VerificationDetail, " — "))
	if v.TTR > 0 {
		put("time_to_resolution", humanDuration(v.TTR))
	}
	var acts, refs []string
	for _, a := range v.Writes {
		acts = append(acts, Arrow(a)+statusSuffix(a.Status))
	}
	for _, a := range v.Refusals {
		refs = append(refs, refusal(a))
	}
	if len(acts) > 0 {
		d["actions"] = acts
	}
	if len(refs) > 0 {
		d["refusals"] = refs
	}
	return d
}

func statusSuffix(s string) string {
	if s == "" || s == StatusExecuted {
		return ""
	}
	return " (" + s + ")"
}

// pagerSeverity maps ops-skill severities to the API's four.
func pagerSeverity(s string) string {
	switch strings.ToLower(s) {
	case "critical":
		return "critical"
	case "error", "high":
		return "error"
	case "warning":
		return "warning"
	}
	return "info"
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
