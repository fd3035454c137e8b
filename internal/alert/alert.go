// Package alert turns what arrives — free text, an Alertmanager webhook payload —
// into typed alerts: the service, the kind of problem, the value and duration it
// states, a fingerprint for de-duplication. Alert text is untrusted data: it is
// parsed for facts, never obeyed.
package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MaxTextBytes bounds an alert's text.
const MaxTextBytes = 64 << 10

// ErrInvalid marks input that is not a usable alert.
var ErrInvalid = errors.New("invalid alert")

// ErrNothingFiring marks a payload whose alerts are all resolved.
var ErrNothingFiring = errors.New("no firing alert")

// Kind is the class of problem an alert reports.
type Kind string

// Alert kinds.
const (
	KindCPU        Kind = "cpu"
	KindErrorRate  Kind = "error_rate"
	KindLatency    Kind = "latency"
	KindMemory     Kind = "memory"
	KindConnection Kind = "connection"
	KindDisk       Kind = "disk"
	KindHealth     Kind = "health"
	KindCrashLoop  Kind = "crashloop"
	KindUnknown    Kind = "unknown"
)

// Source is where an alert or request came from.
type Source string

// Sources.
const (
	SourceText         Source = "text"         // a line of text (the command line, a pipe)
	SourceAlertmanager Source = "alertmanager" // an Alertmanager webhook payload
	SourceChat         Source = "chat"         // an operator's request in a conversation
	SourceHealth       Source = "health"       // a failing health check of serve's loop
)

