package notify

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Action statuses (platform.NotificationAction.Status).
const (
	StatusExecuted = "executed"
	StatusDryRun   = "dry_run"
	StatusRefused  = "refused"
	StatusFailed   = "failed"
)

// view is a notification normalised for the channels: structured fields when
// the agent filled them, otherwise what its Text lines say.
type view struct {
	Title, Text, Alert, State, Severity string
	Service, Target, Incident           string
	Escalated                           bool
	Writes, Refusals                    []platform.NotificationAction
	Verification, VerificationDetail    string
	TTR                                 time.Duration
	Links                               []link
	Fields                              map[string]string // other fields, verification excluded
	At                                  time.Time
	// Where names the platform ("cluster prod (context admin), namespace shop");
	// empty when the notification does not say.
	Where string
	Place *platform.Where
}

// link is a labelled http(s) URL.
type link struct{ Key, Label, URL string }

var (
	fromTo    = regexp.MustCompile(`\bfrom (\S+) to (\S+)`)
	labelSafe = regexp.MustCompile(`[^A-Za-z0-9._-]`) // Kubernetes names; keeps PromQL strings intact
)

// newView normalises n. grafanaURL, when set, supplies an Explore link for the
// service when the notification carries no dashboard link.
func newView(n platform.Notification, grafanaURL string) view {
	v := view{Title: n.Title, Text: n.Text, Alert: n.Alert, State: StateOf(n), Severity: n.Severity,
		Service: n.Service, Target: n.Target, Incident: n.IncidentID, Escalated: n.Escalate,
		Verification: n.Fields["verification"], VerificationDetail: n.VerificationDetail,
		TTR: n.TimeToResolution, At: n.At, Fields: map[string]string{}}
	for k, val := range n.Fields {
		if k != "verification" {
			v.Fields[k] = val
		}
	}
	for _, a := range n.Actions {
		if a.Status == StatusRefused {
			v.Refusals = append(v.Refusals, a)
		} else {
			v.Writes = append(v.Writes, a)
		}
	}
	if n.Where.Kind != "" {
		w := n.Where
		v.Where, v.Place = w.String(), &w
	}
	v.fromText(n)
	v.Links = links(n, grafanaURL)
	return v
}

// fromText fills what the structured fields left empty from the agent's
// "Alert:", "Action:", "Refused:" and "Verification:" lines.
func (v *view) fromText(n platform.Notification) {
	dry := strings.HasPrefix(strings.TrimPrefix(n.Title, "ops-skill: "), "Would ")
	for _, line := range strings.Split(n.Text, "\n") {
		key, rest, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch key {
		case "Alert":
			if v.Alert == "" {
				v.Alert = rest
			}
		case "Action":
			if len(n.Actions) == 0 {
				a := platform.NotificationAction{Status: StatusExecuted, Summary: rest}
				if dry {
					a.Status = StatusDryRun
				}
				if m := fromTo.FindStringSubmatch(rest); m != nil {
					a.From, a.To = m[1], m[2]
				}
				v.Writes = append(v.Writes, a)
			}
		case "Refused":
			if len(n.Actions) == 0 {
				v.Refusals = append(v.Refusals, platform.NotificationAction{Status: StatusRefused, Summary: rest})
			}
		case "Verification":
			if v.VerificationDetail == "" {
				_, d, found := strings.Cut(rest, " — ")
				if found {
					v.VerificationDetail = d
				}
			}
		}
	}
	// The agent writes "Alert: " before alert texts that start with it already.
	v.Alert = strings.TrimPrefix(v.Alert, "Alert: ")
}

// StateOf is the state a notification reports: its State, or else escalated
// when Escalate is set, the verification result when there is one, acted otherwise.
func StateOf(n platform.Notification) string {
	switch {
	case n.State != "":
		return n.State
	case n.Escalate:
		return platform.NotifyEscalated
	case n.Fields["verification"] != "":
		return n.Fields["verification"]
	}
	return platform.NotifyActed
}

// TargetOf is the key that ties notifications about the same thing together:
// Target, else the service, else the incident ID.
func TargetOf(n platform.Notification) string {
	switch {
	case n.Target != "":
		return n.Target
	case n.Service != "":
		return "service:" + n.Service
	}
	return "incident:" + n.IncidentID
}

// Arrow renders an action with its change as "from → to", such as
// "scale ai-data-labs/backend 3 → 4 replicas".
func Arrow(a platform.NotificationAction) string {
	if a.From == "" || a.To == "" {
		return a.Summary
	}
	change := a.From + " → " + a.To
	if needle := "from " + a.From + " to " + a.To; strings.Contains(a.Summary, needle) {
		return strings.Replace(a.Summary, needle, change, 1)
	}
	if a.Summary == "" {
		return strings.TrimSpace(a.Tool + " " + a.Target + " " + change)
	}
	return a.Summary + " (" + change + ")"
}

// links lists the notification's http(s) links: the dashboard, the alert
// source, then any others by key.
func links(n platform.Notification, grafanaURL string) []link {
	labels := map[string]string{"dashboard": "Grafana dashboard", "alert": "Alert source"}
	all := map[string]string{}
	for k, u := range n.Links {
		if isHTTP(u) {
			all[k] = u
		}
	}
	if _, ok := all["dashboard"]; !ok && grafanaURL != "" && n.Service != "" {
		ns, _, _ := strings.Cut(n.Target, "/")
		if u := ExploreURL(grafanaURL, ns, n.Service); isHTTP(u) {
			all["dashboard"], labels["dashboard"] = u, "Grafana Explore"
		}
	}
	var out []link
	for _, k := range append([]string{"dashboard", "alert"}, sortedKeys(all)...) {
		if u, ok := all[k]; ok {
			label := labels[k]
			if label == "" {
				label = k
			}
			out = append(out, link{Key: k, Label: label, URL: u})
			delete(all, k)
		}
	}
	return out
}

func isHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// ExploreURL is a Grafana Explore view of the service's CPU over the last
// hour, on the default data source. namespace may be empty.
func ExploreURL(grafanaURL, namespace, service string) string {
	sel := `pod=~"` + labelSafe.ReplaceAllString(service, "") + `-.*"`
	if namespace != "" {
		sel = `namespace="` + labelSafe.ReplaceAllString(namespace, "") + `",` + sel
	}
	state := map[string]any{
		"queries": []map[string]string{{"refId": "A", "expr": "sum(rate(container_cpu_usage_seconds_total{" + sel + "}[5m]))"}},
		"range":   map[string]string{"from": "now-1h", "to": "now"},
	}
	b, _ := json.Marshal(state)
	return strings.TrimRight(grafanaURL, "/") + "/explore?left=" + url.QueryEscape(string(b))
}
