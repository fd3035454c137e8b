package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// display says how a value is shown by Show and Redacted.
type display int

const (
	showPlain  display = iota
	showSecret         // "***" when set
	showURL            // userinfo password and credential-like query params masked
)

// field describes one configuration key: where it lives in the YAML, which
// environment variable and flag set it, and how to reach it in a Config.
type field struct {
	key      string            // path under operations:, e.g. "auto_scaling.scale_up_threshold"
	env      string            // environment variable, or ""
	flag     string            // pflag name, or ""
	alias    string            // short name accepted by --update-threshold, or ""
	override bool              // may be set by --update-threshold
	percent  bool              // a float that accepts a trailing "%"
	enum     bool              // lower-cased and trimmed before use
	show     display           // how the value is displayed
	hint     string            // example used in parse-error fixes
	ptr      func(*Config) any // pointer to the Config field
}

// fields returns every configuration key in display order. It is a function,
// not a package variable, so that nothing global can be mutated.
func fields() []field {
	return []field{
		{key: "monitoring.prometheus", env: "PROMETHEUS_URL", show: showURL, hint: "http://prometheus:9090",
			ptr: func(c *Config) any { return &c.Monitoring.PrometheusURL }},
		{key: "monitoring.grafana", env: "GRAFANA_URL", show: showURL, hint: "http://grafana:3000",
			ptr: func(c *Config) any { return &c.Monitoring.GrafanaURL }},
		{key: "monitoring.alert_webhook", env: "ALERT_WEBHOOK", show: showSecret, hint: "https://hooks.slack.com/services/…",
			ptr: func(c *Config) any { return &c.Monitoring.AlertWebhook }},
		{key: "monitoring.grafana_token", env: "GRAFANA_TOKEN", show: showSecret, hint: "glsa_…",
			ptr: func(c *Config) any { return &c.Monitoring.GrafanaToken }},

		{key: "kubernetes.config", env: "KUBECONFIG", flag: "kubeconfig", hint: "~/.kube/config",
			ptr: func(c *Config) any { return &c.Kubernetes.Kubeconfig }},
		{key: "kubernetes.namespace", env: "NAMESPACE", flag: "namespace", hint: "ai-data-labs",
			ptr: func(c *Config) any { return &c.Kubernetes.Namespace }},
		{key: "kubernetes.context", flag: "context", hint: "prod",
			ptr: func(c *Config) any { return &c.Kubernetes.Context }},
		{key: "kubernetes.allowed_namespaces", hint: "[ai-data-labs, staging]",
			ptr: func(c *Config) any { return &c.Kubernetes.AllowedNamespaces }},

		{key: "auto_scaling.enabled", env: "AUTO_SCALE_ENABLED", hint: "true",
			ptr: func(c *Config) any { return &c.AutoScaling.Enabled }},
		{key: "auto_scaling.scale_up_threshold", env: "SCALE_UP_THRESHOLD", alias: "scale_up.cpu", override: true, percent: true, hint: "80",
			ptr: func(c *Config) any { return &c.AutoScaling.ScaleUpThreshold }},
		{key: "auto_scaling.scale_up_duration", alias: "scale_up.duration", override: true, hint: "5m",
			ptr: func(c *Config) any { return &c.AutoScaling.ScaleUpDuration }},
		{key: "auto_scaling.scale_up_step", alias: "scale_up.step", override: true, hint: "1",
			ptr: func(c *Config) any { return &c.AutoScaling.ScaleUpStep }},
		{key: "auto_scaling.scale_down_threshold", env: "SCALE_DOWN_THRESHOLD", alias: "scale_down.cpu", override: true, percent: true, hint: "30",
			ptr: func(c *Config) any { return &c.AutoScaling.ScaleDownThreshold }},
		{key: "auto_scaling.scale_down_duration", alias: "scale_down.duration", override: true, hint: "15m",
			ptr: func(c *Config) any { return &c.AutoScaling.ScaleDownDuration }},
		{key: "auto_scaling.scale_down_step", alias: "scale_down.step", override: true, hint: "1",
			ptr: func(c *Config) any { return &c.AutoScaling.ScaleDownStep }},
		{key: "auto_scaling.error_rate_threshold", alias: "scale_out.error_rate", override: true, percent: true, hint: "10",
			ptr: func(c *Config) any { return &c.AutoScaling.ErrorRateThreshold }},
		{key: "auto_scaling.error_rate_duration", alias: "scale_out.duration", override: true, hint: "2m",
			ptr: func(c *Config) any { return &c.AutoScaling.ErrorRateDuration }},
		{key: "auto_scaling.error_rate_step", alias: "scale_out.step", override: true, hint: "2",
			ptr: func(c *Config) any { return &c.AutoScaling.ErrorRateStep }},
		{key: "auto_scaling.min_replicas", env: "MIN_REPLICAS", alias: "min_replicas", override: true, hint: "2",
			ptr: func(c *Config) any { return &c.AutoScaling.MinReplicas }},
		{key: "auto_scaling.max_replicas", env: "MAX_REPLICAS", alias: "max_replicas", override: true, hint: "10",
			ptr: func(c *Config) any { return &c.AutoScaling.MaxReplicas }},
		{key: "auto_scaling.opt_out_annotation", hint: "ops-skill.io/disabled",
			ptr: func(c *Config) any { return &c.AutoScaling.OptOutAnnotation }},

		{key: "self_healing.enabled", env: "SELF_HEAL_ENABLED", hint: "true",
			ptr: func(c *Config) any { return &c.SelfHealing.Enabled }},
		{key: "self_healing.health_check_interval", env: "HEALTH_CHECK_INTERVAL", hint: "30s",
			ptr: func(c *Config) any { return &c.SelfHealing.HealthCheckInterval }},
		{key: "self_healing.restart_threshold", env: "RESTART_THRESHOLD", override: true, hint: "3",
			ptr: func(c *Config) any { return &c.SelfHealing.RestartThreshold }},
		{key: "self_healing.replacement_threshold", env: "REPLACEMENT_THRESHOLD", override: true, hint: "5",
			ptr: func(c *Config) any { return &c.SelfHealing.ReplacementThreshold }},
		{key: "self_healing.restart_budget_per_hour", hint: "3",
			ptr: func(c *Config) any { return &c.SelfHealing.RestartBudgetPerHour }},
		{key: "self_healing.memory_raise_max_factor", hint: "2",
			ptr: func(c *Config) any { return &c.SelfHealing.MemoryRaiseMaxFactor }},
		{key: "self_healing.memory_ceiling", hint: "16Gi",
			ptr: func(c *Config) any { return (*byteSize)(&c.SelfHealing.MemoryCeiling) }},

		{key: "cloud.provider", env: "CLOUD_PROVIDER", enum: true, hint: "digitalocean",
			ptr: func(c *Config) any { return &c.Cloud.Provider }},
		{key: "cloud.api_key", env: "CLOUD_API_KEY", show: showSecret, hint: "…",
			ptr: func(c *Config) any { return &c.Cloud.APIKey }},

		{key: "llm.provider", env: "LLM_PROVIDER", enum: true, hint: "claude",
			ptr: func(c *Config) any { return &c.LLM.Provider }},
		{key: "llm.model", env: "LLM_MODEL", hint: "claude-sonnet-4-5",
			ptr: func(c *Config) any { return &c.LLM.Model }},
		{key: "llm.api_key", env: "LLM_API_KEY", show: showSecret, hint: "…",
			ptr: func(c *Config) any { return &c.LLM.APIKey }},
		{key: "llm.base_url", env: "LLM_BASE_URL", show: showURL, hint: "http://localhost:11434/v1",
			ptr: func(c *Config) any { return &c.LLM.BaseURL }},
		{key: "llm.max_iterations", hint: "6",
			ptr: func(c *Config) any { return &c.LLM.MaxIterations }},
		{key: "llm.token_budget", hint: "60000",
			ptr: func(c *Config) any { return &c.LLM.TokenBudget }},
		{key: "llm.timeout", hint: "60s",
			ptr: func(c *Config) any { return &c.LLM.Timeout }},

		{key: "alerting.enabled", env: "ALERT_ENABLED", hint: "true",
			ptr: func(c *Config) any { return &c.Alerting.Enabled }},
		{key: "alerting.cooldown", env: "ALERT_COOLDOWN", override: true, hint: "5m",
			ptr: func(c *Config) any { return &c.Alerting.Cooldown }},
		{key: "alerting.escalation_hours", env: "ESCALATION_HOURS", override: true, hint: "1",
			ptr: func(c *Config) any { return &c.Alerting.EscalationHours }},
		{key: "alerting.generic_webhook", env: "GENERIC_WEBHOOK_URL", show: showSecret, hint: "https://chat.example/hooks/…",
			ptr: func(c *Config) any { return &c.Alerting.GenericWebhook }},
		{key: "alerting.pagerduty_routing_key", env: "PAGERDUTY_ROUTING_KEY", show: showSecret, hint: "R0UT1NGK3Y…",
			ptr: func(c *Config) any { return &c.Alerting.PagerDutyRoutingKey }},
		{key: "alerting.pagerduty_url", env: "PAGERDUTY_URL", show: showURL, hint: "https://events.pagerduty.com",
			ptr: func(c *Config) any { return &c.Alerting.PagerDutyURL }},
		{key: "alerting.notify_deadline", env: "NOTIFY_DEADLINE", hint: "1m",
			ptr: func(c *Config) any { return &c.Alerting.NotifyDeadline }},

		{key: "storage.clickhouse_url", env: "CLICKHOUSE_URL", show: showURL, hint: "clickhouse://user:password@clickhouse:9000/default",
			ptr: func(c *Config) any { return &c.Storage.ClickHouseURL }},
		{key: "storage.retention_days", override: true, hint: "90",
			ptr: func(c *Config) any { return &c.Storage.RetentionDays }},
		{key: "storage.min_partitions", hint: "3",
			ptr: func(c *Config) any { return &c.Storage.MinPartitions }},
		{key: "storage.max_partitions_per_run", hint: "50",
			ptr: func(c *Config) any { return &c.Storage.MaxPartitionsPerRun }},
		{key: "storage.max_bytes_per_run", hint: "500G",
			ptr: func(c *Config) any { return (*byteSize)(&c.Storage.MaxBytesPerRun) }},

		{key: "agent.mode", env: "OPS_SKILL_MODE", flag: "mode", enum: true, hint: "auto",
			ptr: func(c *Config) any { return &c.Agent.Mode }},
		{key: "agent.planner", env: "OPS_SKILL_PLANNER", flag: "planner", enum: true, hint: "auto",
			ptr: func(c *Config) any { return &c.Agent.Planner }},
		{key: "agent.max_writes", hint: "5",
			ptr: func(c *Config) any { return &c.Agent.MaxWrites }},

		{key: "serve.listen", env: "OPS_SKILL_SERVE_LISTEN", flag: "listen", hint: "127.0.0.1:9095",
			ptr: func(c *Config) any { return &c.Serve.Listen }},
		{key: "serve.auth_token_file", env: "OPS_SKILL_SERVE_AUTH_TOKEN_FILE", flag: "auth-token-file", hint: "/var/run/secrets/ops-skill/token",
			ptr: func(c *Config) any { return &c.Serve.AuthTokenFile }},
		{key: "serve.basic_auth_file", env: "OPS_SKILL_SERVE_BASIC_AUTH_FILE", flag: "basic-auth-file", hint: "/var/run/secrets/ops-skill/basic-auth",
			ptr: func(c *Config) any { return &c.Serve.BasicAuthFile }},
		{key: "serve.allow_anonymous", env: "OPS_SKILL_SERVE_ALLOW_ANONYMOUS", flag: "allow-anonymous", hint: "false",
			ptr: func(c *Config) any { return &c.Serve.AllowAnonymous }},
		{key: "serve.max_body_bytes", env: "OPS_SKILL_SERVE_MAX_BODY_BYTES", flag: "max-body-bytes", hint: "1Mi",
			ptr: func(c *Config) any { return (*byteSize)(&c.Serve.MaxBodyBytes) }},
		{key: "serve.queue_size", env: "OPS_SKILL_SERVE_QUEUE_SIZE", flag: "queue-size", hint: "256",
			ptr: func(c *Config) any { return &c.Serve.QueueSize }},
		{key: "serve.workers", env: "OPS_SKILL_SERVE_WORKERS", flag: "workers", hint: "2",
			ptr: func(c *Config) any { return &c.Serve.Workers }},
		{key: "serve.retry_after", env: "OPS_SKILL_SERVE_RETRY_AFTER", flag: "retry-after", hint: "5s",
			ptr: func(c *Config) any { return &c.Serve.RetryAfter }},
		{key: "serve.shutdown_grace", env: "OPS_SKILL_SERVE_SHUTDOWN_GRACE", flag: "shutdown-grace", hint: "30s",
			ptr: func(c *Config) any { return &c.Serve.ShutdownGrace }},
		{key: "serve.health_loop", env: "OPS_SKILL_SERVE_HEALTH_LOOP", hint: "true",
			ptr: func(c *Config) any { return &c.Serve.HealthLoop }},
		{key: "serve.scale_period", env: "OPS_SKILL_SERVE_SCALE_PERIOD", flag: "scale-period", hint: "1m",
			ptr: func(c *Config) any { return &c.Serve.ScalePeriod }},
		{key: "serve.scale_workloads", env: "OPS_SKILL_SERVE_SCALE_WORKLOADS", flag: "scale-workload", hint: "[ai-data-labs/backend, frontend]",
			ptr: func(c *Config) any { return &c.Serve.ScaleWorkloads }},
		{key: "serve.escalation_period", env: "OPS_SKILL_SERVE_ESCALATION_PERIOD", flag: "escalation-period", hint: "1m",
			ptr: func(c *Config) any { return &c.Serve.EscalationPeriod }},
		{key: "serve.leader_election", env: "OPS_SKILL_SERVE_LEADER_ELECTION", flag: "leader-election", enum: true, hint: "auto",
			ptr: func(c *Config) any { return &c.Serve.LeaderElection }},
		{key: "serve.lease_namespace", env: "OPS_SKILL_SERVE_LEASE_NAMESPACE", flag: "lease-namespace", hint: "ai-data-labs",
			ptr: func(c *Config) any { return &c.Serve.LeaseNamespace }},
		{key: "serve.lease_name", env: "OPS_SKILL_SERVE_LEASE_NAME", flag: "lease-name", hint: "ops-skill-serve",
			ptr: func(c *Config) any { return &c.Serve.LeaseName }},
		{key: "serve.lease_duration", env: "OPS_SKILL_SERVE_LEASE_DURATION", flag: "lease-duration", hint: "15s",
			ptr: func(c *Config) any { return &c.Serve.LeaseDuration }},
		{key: "serve.renew_deadline", env: "OPS_SKILL_SERVE_RENEW_DEADLINE", flag: "renew-deadline", hint: "10s",
			ptr: func(c *Config) any { return &c.Serve.RenewDeadline }},
		{key: "serve.retry_period", env: "OPS_SKILL_SERVE_RETRY_PERIOD", flag: "retry-period", hint: "2s",
			ptr: func(c *Config) any { return &c.Serve.RetryPeriod }},
		{key: "serve.identity", env: "OPS_SKILL_SERVE_IDENTITY", flag: "identity", hint: "ops-skill-0",
			ptr: func(c *Config) any { return &c.Serve.Identity }},
		{key: "serve.log_level", env: "OPS_SKILL_SERVE_LOG_LEVEL", flag: "log-level", enum: true, hint: "info",
			ptr: func(c *Config) any { return &c.Serve.LogLevel }},

		{key: "state_dir", env: "OPS_SKILL_STATE_DIR", flag: "state-dir", hint: "~/.local/state/ops-skill",
			ptr: func(c *Config) any { return &c.StateDir }},
	}
}

