package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// GrafanaOptions configure the Grafana annotation sender.
type GrafanaOptions struct {
	SenderOptions
	// DashboardUID, when set, names the dashboard of a service, so its
	// annotations are drawn on that dashboard; otherwise annotations belong to
	// the organisation and show on any dashboard that queries their tags.
	DashboardUID func(service string) string
}

// Annotation is one Grafana annotation (POST /api/annotations).
type Annotation struct {
	DashboardUID string   `json:"dashboardUID,omitempty"`
	Time         int64    `json:"time"` // Unix milliseconds
	Tags         []string `json:"tags"`
	Text         string   `json:"text"`
}

// Grafana posts one annotation per executed write, tagged ops-skill and the
// service, so scale events, restarts and drops show on the graphs. The API
// token is a secret, sent as a Bearer token. Use it through an Annotator.
type Grafana struct {
	endpoint  string
	token     secret
	post      poster
	dashboard func(string) string
}

// NewGrafana builds the annotation sender for grafanaURL (GRAFANA_URL) and
// token (a service-account token, GRAFANA_TOKEN).
func NewGrafana(grafanaURL, token string, o GrafanaOptions) (*Grafana, error) {
	switch {
	case !isHTTP(grafanaURL):
		return nil, fmt.Errorf("%w: GRAFANA_URL must be an http(s) URL to add annotations", ErrConfig)
	case strings.TrimSpace(token) == "":
		return nil, fmt.Errorf("%w: the Grafana token (GRAFANA_TOKEN) is empty", ErrConfig)
	}
	return &Grafana{endpoint: strings.TrimRight(grafanaURL, "/") + "/api/annotations", token: newSecret(token),
		post: newPoster("grafana", o.Client, o.Clock, token), dashboard: o.DashboardUID}, nil
}

// Channel is "grafana".
func (g *Grafana) Channel() string { return "grafana" }

// String names the channel without its token.
func (g *Grafana) String() string { return "grafana annotations [redacted]" }

// Format renders every verb as String, so no rendering reaches a secret.
func (g *Grafana) Format(st fmt.State, _ rune) { _, _ = st.Write([]byte(g.String())) }

// Annotations are the annotations of n: one per executed write. An action
// without a time takes the notification's, or now.
func (g *Grafana) Annotations(n platform.Notification, now time.Time) []Annotation {
	v := newView(n, "")
	var out []Annotation
	for _, a := range v.Writes {
		if a.Status != StatusExecuted {
			continue
		}
		at := a.At
		if at.IsZero() {
			at = firstTime(v.At, now)
		}
		service := v.Service
		if service == "" {
			_, service, _ = strings.Cut(a.Target, "/")
		}
		tags := []string{"ops-skill"}
		if service != "" {
			tags = append(tags, service)
		}
		if p := v.Place; p != nil {
			tags = append(tags, "env:"+p.Env())
		}
		an := Annotation{Time: at.UnixMilli(), Tags: tags, Text: annotationText(v, a)}
		if g.dashboard != nil && service != "" {
			an.DashboardUID = g.dashboard(service)
		}
		out = append(out, an)
	}
	return out
}

func annotationText(v view, a platform.NotificationAction) string {
	lines := []string{"ops-skill: " + Arrow(a)}
	if v.Where != "" {
		lines = append(lines, "Platform: "+v.Where)
	}
	if v.Alert != "" {
		lines = append(lines, "Alert: "+text.ClipRunes(v.Alert, 300))
	}
	if v.Incident != "" {
		lines = append(lines, "Incident: "+v.Incident)
	}
	return strings.Join(lines, "\n")
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// Send posts the annotations of each notification of the batch.
func (g *Grafana) Send(ctx context.Context, batch []platform.Notification) error {
	h := http.Header{"Authorization": {"Bearer " + g.token.value()}}
	for _, n := range batch {
		for _, an := range g.Annotations(n, g.post.clock.Now()) {
			body, err := marshal(an)
			if err != nil {
				return &DeliveryError{Channel: "grafana", Kind: ErrRejected, Final: true, Err: err}
			}
			if _, err := g.post.post(ctx, g.endpoint, body, h); err != nil {
				return err
			}
		}
	}
	return nil
}

// Annotator delivers Grafana annotations through a dispatcher, one queued
// item per executed write, so a retry never duplicates an annotation that
// was already added. It implements platform.Notifier.
type Annotator struct {
	g *Grafana
	d *Dispatcher
}

// NewAnnotator starts the dispatcher of g. Close it to stop it.
func NewAnnotator(g *Grafana, o DispatcherOptions) *Annotator {
	o = o.withDefaults()
	return &Annotator{g: g, d: NewDispatcher(g, o)}
}

// String names the channel without its token.
func (a *Annotator) String() string { return "annotator(grafana)" }

// Format renders every verb as String.
func (a *Annotator) Format(st fmt.State, _ rune) { _, _ = st.Write([]byte(a.String())) }

// Notify queues an annotation for each executed write of n and waits for them.
func (a *Annotator) Notify(ctx context.Context, n platform.Notification) error {
	now := a.d.o.Clock.Now()
	var items []*item
	var errs []error
	for _, w := range newView(n, "").Writes {
		if w.Status != StatusExecuted {
			continue
		}
		one := n
		w.At = firstTime(w.At, n.At, now)
		one.Actions = []platform.NotificationAction{w}
		it, err := a.d.submit(one, true)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, it)
	}
	for _, it := range items {
		errs = append(errs, a.d.wait(ctx, it))
	}
	return errors.Join(errs...)
}

// Flush waits for queued annotations; see Dispatcher.Flush.
func (a *Annotator) Flush(ctx context.Context) error { return a.d.Flush(ctx) }

// Close delivers what is queued and stops; see Dispatcher.Close.
func (a *Annotator) Close(ctx context.Context) error { return a.d.Close(ctx) }

// Stats are the dispatcher's counters.
func (a *Annotator) Stats() Stats { return a.d.Stats() }
