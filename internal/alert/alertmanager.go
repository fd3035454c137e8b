package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// MaxPayloadBytes bounds an Alertmanager payload.
const MaxPayloadBytes = 1 << 20

// Webhook is Alertmanager's webhook payload, version 4.
type Webhook struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
}

// WebhookAlert is one alert of a webhook payload.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// LooksLikeJSON reports whether input is meant as a JSON payload: it starts
// with "{", or it is a valid JSON array. Text such as "[FIRING:1] Backend CPU
// at 85%" (Alertmanager's usual subject line) stays text.
func LooksLikeJSON(b []byte) bool {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return false
	}
	return t[0] == '{' || (t[0] == '[' && json.Valid(t))
}

// DecodeWebhook reads a payload. Strict rejects unknown fields (the CLI, where a
// typo should be caught); the server tolerates them, as Alertmanager may add some.
func DecodeWebhook(b []byte, strict bool) (Webhook, error) {
	var w Webhook
	if len(b) > MaxPayloadBytes {
		return w, fmt.Errorf("%w: the payload is %d bytes, at most %d are accepted", ErrInvalid, len(b), MaxPayloadBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&w); err != nil {
		return w, fmt.Errorf("%w: not an Alertmanager webhook payload (version 4): %s", ErrInvalid, jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return w, fmt.Errorf("%w: unexpected data after the JSON payload", ErrInvalid)
	}
	if w.Version != "" && w.Version != "4" {
		return w, fmt.Errorf("%w: payload version %q is not supported: Alertmanager webhook version 4 is expected", ErrInvalid, w.Version)
	}
	if len(w.Alerts) == 0 {
		return w, fmt.Errorf("%w: the payload has no alerts (the \"alerts\" list is empty or missing)", ErrInvalid)
	}
	return w, nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "invalid JSON: the payload ends before the JSON object is complete (truncated?)"
	case errors.As(err, &te) && te.Field == "":
		return fmt.Sprintf("the payload must be a JSON object, got %s", te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be %s, got %s", te.Field, te.Type, te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ") + " (check the spelling; fields are those of Alertmanager's webhook version 4)"
	}
	return err.Error()
}

// ParseWebhook returns the firing alerts of a payload. All resolved gives ErrNothingFiring.
func (p Parser) ParseWebhook(w Webhook, now time.Time) ([]Alert, error) {
	var out []Alert
	resolved := 0
	for i, wa := range w.Alerts {
		if wa.Status == "resolved" {
			resolved++
			continue
		}
		a, err := p.fromWebhook(w, wa, now)
		if err != nil {
			return nil, fmt.Errorf("alert %d: %w", i+1, err)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: all %d alerts in the payload are resolved", ErrNothingFiring, resolved)
	}
	return out, nil
}

func (p Parser) fromWebhook(w Webhook, wa WebhookAlert, now time.Time) (Alert, error) {
	labels := merge(w.CommonLabels, wa.Labels)
	ann := merge(w.CommonAnnotations, wa.Annotations)
	text := alertText(ann)
	if text == "" {
		text = labels["alertname"]
	}
	clean, err := cleanText(text)
	if err != nil {
		return Alert{}, err
	}
	c, err := p.Classify(labels, ann)
	if err != nil {
		return Alert{}, err
	}
	a := Alert{Source: SourceAlertmanager, Text: clean, Status: "firing", Labels: labels, Annotations: ann,
		Namespace: firstNonEmpty(c.Subject.Scope(), p.Namespace), Kind: c.Kind, Classification: c,
		StartsAt: wa.StartsAt, GeneratorURL: wa.GeneratorURL}
	if c.Subject.Kind.Workload() {
		a.Service = c.Subject.Name
	}
	if a.StartsAt.IsZero() {
		a.StartsAt = now
	}
	if v, ok := parseValue(ann["value"]); ok {
		a.Value, a.HasValue = v, true
	}
	readFacts(&a, strings.ToLower(clean))
	a.Fingerprint = wa.Fingerprint
	if a.Fingerprint == "" {
		target := a.Target()
		if target == "" && c.Subject.Kind != SubjectNone {
			target = c.Subject.String()
		}
		a.Fingerprint = Fingerprint(labels["alertname"]+" "+clean, target)
	}
	return a, nil
}

func merge(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(m[k]); v != "" {
			return v
		}
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
