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
	v := &validator{}
	v.monitoring(c.Monitoring)
	v.kubernetes(c.Kubernetes)
	v.autoScaling(c.AutoScaling)
	v.selfHealing(c.SelfHealing)
	v.cloud(c.Cloud)
	v.llm(c.LLM, c.Agent.Planner)
	v.alerting(c.Alerting)
	v.storage(c.Storage)
	v.agent(c.Agent)
	v.serve(c.Serve)
	if c.StateDir == "" {
		v.add("state_dir", "", "is empty", "set OPS_SKILL_STATE_DIR or --state-dir (HOME is not set to derive it)")
	}
	return errors.Join(v.errs...)
}

type validator struct{ errs []error }

func (v *validator) add(key, value, problem, fix string) {
	v.errs = append(v.errs, invalid(key, value, problem, fix))
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (v *validator) monitoring(m Monitoring) {
	v.httpURL("monitoring.prometheus", m.PrometheusURL)
	v.httpURL("monitoring.grafana", m.GrafanaURL)
	v.httpURL("monitoring.alert_webhook", m.AlertWebhook.Reveal())
}

// httpURL requires an absolute http(s) URL with a host, when set.
func (v *validator) httpURL(key, s string) {
	if s == "" {
		return
	}
	if err := checkURL(s, "http", "https"); err != "" {
		v.add(key, s, err, "use an absolute http:// or https:// URL")
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

func (v *validator) kubernetes(k Kubernetes) {
	if !isNamespace(k.Namespace) {
		v.add("kubernetes.namespace", k.Namespace, "is not a valid namespace name",
			"use lower-case letters, digits and '-', at most 63 characters, e.g. ai-data-labs")
	}
	for _, ns := range k.AllowedNamespaces {
		if !isNamespace(ns) {
			v.add("kubernetes.allowed_namespaces", ns, "is not a valid namespace name",
				"list namespace names such as ai-data-labs")
		}
	}
}

func (v *validator) autoScaling(a AutoScaling) {
	v.percent("auto_scaling.scale_up_threshold", a.ScaleUpThreshold)
	v.percent("auto_scaling.scale_down_threshold", a.ScaleDownThreshold)
	v.percent("auto_scaling.error_rate_threshold", a.ErrorRateThreshold)
	if a.ScaleDownThreshold >= a.ScaleUpThreshold {
		v.add("auto_scaling.scale_down_threshold", num(a.ScaleDownThreshold),
			fmt.Sprintf("must be below scale_up_threshold (%s)", num(a.ScaleUpThreshold)),
			"lower it or raise the scale-up threshold")
	}
	v.sustained("auto_scaling.scale_up_duration", a.ScaleUpDuration)
	v.sustained("auto_scaling.scale_down_duration", a.ScaleDownDuration)
	v.sustained("auto_scaling.error_rate_duration", a.ErrorRateDuration)
	v.step("auto_scaling.scale_up_step", a.ScaleUpStep, a.MaxReplicas)
	v.step("auto_scaling.scale_down_step", a.ScaleDownStep, a.MaxReplicas)
	v.step("auto_scaling.error_rate_step", a.ErrorRateStep, a.MaxReplicas)
	if a.MinReplicas < 1 {
		v.add("auto_scaling.min_replicas", strconv.Itoa(int(a.MinReplicas)), "must be at least 1",
			"set it to 1 or more; to stop scaling set AUTO_SCALE_ENABLED=false")
	}
	if a.MaxReplicas > maxReplicasLimit {
		v.add("auto_scaling.max_replicas", strconv.Itoa(int(a.MaxReplicas)),
			fmt.Sprintf("must be at most %d", maxReplicasLimit), "lower it")
	}
	if a.MinReplicas > a.MaxReplicas {
		v.add("auto_scaling.max_replicas", strconv.Itoa(int(a.MaxReplicas)),
			fmt.Sprintf("must not be below min_replicas (%d)", a.MinReplicas),
			"raise max_replicas or lower min_replicas")
	}
}

func (v *validator) percent(key string, f float64) {
	if f < 0 || f > 100 {
		v.add(key, num(f), "must be between 0 and 100", "give a percentage, e.g. "+hintOf(key))
	}
}

// sustained requires a scaling window of at least one metric sample step.
func (v *validator) sustained(key string, d time.Duration) {
	switch {
	case d <= 0:
		v.window(key, d)
	case d < MinSustainedWindow:
		v.add(key, formatDuration(d), fmt.Sprintf("must be at least the metrics sample step (%s)", formatDuration(MinSustainedWindow)),
			"a sustained window is judged on samples taken over it; use e.g. "+hintOf(key))
	}
}

// step requires a replica step between 1 and max_replicas.
func (v *validator) step(key string, n, maxReplicas int32) {
	v.atLeast(key, int64(n), 1, "a step moves at least one replica")
	if n > max(maxReplicas, 1) {
		v.add(key, strconv.Itoa(int(n)), fmt.Sprintf("must not be above max_replicas (%d)", maxReplicas),
			"a step moves at most max_replicas replicas; use e.g. "+hintOf(key))
	}
}

// window requires a positive duration.
func (v *validator) window(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, formatDuration(d), "must be a positive duration", "use e.g. "+hintOf(key))
	}
}

func (v *validator) atLeast(key string, n, minimum int64, why string) {
	if n < minimum {
		v.add(key, strconv.FormatInt(n, 10), fmt.Sprintf("must be at least %d", minimum),
			fmt.Sprintf("%s; use e.g. %s", why, hintOf(key)))
	}
}

func hintOf(key string) string {
	f, _ := lookupField(key)
	return f.hint
}

func (v *validator) selfHealing(s SelfHealing) {
	v.window("self_healing.health_check_interval", s.HealthCheckInterval)
	v.atLeast("self_healing.restart_threshold", int64(s.RestartThreshold), 1, "failures are counted from 1")
	if s.ReplacementThreshold <= s.RestartThreshold {
		v.add("self_healing.replacement_threshold", strconv.Itoa(s.ReplacementThreshold),
			fmt.Sprintf("must be above restart_threshold (%d)", s.RestartThreshold),
			"raise it: pods are replaced only after restarts have been tried")
	}
	v.atLeast("self_healing.restart_budget_per_hour", int64(s.RestartBudgetPerHour), 0, "use 0 to forbid restarts")
	if s.MemoryRaiseMaxFactor < 1 {
		v.add("self_healing.memory_raise_max_factor", num(s.MemoryRaiseMaxFactor), "must be at least 1",
			"use 1 to forbid raises, or a factor such as 2")
	}
	v.atLeast("self_healing.memory_ceiling", s.MemoryCeiling, 1, "a memory limit needs a ceiling")
}

func (v *validator) cloud(c Cloud) {
	switch c.Provider {
	case "", "digitalocean", "aws", "gcp":
	default:
		v.add("cloud.provider", c.Provider, "is not a known cloud provider", "use digitalocean, aws or gcp, or leave it empty")
	}
}

func (v *validator) llm(l LLM, planner string) {
	switch l.Provider {
	case "":
		if planner == PlannerLLM {
			v.add("llm.provider", "", "is empty but the planner is llm",
				"set LLM_PROVIDER (claude, openai or zai) or use --planner auto or rules")
		}
	case ProviderClaude, ProviderOpenAI, ProviderZAI:
		if !l.APIKey.IsSet() && l.BaseURL == "" && planner != PlannerRules {
			v.add("llm.api_key", "", "is required for provider "+l.Provider,
				"set LLM_API_KEY, point LLM_BASE_URL at a server that needs none, or use --planner rules")
		}
	default:
		v.add("llm.provider", l.Provider, "is not a known LLM provider",
			"use claude, openai or zai (openai also covers any OpenAI-compatible LLM_BASE_URL), or leave it empty")
	}
	v.httpURL("llm.base_url", l.BaseURL)
	v.atLeast("llm.max_iterations", int64(l.MaxIterations), 1, "the model needs at least one turn")
	v.atLeast("llm.token_budget", int64(l.TokenBudget), 1, "the budget counts tokens per run")
	v.window("llm.timeout", l.Timeout)
}

func (v *validator) alerting(a Alerting) {
	if a.Cooldown < 0 {
		v.add("alerting.cooldown", formatDuration(a.Cooldown), "must not be negative", "use 0 for no cooldown, or e.g. 5m")
	}
	if a.EscalationHours <= 0 {
		v.add("alerting.escalation_hours", num(a.EscalationHours), "must be greater than 0", "use e.g. 1 or 0.5")
	}
	if a.NotifyDeadline <= 0 {
		v.add("alerting.notify_deadline", formatDuration(a.NotifyDeadline), "must be greater than 0", "use e.g. 1m")
	}
	v.httpURL("alerting.generic_webhook", a.GenericWebhook.Reveal())
	v.httpURL("alerting.pagerduty_url", a.PagerDutyURL)
}

func (v *validator) storage(s Storage) {
	if s.ClickHouseURL != "" {
		if err := checkURL(s.ClickHouseURL, "clickhouse", "tcp", "http", "https"); err != "" {
			v.add("storage.clickhouse_url", s.ClickHouseURL, err,
				"use a DSN such as clickhouse://user:password@host:9000/db or http://host:8123")
		}
	}
	v.atLeast("storage.retention_days", int64(s.RetentionDays), 1, "partitions newer than a day are never dropped")
	v.atLeast("storage.min_partitions", int64(s.MinPartitions), 1, "the newest partition is always kept")
	// The guard refuses a policy that drops nothing as invalid; to keep
	// partitions, run in --mode observe or approve.
	v.atLeast("storage.max_partitions_per_run", int64(s.MaxPartitionsPerRun), 1, "a run that may drop must drop at least one; to drop none use --mode observe")
	v.atLeast("storage.max_bytes_per_run", s.MaxBytesPerRun, 1, "a run that may drop must free some bytes; to drop none use --mode observe")
}

func (v *validator) agent(a Agent) {
	switch a.Mode {
	case ModeObserve, ModeApprove, ModeAuto:
	default:
		v.add("agent.mode", a.Mode, "is not a known mode", "use observe, approve or auto")
	}
	switch a.Planner {
	case PlannerAuto, PlannerLLM, PlannerRules:
	default:
		v.add("agent.planner", a.Planner, "is not a known planner", "use auto, llm or rules")
	}
	v.atLeast("agent.max_writes", int64(a.MaxWrites), 0, "use 0 to forbid writes")
}

func (v *validator) serve(s Serve) {
	switch s.LeaderElection {
	case LeaderElectionAuto, LeaderElectionLease, LeaderElectionNone:
	default:
		v.add("serve.leader_election", s.LeaderElection, "is not a leader election mode", "use auto, lease or none")
	}
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		v.add("serve.log_level", s.LogLevel, "is not a log level", "use debug, info, warn or error")
	}
	if s.Listen == "" {
		v.add("serve.listen", "", "is empty", "use host:port, e.g. 127.0.0.1:9095 or :9095")
	}
	v.atLeast("serve.max_body_bytes", s.MaxBodyBytes, 1024, "Alertmanager payloads need room")
	v.atLeast("serve.queue_size", int64(s.QueueSize), 1, "a delivery must be able to wait")
	v.atLeast("serve.workers", int64(s.Workers), 1, "at least one job must run")
	for _, d := range []struct {
		key string
		d   time.Duration
	}{{"serve.retry_after", s.RetryAfter}, {"serve.shutdown_grace", s.ShutdownGrace},
		{"serve.lease_duration", s.LeaseDuration}, {"serve.renew_deadline", s.RenewDeadline}, {"serve.retry_period", s.RetryPeriod}} {
		v.window(d.key, d.d)
	}
	for _, d := range []struct {
		key string
		d   time.Duration
	}{{"serve.scale_period", s.ScalePeriod}, {"serve.escalation_period", s.EscalationPeriod}} {
		if d.d < 0 {
			v.add(d.key, formatDuration(d.d), "must not be negative", "use 0 to switch the loop off, or e.g. "+hintOf(d.key))
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