// Alert is one alert to act on.
type Alert struct {
	Source       Source            `json:"source"`
	Text         string            `json:"text"`
	Status       string            `json:"status"` // firing or resolved
	Service      string            `json:"service,omitempty"`
	Namespace    string            `json:"namespace,omitempty"`
	Kind         Kind              `json:"kind"`
	Value        float64           `json:"value,omitempty"`
	HasValue     bool              `json:"-"`
	For          time.Duration     `json:"-"` // forSeconds in JSON
	Attempts     int               `json:"attempts,omitempty"`
	Fingerprint  string            `json:"fingerprint"`
	StartsAt     time.Time         `json:"startsAt"`
	Labels       map[string]string `json:"labels,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	// Intent is set for conversation requests (ParseRequest); empty for alerts.
	Intent Intent `json:"intent,omitempty"`
	// Replicas is the count a scale request asks for ("scale it to 3").
	Replicas int32 `json:"replicas,omitempty"`
	// Classification is what the alert's name and labels say: its rule
	// family, kind, subject and what to do with it.
	Classification *Classification `json:"classification,omitempty"`
}

// Target is namespace/service, or empty when the service is unknown.
func (a Alert) Target() string {
	if a.Service == "" {
		return ""
	}
	return a.Namespace + "/" + a.Service
}

// Parser knows the services of the platform, so that "Backend service CPU" and
// "Database disk usage" name real workloads.
type Parser struct {
	Namespace string
	Services  []string
	Aliases   map[string]string // word → service, e.g. "database" → "clickhouse"
}

// DefaultAliases maps words operators use to the spec's services.
func DefaultAliases() map[string]string {
	return map[string]string{
		"database": "clickhouse", "db": "clickhouse", "ch": "clickhouse", "analytics": "clickhouse",
		"postgres": "postgresql", "pg": "postgresql", "cache": "redis", "api": "backend", "web": "frontend", "ui": "frontend",
	}
}

// ParseText reads a free-text alert such as
// "Alert: Backend service CPU at 85% for 5 minutes".
func (p Parser) ParseText(text string, now time.Time) (Alert, error) {
	clean, err := cleanText(text)
	if err != nil {
		return Alert{}, err
	}
	a := Alert{Source: SourceText, Text: clean, Status: "firing", Namespace: p.Namespace, StartsAt: now}
	p.enrich(&a, clean)
	a.Fingerprint = Fingerprint(clean, a.Target())
	return a, nil
}

func cleanText(text string) (string, error) {
	if len(text) > MaxTextBytes {
		return "", fmt.Errorf("%w: the alert text is %d bytes, at most %d are accepted: pass the alert's summary, not a log dump", ErrInvalid, len(text), MaxTextBytes)
	}
	clean := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, text)
	clean = strings.TrimSpace(clean)
	if clean == "" {
		return "", fmt.Errorf("%w: the alert text is empty: give it as an argument, e.g. ops-skill \"Alert: Backend service CPU at 85%% for 5 minutes\", or with --alert-file", ErrInvalid)
	}
	return clean, nil
}

// enrich fills service, kind, value, duration and attempts from text.
func (p Parser) enrich(a *Alert, text string) {
	lower := strings.ToLower(text)
	if a.Service == "" {
		a.Service = p.findService(lower)
	}
	if a.Kind == "" || a.Kind == KindUnknown {
		a.Kind = DetectKind(lower)
	}
	if v, ok := findPercent(lower); ok && !a.HasValue {
		a.Value, a.HasValue = v, true
	}
	if d, ok := findDuration(lower); ok && a.For == 0 {
		a.For = d
	}
	if n, ok := findAttempts(lower); ok {
		a.Attempts = n
	}
}

var wordRE = regexp.MustCompile(`[a-z0-9][a-z0-9-]*`)

func (p Parser) findService(lower string) string {
	words := wordRE.FindAllString(lower, -1)
	services := append([]string(nil), p.Services...)
	sort.Slice(services, func(i, j int) bool { return len(services[i]) > len(services[j]) })
	for _, w := range words {
		for _, s := range services {
			if w == s {
				return s
			}
		}
	}
	for _, w := range words {
		if s, ok := p.Aliases[w]; ok && (len(p.Services) == 0 || contains(p.Services, s)) {
			return s
		}
	}
	return ""
}

func toLower(s string) string { return strings.ToLower(s) }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// kindRules are checked in order; the first whose keyword appears wins.
var kindRules = []struct {
	kind  Kind
	words []string
}{
	{KindDisk, []string{"disk", "storage", "volume", "space"}},
	{KindMemory, []string{"oom", "oomkilled", "oom-killed", "oom killed", "out of memory", "memory"}},
	{KindCrashLoop, []string{"crashloop", "crashloopbackoff", "crashlooping", "crash loop", "crash looping", "crashing", "restarting"}},
	{KindConnection, []string{"connection failed", "connection refused", "cannot connect", "unreachable", "not responding", "connection error", "connection"}},
	{KindHealth, []string{"health check", "healthcheck", "/health", "unhealthy", "probe fail", "health"}},
	{KindErrorRate, []string{"error rate", "errors", "5xx", "http 500", "error"}},
	{KindLatency, []string{"latency", "response time", "slow"}},
	{KindCPU, []string{"cpu", "load"}},
}

// kindPatterns are kindRules compiled to whole-word matches, so "namespace"
// does not read as "space" nor "overload" as "load".
var kindPatterns = compileKinds()

func compileKinds() [][]*regexp.Regexp {
	out := make([][]*regexp.Regexp, len(kindRules))
	for i, r := range kindRules {
		for _, w := range r.words {
			out[i] = append(out[i], regexp.MustCompile(`(^|[^a-z0-9])`+regexp.QuoteMeta(w)+`($|[^a-z0-9])`))
		}
	}
	return out
}

var (
	lowerUpper   = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	acronymUpper = regexp.MustCompile(`([A-Z]+)([A-Z][a-z])`)
)

// SplitCamel turns an alert name such as "KubePodCrashLooping" or
// "HighCPUUsage" into words ("Kube Pod Crash Looping", "High CPU Usage").
func SplitCamel(s string) string {
	return lowerUpper.ReplaceAllString(acronymUpper.ReplaceAllString(s, "$1 $2"), "$1 $2")
}

// DetectKind classifies lower-cased alert text by whole words and phrases.
func DetectKind(lower string) Kind {
	for i, r := range kindRules {
		for _, re := range kindPatterns[i] {
			if re.MatchString(lower) {
				return r.kind
			}
		}
	}
	return KindUnknown
}

var (
	percentRE  = regexp.MustCompile(`(\d+(?:\.\d+)?)\s*%`)
	durationRE = regexp.MustCompile(`(?:for|over|since|past)\s+(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?)\b`)
	attemptsRE = regexp.MustCompile(`(\d+)\s*(?:attempts|tries|retries|failures)`)
)

func findPercent(lower string) (float64, bool) {
	m := percentRE.FindStringSubmatch(lower)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil && v >= 0 && v <= 1000
}

func findDuration(lower string) (time.Duration, bool) {
	m := durationRE.FindStringSubmatch(lower)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil || v > 1e6 {
		return 0, false
	}
	unit := time.Minute
	switch m[2][0] {
	case 's':
		unit = time.Second
	case 'h':
		unit = time.Hour
	}
	return time.Duration(v * float64(unit)), true
}

func findAttempts(lower string) (int, bool) {
	m := attemptsRE.FindStringSubmatch(lower)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil && n < 1e6
}

// Fingerprint identifies an alert for de-duplication: normalised text (numbers
// removed, so "85%" and "87%" of the same alert match) plus its target.
func Fingerprint(text, target string) string {
	norm := strings.Join(strings.Fields(strings.ToLower(numRE.ReplaceAllString(text, "#"))), " ")
	sum := sha256.Sum256([]byte(norm + "|" + target))
	return hex.EncodeToString(sum[:8])
}

var numRE = regexp.MustCompile(`\d+(?:\.\d+)?`)
