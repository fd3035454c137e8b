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
	"unicode/utf8"

	txt "github.com/duet-company/ops-skill/internal/text"
)

// MaxTextBytes bounds an alert's text.
const MaxTextBytes = 64 << 10

// ErrInvalid marks input that is not a usable alert.
var ErrInvalid = errors.New("invalid alert")

// ErrNothingFiring marks a payload whose alerts are all resolved.
var ErrNothingFiring = errors.New("no firing alert")

// Kind is the class of problem an alert reports.
type Kind string

// Alert kinds with a playbook: the rules planner acts on them within the
// guardrails (see HasPlaybook).
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

// Alert kinds without a playbook: what known alerts report when no write
// fixes them. The planner reads and escalates them with the evidence; a
// diagnose rule never carries a playbook kind, so a planner that reads only
// the kind cannot act on it.
const (
	// KindReplicas: pods are missing or not ready — replicas mismatch, a
	// stuck rollout, a pod not ready, a container waiting (image pull,
	// config), a disruption budget short of healthy pods.
	KindReplicas Kind = "replicas"
	// KindHPA: a HorizontalPodAutoscaler at its maximum, not reaching its
	// desired count or without metrics; never scaled against.
	KindHPA Kind = "hpa"
	// KindJob: a Job failed or did not complete, a CronJob fails.
	KindJob Kind = "job"
	// KindNode: a node condition or a node-exporter signal (filesystem,
	// memory, CPU, network, clock): nodes are not workloads.
	KindNode Kind = "node"
	// KindQuota: a namespace quota or the cluster's requests overcommitted.
	KindQuota Kind = "quota"
	// KindVolume: a volume's state (errors, pending claim, inodes, a backup
	// disk) rather than the data in it.
	KindVolume Kind = "volume"
	// KindDown: a component or scrape target does not answer (TargetDown,
	// KubeletDown, the control plane), as opposed to a database the
	// connection playbook can look at.
	KindDown Kind = "down"
	// KindControlPlane: the cluster's own components — API server errors and
	// error budget, certificates, version skew, client errors.
	KindControlPlane Kind = "control_plane"
	// KindMonitoring: the monitoring pipeline itself (Watchdog,
	// InfoInhibitor, Prometheus, Alertmanager, exporter errors).
	KindMonitoring Kind = "monitoring"
	// KindClientErrors: 4xx responses — callers send requests the service
	// rejects; more replicas or a restart change nothing.
	KindClientErrors Kind = "client_errors"
	// KindDatabase: a database misbehaves in a way no write of ops-skill fixes
	// (replication, locks, slow queries, connection limits, vacuum).
	KindDatabase Kind = "database"
)

// HasPlaybook reports whether the rules planner has a playbook for the kind.
func (k Kind) HasPlaybook() bool {
	switch k {
	case KindCPU, KindErrorRate, KindLatency, KindMemory, KindConnection, KindDisk, KindHealth, KindCrashLoop:
		return true
	}
	return false
}

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
	// Classification is what an Alertmanager alert's name and labels say
	// (rule family, subject, action); empty for text and requests.
	Classification Classification `json:"classification,omitzero"`
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
	clean := strings.TrimSpace(txt.Printable(text)) // no terminal control sequence survives into a transcript
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
	readFacts(a, lower)
}

// readFacts fills value, duration and attempts from lower-cased text, where
// the alert does not state them otherwise.
func readFacts(a *Alert, lower string) {
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
	// percentRE reads a percent with its sign as written (see findPercent).
	percentRE  = regexp.MustCompile(`([-+−]?)(\d+(?:\.\d+)?)\s*%`)
	durationRE = regexp.MustCompile(`(?:for|over|since|past)\s+(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?)\b`)
	attemptsRE = regexp.MustCompile(`(\d+)\s*(?:attempts|tries|retries|failures)`)
)

// maxPercent bounds a percent read from text; beyond it the number is not a
// usage, a rate or a change (a "1500%" is a typo or an injection).
const maxPercent = 1000

// findPercent reads the first percent of the text, signed as written:
// "-85%" is -85, not 85. A hyphen that joins a word or a number to it
// ("cpu-85%", "5-85%") is not a sign.
func findPercent(lower string) (float64, bool) {
	m := percentRE.FindStringSubmatchIndex(lower)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(lower[m[4]:m[5]], 64)
	if err != nil || v > maxPercent {
		return 0, false
	}
	sign := lower[m[2]:m[3]]
	if sign != "" && m[2] > 0 {
		if prev, _ := utf8.DecodeLastRuneInString(lower[:m[2]]); unicode.IsLetter(prev) || unicode.IsDigit(prev) {
			sign = ""
		}
	}
	if sign == "-" || sign == "−" {
		v = -v
	}
	return v, true
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
