package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/duet-company/ops-skill/internal/llm/provider"
)

// maxReplicasLimit is the highest max_replicas Validate accepts.
const maxReplicasLimit = 1000

// MinSustainedWindow is the shortest sustained window of a scaling rule. The
// guard judges a window on metric samples one step apart (tools.SampleStep)
// and refuses, as an invalid policy, a window shorter than one step; the
// loader applies the same rule so that such a value is refused when it is set,
// not at every scale afterwards. internal/app tests that the two agree.
const MinSustainedWindow = 15 * time.Second

// Validate checks every value and the consistency of the policy. It returns
// nil, or one *ValidationError per problem joined with errors.Join; all match
// ErrInvalid. Each error names the YAML key, its environment variable and the
// fix.
func (c Config) Validate() error {
	v := &validator{cfg: &c, fields: fields()}
	v.monitoring(&c.Monitoring)
	v.kubernetes(&c.Kubernetes)
	v.autoScaling(&c.AutoScaling)
	v.selfHealing(&c.SelfHealing)
	v.cloud(&c.Cloud)
	v.llm(&c.LLM, c.Agent.Planner)
	v.alerting(&c.Alerting)
	v.storage(&c.Storage)
	v.agent(&c.Agent)
	v.serve(&c.Serve)
	if c.StateDir == "" {
		v.add(&c.StateDir, "", "is empty", "set OPS_SKILL_STATE_DIR or --state-dir (HOME is not set to derive it)")
	}
	v.store(&c.Store, c.Store)
	return errors.Join(v.errs...)
}

// validator collects the problems of one Config. Its checks name a value by
// a pointer to it in cfg, so that the key is never written twice: the field
// table finds it.
type validator struct {
	cfg    *Config
	fields []field
	errs   []error
}

// field returns the field that p, a pointer into v.cfg, points at.
func (v *validator) field(p any) field { return fieldAt(v.fields, v.cfg, p) }

// add records a problem with the value p points at.
func (v *validator) add(p any, value, problem, fix string) {
	v.errs = append(v.errs, invalid(v.field(p).key, value, problem, fix))
}

// hint is the example value of the field p points at.
func (v *validator) hint(p any) string { return v.field(p).hint }

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (v *validator) monitoring(m *Monitoring) {
	v.httpURL(&m.PrometheusURL, m.PrometheusURL)
	v.httpURL(&m.GrafanaURL, m.GrafanaURL)
	v.httpURL(&m.AlertWebhook, m.AlertWebhook.Reveal())
}

// httpURL requires an absolute http(s) URL with a host in s, the value p
// points at, when set.
func (v *validator) httpURL(p any, s string) {
	if s == "" {
		return
	}
	if err := checkURL(s, "http", "https"); err != "" {
		v.add(p, s, err, "use an absolute http:// or https:// URL")
	}
}

func checkURL(s string, schemes ...string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "is not a URL"
	case !slices.Contains(schemes, strings.ToLower(u.Scheme)):
		return "must use " + orList(schemes)
	case u.Host == "":
		return "has no host"
	}
	return ""
}

// isNamespace reports a valid namespace name (a DNS-1123 label, apimachinery's rules).
func isNamespace(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }

// isClusterName reports a name for kubernetes.cluster: what kubeconfig
// context names usually are (letters, digits, '.', '_', '-'), and neither of
// the names the history gives the simulated platform and an unnamed pod.
func isClusterName(s string) bool {
	if len(s) > 253 || s == "simulated" || s == "in-cluster" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

func (v *validator) kubernetes(k *Kubernetes) {
	if !isNamespace(k.Namespace) {
		v.add(&k.Namespace, k.Namespace, "is not a valid namespace name",
			"use lower-case letters, digits and '-', at most 63 characters, e.g. ai-data-labs")
	}
	if k.Cluster != "" && !isClusterName(k.Cluster) {
		v.add(&k.Cluster, k.Cluster, "is not a cluster name",
			"use letters, digits, '.', '_' and '-', at most 253 characters, e.g. prod-eu, and not simulated or in-cluster")
	}
	for _, ns := range k.AllowedNamespaces {
		if !isNamespace(ns) {
			v.add(&k.AllowedNamespaces, ns, "is not a valid namespace name",
				"list namespace names such as ai-data-labs")
		}
	}
}

func (v *validator) autoScaling(a *AutoScaling) {
	v.percent(&a.ScaleUpThreshold)
	v.percent(&a.ScaleDownThreshold)
	v.percent(&a.ErrorRateThreshold)
	if a.ScaleDownThreshold >= a.ScaleUpThreshold {
		v.add(&a.ScaleDownThreshold, num(a.ScaleDownThreshold),
			fmt.Sprintf("must be below scale_up_threshold (%s)", num(a.ScaleUpThreshold)),
			"lower it or raise the scale-up threshold")
	}
	v.sustained(&a.ScaleUpDuration)
	v.sustained(&a.ScaleDownDuration)
	v.sustained(&a.ErrorRateDuration)
	v.step(&a.ScaleUpStep, a.MaxReplicas)
	v.step(&a.ScaleDownStep, a.MaxReplicas)
	v.step(&a.ErrorRateStep, a.MaxReplicas)
	if a.MinReplicas < 1 {
		v.add(&a.MinReplicas, strconv.Itoa(int(a.MinReplicas)), "must be at least 1",
			"set it to 1 or more; to stop scaling set AUTO_SCALE_ENABLED=false")
	}
	if a.MaxReplicas > maxReplicasLimit {
		v.add(&a.MaxReplicas, strconv.Itoa(int(a.MaxReplicas)),
			fmt.Sprintf("must be at most %d", maxReplicasLimit), "lower it")
	}
	if a.MinReplicas > a.MaxReplicas {
		v.add(&a.MaxReplicas, strconv.Itoa(int(a.MaxReplicas)),
			fmt.Sprintf("must not be below min_replicas (%d)", a.MinReplicas),
			"raise max_replicas or lower min_replicas")
	}
}

func (v *validator) percent(p *float64) {
	if *p < 0 || *p > 100 {
		v.add(p, num(*p), "must be between 0 and 100", "give a percentage, e.g. "+v.hint(p))
	}
}

// sustained requires a scaling window of at least one metric sample step.
func (v *validator) sustained(p *time.Duration) {
	switch d := *p; {
	case d <= 0:
		v.window(p)
	case d < MinSustainedWindow:
		v.add(p, formatDuration(d), fmt.Sprintf("must be at least the metrics sample step (%s)", formatDuration(MinSustainedWindow)),
			"a sustained window is judged on samples taken over it; use e.g. "+v.hint(p))
	}
}

// step requires a replica step between 1 and max_replicas.
func (v *validator) step(p *int32, maxReplicas int32) {
	atLeast(v, p, 1, "a step moves at least one replica")
	if *p > max(maxReplicas, 1) {
		v.add(p, strconv.Itoa(int(*p)), fmt.Sprintf("must not be above max_replicas (%d)", maxReplicas),
			"a step moves at most max_replicas replicas; use e.g. "+v.hint(p))
	}
}

// window requires a positive duration.
func (v *validator) window(p *time.Duration) {
	if *p <= 0 {
		v.add(p, formatDuration(*p), "must be a positive duration", "use e.g. "+v.hint(p))
	}
}

// atLeast requires the whole number p points at to be at least minimum.
func atLeast[T int | int32 | int64](v *validator, p *T, minimum int64, why string) {
	if n := int64(*p); n < minimum {
		v.add(p, strconv.FormatInt(n, 10), fmt.Sprintf("must be at least %d", minimum),
			fmt.Sprintf("%s; use e.g. %s", why, v.hint(p)))
	}
}

func (v *validator) selfHealing(s *SelfHealing) {
	v.window(&s.HealthCheckInterval)
	atLeast(v, &s.RestartThreshold, 1, "failures are counted from 1")
	if s.ReplacementThreshold <= s.RestartThreshold {
		v.add(&s.ReplacementThreshold, strconv.Itoa(s.ReplacementThreshold),
			fmt.Sprintf("must be above restart_threshold (%d)", s.RestartThreshold),
			"raise it: pods are replaced only after restarts have been tried")
	}
	atLeast(v, &s.RestartBudgetPerHour, 0, "use 0 to forbid restarts")
	if s.MemoryRaiseMaxFactor < 1 {
		v.add(&s.MemoryRaiseMaxFactor, num(s.MemoryRaiseMaxFactor), "must be at least 1",
			"use 1 to forbid raises, or a factor such as 2")
	}
	atLeast(v, &s.MemoryCeiling, 1, "a memory limit needs a ceiling")
}

func (v *validator) cloud(c *Cloud) {
	switch c.Provider {
	case "", "digitalocean", "aws", "gcp":
	default:
		v.add(&c.Provider, c.Provider, "is not a known cloud provider", "use digitalocean, aws or gcp, or leave it empty")
	}
}

func (v *validator) llm(l *LLM, planner string) {
	if l.Provider == "" {
		if planner == PlannerLLM {
			v.add(&l.Provider, "", "is empty but the planner is llm",
				"set LLM_PROVIDER (claude, openai, zai, ollama or vllm) or use --planner auto or rules")
		}
	} else if p, err := provider.Lookup(l.Provider); err != nil {
		v.add(&l.Provider, l.Provider, "is not a known LLM provider",
			"use claude, openai, zai, ollama or vllm (openai also covers any OpenAI-compatible LLM_BASE_URL), or leave it empty")
	} else {
		v.llmProvider(l, p, planner)
	}
	v.httpURL(&l.BaseURL, l.BaseURL)
	if l.ReasoningEffort != "" && !slices.Contains(reasoningEfforts, l.ReasoningEffort) {
		v.add(&l.ReasoningEffort, l.ReasoningEffort, "is not a reasoning effort", "use "+strings.Join(reasoningEfforts, ", ")+", or leave it empty")
	}
	for _, h := range l.Headers {
		if problem := headerProblem(h); problem != "" {
			name, _, _ := strings.Cut(h, ":")
			v.add(&l.Headers, strings.TrimSpace(name)+": ***", problem, `write each header as "Name: value", e.g. anthropic-beta: context-1m`)
		}
	}
	atLeast(v, &l.MaxIterations, 1, "the model needs at least one turn")
	atLeast(v, &l.MaxTokens, 256, "a reply needs room for its calls or its report")
	atLeast(v, &l.TokenBudget, 1, "the budget counts tokens per run")
	v.window(&l.Timeout)
	v.window(&l.AttemptTimeout)
	if l.AttemptTimeout > l.Timeout && l.Timeout > 0 {
		v.add(&l.AttemptTimeout, formatDuration(l.AttemptTimeout), "is longer than llm.timeout ("+formatDuration(l.Timeout)+"), which bounds every attempt of a call",
			"raise llm.timeout (LLM_TIMEOUT) or lower LLM_ATTEMPT_TIMEOUT")
	}
}

// llmProvider checks what a known provider needs.
func (v *validator) llmProvider(l *LLM, p provider.Profile, planner string) {
	if p.NeedsKey && !l.APIKey.IsSet() && l.BaseURL == "" && planner != PlannerRules {
		v.add(&l.APIKey, "", "is required for provider "+l.Provider,
			"set LLM_API_KEY, point LLM_BASE_URL at a server that needs none, or use --planner rules")
	}
	if p.DefaultModel == "" && l.Model == "" && planner != PlannerRules {
		v.add(&l.Model, "", "is required for provider "+l.Provider+", which serves the models its operator loaded",
			"set LLM_MODEL to a model the server lists (GET /v1/models)")
	}
	if l.Endpoint != "" {
		if _, err := p.Endpoint(l.Endpoint); err != nil {
			_, fix, _ := strings.Cut(err.Error(), ": ")
			v.add(&l.Endpoint, l.Endpoint, "is not an endpoint of provider "+l.Provider, fix)
		}
	}
}

// headerProblem says what is wrong with an extra header, or "".
func headerProblem(h string) string {
	name, value, ok := strings.Cut(h, ":")
	name = strings.TrimSpace(name)
	switch {
	case !ok || name == "" || strings.TrimSpace(value) == "":
		return "is not a header"
	case strings.ContainsAny(name, " \t\r\n()<>@,;\\\"/[]?={}") || strings.ContainsAny(value, "\r\n"):
		return "has characters a header cannot carry"
	}
	switch strings.ToLower(name) {
	case "authorization", "x-api-key", "api-key", "accept", "content-type", "content-length", "host":
		return "is set by ops-skill itself (the key goes in llm.api_key)"
	}
	return ""
}

func (v *validator) alerting(a *Alerting) {
	if a.Cooldown < 0 {
		v.add(&a.Cooldown, formatDuration(a.Cooldown), "must not be negative", "use 0 for no cooldown, or e.g. 5m")
	}
	if a.EscalationHours <= 0 {
		v.add(&a.EscalationHours, num(a.EscalationHours), "must be greater than 0", "use e.g. 1 or 0.5")
	}
	if a.NotifyDeadline <= 0 {
		v.add(&a.NotifyDeadline, formatDuration(a.NotifyDeadline), "must be greater than 0", "use e.g. 1m")
	}
	v.httpURL(&a.GenericWebhook, a.GenericWebhook.Reveal())
	v.httpURL(&a.PagerDutyURL, a.PagerDutyURL)
}

func (v *validator) storage(s *Storage) {
	if s.ClickHouseURL != "" {
		if err := checkURL(s.ClickHouseURL, "clickhouse", "tcp", "http", "https"); err != "" {
			v.add(&s.ClickHouseURL, s.ClickHouseURL, err,
				"use a DSN such as clickhouse://user:password@host:9000/db or http://host:8123")
		}
	}
	if !isNamespace(s.ClickHouseWorkload) {
		v.add(&s.ClickHouseWorkload, s.ClickHouseWorkload, "is not a Kubernetes workload name (DNS-1123 label)", "use the name of ClickHouse's StatefulSet, e.g. clickhouse")
	}
	atLeast(v, &s.RetentionDays, 1, "partitions newer than a day are never dropped")
	atLeast(v, &s.MinPartitions, 1, "the newest partition is always kept")
	// The guard refuses a policy that drops nothing as invalid; to keep
	// partitions, run in --mode observe or approve.
	atLeast(v, &s.MaxPartitionsPerRun, 1, "a run that may drop must drop at least one; to drop none use --mode observe")
	atLeast(v, &s.MaxBytesPerRun, 1, "a run that may drop must free some bytes; to drop none use --mode observe")
	if !(s.VolumeMaxGrowthFactor >= 1) { // NaN too
		v.add(&s.VolumeMaxGrowthFactor, num(s.VolumeMaxGrowthFactor), "must be a finite factor of at least 1",
			"use 1 to forbid expansions, or a factor such as 1.5")
	}
	atLeast(v, &s.VolumeCeiling, 1, "an expansion needs a ceiling")
}

func (v *validator) agent(a *Agent) {
	switch a.Mode {
	case ModeObserve, ModeApprove, ModeAuto:
	default:
		v.add(&a.Mode, a.Mode, "is not a known mode", "use observe, approve or auto")
	}
	switch a.Planner {
	case PlannerAuto, PlannerLLM, PlannerRules:
	default:
		v.add(&a.Planner, a.Planner, "is not a known planner", "use auto, llm or rules")
	}
	atLeast(v, &a.MaxWrites, 0, "use 0 to forbid writes")
	v.window(&a.RunTimeout)
}

func (v *validator) serve(s *Serve) {
	switch s.LeaderElection {
	case LeaderElectionAuto, LeaderElectionLease, LeaderElectionNone:
	default:
		v.add(&s.LeaderElection, s.LeaderElection, "is not a leader election mode", "use auto, lease or none")
	}
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		v.add(&s.LogLevel, s.LogLevel, "is not a log level", "use debug, info, warn or error")
	}
	if s.Listen == "" {
		v.add(&s.Listen, "", "is empty", "use host:port, e.g. 127.0.0.1:9095 or :9095")
	}
	atLeast(v, &s.MaxBodyBytes, 1024, "Alertmanager payloads need room")
	atLeast(v, &s.QueueSize, 1, "a delivery must be able to wait")
	atLeast(v, &s.Workers, 1, "at least one job must run")
	for _, p := range []*time.Duration{&s.RetryAfter, &s.ShutdownGrace, &s.LeaseDuration, &s.RenewDeadline, &s.RetryPeriod} {
		v.window(p)
	}
	if s.LedgerTTL < time.Hour {
		v.add(&s.LedgerTTL, formatDuration(s.LedgerTTL), "must be at least 1h",
			"keep deliveries longer than Alertmanager's repeat_interval (4h by default); use e.g. "+v.hint(&s.LedgerTTL))
	}
	for _, p := range []*time.Duration{&s.ScalePeriod, &s.EscalationPeriod} {
		if *p < 0 {
			v.add(p, formatDuration(*p), "must not be negative", "use 0 to switch the loop off, or e.g. "+v.hint(p))
		}
	}
}

// orList renders "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// store accepts an empty location (the state directory's SQLite file), a
// SQLite file path or a PostgreSQL URL with a host; any other URL is refused.
func (v *validator) store(p *string, s string) {
	if !strings.Contains(s, "://") {
		return
	}
	if err := checkURL(s, "postgres", "postgresql"); err != "" {
		v.add(p, s, err, "use postgres://user@host:5432/db, or a SQLite file path, or leave it empty for the state directory's history.db")
	}
}
