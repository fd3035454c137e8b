package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
)

// intake turns the fresh alerts of a delivery (by key, each once) into
// jobs: firing alerts become agent runs, resolved ones close what their
// firing opened. It returns the keys of alerts that could not be read
// (logged and counted, not queued).
func (s *Server) intake(w alert.Webhook, keys, fps, fresh []string) ([]*job, []string) {
	todo := make(map[string]bool, len(fresh))
	for _, k := range fresh {
		todo[k] = true
	}
	now := s.d.Now()
	var jobs []*job
	var unread []string
	for i, wa := range w.Alerts {
		if !todo[keys[i]] {
			continue
		}
		todo[keys[i]] = false
		a, err := s.parse(w, wa, now)
		if err != nil {
			unread = append(unread, keys[i])
			s.m.rejectedAlerts.Inc()
			s.log.Warn("alert not readable: skipped", "fingerprint", fps[i], "error", err.Error())
			continue
		}
		kind := jobAlert
		if statusOf(wa) == "resolved" {
			kind, a.Status = jobResolve, "resolved"
		}
		jobs = append(jobs, &job{kind: kind, key: keys[i], fp: fps[i], lane: laneOf(a, fps[i]), alert: a, endsAt: wa.EndsAt})
	}
	return jobs, unread
}

// statusOf is an alert's status: resolved, or firing.
func statusOf(wa alert.WebhookAlert) string {
	if wa.Status == "resolved" {
		return "resolved"
	}
	return "firing"
}

// parse reads one alert of the delivery with the CLI's parser. A resolved
// alert is read as firing, so that it names the same target.
func (s *Server) parse(w alert.Webhook, wa alert.WebhookAlert, now time.Time) (alert.Alert, error) {
	wa.Status = "firing"
	one := w
	one.Alerts = []alert.WebhookAlert{wa}
	as, err := s.d.Parser.ParseWebhook(one, now)
	if err != nil {
		return alert.Alert{}, err
	}
	return as[0], nil
}

// DeliveryKey identifies one alert instance in one state: Alertmanager's
// fingerprint (the hash of its labels), when it started, and whether it is
// firing or resolved. The group is left out on purpose: the same alert routed
// through two groups is still one problem to act on once.
func DeliveryKey(fingerprint string, startsAt time.Time, status string) string {
	start := ""
	if !startsAt.IsZero() {
		start = startsAt.UTC().Format(time.RFC3339Nano)
	}
	sum := sha256.Sum256([]byte(fingerprint + "|" + start + "|" + status))
	return hex.EncodeToString(sum[:16])
}

// fingerprintOf is Alertmanager's fingerprint, or the same idea (a hash of
// the sorted labels) when the sender gives none.
func fingerprintOf(w alert.Webhook, wa alert.WebhookAlert) string {
	if wa.Fingerprint != "" {
		return wa.Fingerprint
	}
	labels := map[string]string{}
	for k, v := range w.CommonLabels {
		labels[k] = v
	}
	for k, v := range wa.Labels {
		labels[k] = v
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(labels[k])
		b.WriteByte(0)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

// laneOf is the subject an alert is about (agent.CorrelationKey): the runs
// of one subject are serialised, so a later one joins the incident an
// earlier one opened. An alert that names nothing has a lane of its own.
func laneOf(a alert.Alert, fp string) string {
	if k := agent.CorrelationKey(a); k != "" {
		return k
	}
	return "alert:" + fp
}