// lookupField finds a field by its YAML key.
func lookupField(key string) (field, bool) {
	for _, f := range fields() {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// byteSize marks an int64 that holds bytes and accepts Kubernetes quantities.
type byteSize int64

// parseError is a value that could not be parsed; the caller turns it into a
// *ValidationError naming the key.
type parseError struct{ problem, fix string }

func (e *parseError) Error() string { return e.problem }

// set parses raw (a string or a list of strings) into the field of c.
func (f field) set(c *Config, raw any) error {
	if list, ok := f.ptr(c).(*[]string); ok {
		*list = toList(raw)
		return nil
	}
	s, err := toScalar(raw)
	if err != nil {
		return err
	}
	return f.setString(c, s)
}

func (f field) setString(c *Config, s string) error {
	s = strings.TrimSpace(s)
	if f.enum {
		s = strings.ToLower(s)
	}
	switch p := f.ptr(c).(type) {
	case *string:
		*p = s
	case *Secret:
		*p = Secret(s)
	case *bool:
		return parseInto(p, s, parseBool, "is not a boolean", "use true or false")
	case *int:
		return parseInto(p, s, parseInt, "is not a whole number", "use a whole number, e.g. "+f.hint)
	case *int32:
		return parseInto(p, s, parseInt32, "is not a whole number", "use a whole number, e.g. "+f.hint)
	case *float64:
		if f.percent {
			s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
		}
		return parseInto(p, s, parseFloat, "is not a number", "use a number, e.g. "+f.hint)
	case *time.Duration:
		return parseInto(p, s, time.ParseDuration, "is not a duration", "use a number with a unit (s, m, h), e.g. "+f.hint)
	case *byteSize:
		return parseInto(p, s, parseByteSize, "is not a size", "use bytes or a quantity such as 512Mi, 16Gi or 500G, e.g. "+f.hint)
	case *[]string:
		*p = toList(s)
	default:
		return fmt.Errorf("config: field %s has unsupported type %T", f.key, p)
	}
	return nil
}

func parseInto[T any](dst *T, s string, parse func(string) (T, error), problem, fix string) error {
	v, err := parse(s)
	if err != nil {
		return &parseError{problem: problem, fix: fix}
	}
	*dst = v
	return nil
}

// format renders the field's value as it is written in YAML or in the
// environment (secrets in clear: never display this; see displayValue).
func (f field) format(c *Config) string {
	switch p := f.ptr(c).(type) {
	case *string:
		return *p
	case *Secret:
		return p.Reveal()
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *int32:
		return strconv.FormatInt(int64(*p), 10)
	case *float64:
		return strconv.FormatFloat(*p, 'f', -1, 64)
	case *time.Duration:
		return formatDuration(*p)
	case *byteSize:
		return formatByteSize(int64(*p))
	case *[]string:
		return strings.Join(*p, ",")
	default:
		return fmt.Sprint(p)
	}
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on", "t", "y":
		return true, nil
	case "false", "0", "no", "off", "f", "n":
		return false, nil
	}
	return false, strconv.ErrSyntax
}

func parseInt(s string) (int, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	return int(v), err
}

func parseInt32(s string) (int32, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	return int32(v), err
}

func parseFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		return 0, strconv.ErrSyntax
	}
	return v, err
}

func parseByteSize(s string) (byteSize, error) {
	v, err := ParseBytes(s)
	return byteSize(v), err
}

// formatDuration prints a duration without trailing zero units: 5m, 1h30m, 30s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// toScalar turns a value read from a layer into a string.
func toScalar(raw any) (string, error) {
	switch v := raw.(type) {
	case string:
		return v, nil
	case []string, []any:
		return "", &parseError{problem: "is a list", fix: "give a single value"}
	case nil:
		return "", nil
	default:
		return fmt.Sprint(v), nil
	}
}

// toList turns a list or a comma-separated string into trimmed, non-empty items.
func toList(raw any) []string {
	var items []string
	switch v := raw.(type) {
	case []string:
		items = v
	case []any:
		for _, x := range v {
			items = append(items, fmt.Sprint(x))
		}
	case string:
		items = strings.Split(strings.Trim(v, "[]"), ",")
	case nil:
	default:
		items = []string{fmt.Sprint(v)}
	}
	out := []string{}
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// KeyInfo describes one configuration key, for help text and documentation.
type KeyInfo struct {
	Key       string // YAML path under operations:
	EnvVar    string // environment variable, or ""
	Flag      string // command-line flag name without "--", or ""
	Alias     string // short name accepted by --update-threshold, or ""
	Default   string // built-in default as written in YAML ("" for none; state_dir is derived)
	Secret    bool   // displayed as ***
	Updatable bool   // may be changed with --update-threshold
}

// Keys lists every configuration key in display order.
func Keys() []KeyInfo {
	d := Defaults()
	var out []KeyInfo
	for _, f := range fields() {
		out = append(out, KeyInfo{Key: f.key, EnvVar: f.env, Flag: f.flag, Alias: f.alias,
			Default: f.format(&d), Secret: f.show == showSecret, Updatable: f.override})
	}
	return out
}
