package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateNamesKeyEnvAndFix(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		key    string
		env    string
	}{
		{"scale-up threshold above 100", func(c *Config) { c.AutoScaling.ScaleUpThreshold = 101 }, "auto_scaling.scale_up_threshold", "SCALE_UP_THRESHOLD"},
		{"scale-down threshold below 0", func(c *Config) { c.AutoScaling.ScaleDownThreshold = -1 }, "auto_scaling.scale_down_threshold", "SCALE_DOWN_THRESHOLD"},
		{"error-rate threshold above 100", func(c *Config) { c.AutoScaling.ErrorRateThreshold = 120 }, "auto_scaling.error_rate_threshold", ""},
		{"scale-down equal to scale-up", func(c *Config) { c.AutoScaling.ScaleDownThreshold = 80 }, "auto_scaling.scale_down_threshold", "SCALE_DOWN_THRESHOLD"},
		{"scale-down above scale-up", func(c *Config) { c.AutoScaling.ScaleDownThreshold = 85 }, "auto_scaling.scale_down_threshold", "SCALE_DOWN_THRESHOLD"},
		{"zero scale-up window", func(c *Config) { c.AutoScaling.ScaleUpDuration = 0 }, "auto_scaling.scale_up_duration", ""},
		{"negative scale-down window", func(c *Config) { c.AutoScaling.ScaleDownDuration = -time.Minute }, "auto_scaling.scale_down_duration", ""},
		{"zero error-rate window", func(c *Config) { c.AutoScaling.ErrorRateDuration = 0 }, "auto_scaling.error_rate_duration", ""},
		{"zero scale-up step", func(c *Config) { c.AutoScaling.ScaleUpStep = 0 }, "auto_scaling.scale_up_step", ""},
		{"negative scale-down step", func(c *Config) { c.AutoScaling.ScaleDownStep = -1 }, "auto_scaling.scale_down_step", ""},
		{"zero error-rate step", func(c *Config) { c.AutoScaling.ErrorRateStep = 0 }, "auto_scaling.error_rate_step", ""},
		{"min replicas 0", func(c *Config) { c.AutoScaling.MinReplicas = 0 }, "auto_scaling.min_replicas", "MIN_REPLICAS"},
		{"max replicas above 1000", func(c *Config) { c.AutoScaling.MaxReplicas = 1001 }, "auto_scaling.max_replicas", "MAX_REPLICAS"},
		{"min above max", func(c *Config) { c.AutoScaling.MinReplicas = 11 }, "auto_scaling.max_replicas", "MAX_REPLICAS"},
		{"zero health-check interval", func(c *Config) { c.SelfHealing.HealthCheckInterval = 0 }, "self_healing.health_check_interval", "HEALTH_CHECK_INTERVAL"},
		{"restart threshold 0", func(c *Config) { c.SelfHealing.RestartThreshold = 0 }, "self_healing.restart_threshold", "RESTART_THRESHOLD"},
		{"replacement below restart", func(c *Config) { c.SelfHealing.ReplacementThreshold = 2 }, "self_healing.replacement_threshold", "REPLACEMENT_THRESHOLD"},
		{"replacement equal to restart", func(c *Config) { c.SelfHealing.ReplacementThreshold = 3 }, "self_healing.replacement_threshold", "REPLACEMENT_THRESHOLD"},
		{"scale-up window of 1ns", func(c *Config) { c.AutoScaling.ScaleUpDuration = time.Nanosecond }, "auto_scaling.scale_up_duration", ""},
		{"scale-down window under a sample step", func(c *Config) { c.AutoScaling.ScaleDownDuration = 10 * time.Second }, "auto_scaling.scale_down_duration", ""},
		{"error-rate window under a sample step", func(c *Config) { c.AutoScaling.ErrorRateDuration = MinSustainedWindow - 1 }, "auto_scaling.error_rate_duration", ""},
		{"scale-up step above max replicas", func(c *Config) { c.AutoScaling.ScaleUpStep = 11 }, "auto_scaling.scale_up_step", ""},
		{"error-rate step above max replicas", func(c *Config) { c.AutoScaling.ErrorRateStep = 11 }, "auto_scaling.error_rate_step", ""},
		{"negative restart budget", func(c *Config) { c.SelfHealing.RestartBudgetPerHour = -1 }, "self_healing.restart_budget_per_hour", ""},
		{"memory factor below 1", func(c *Config) { c.SelfHealing.MemoryRaiseMaxFactor = 0.5 }, "self_healing.memory_raise_max_factor", ""},
		{"zero memory ceiling", func(c *Config) { c.SelfHealing.MemoryCeiling = 0 }, "self_healing.memory_ceiling", ""},
		{"unknown cloud provider", func(c *Config) { c.Cloud.Provider = "azure" }, "cloud.provider", "CLOUD_PROVIDER"},
		{"unknown LLM provider", func(c *Config) { c.LLM.Provider = "gemini" }, "llm.provider", "LLM_PROVIDER"},
		{"LLM provider without a key", func(c *Config) { c.LLM.Provider = ProviderClaude }, "llm.api_key", "LLM_API_KEY"},
		{"planner llm without a provider", func(c *Config) { c.Agent.Planner = PlannerLLM }, "llm.provider", "LLM_PROVIDER"},
		{"LLM base URL not http", func(c *Config) { c.LLM.BaseURL = "ftp://models" }, "llm.base_url", "LLM_BASE_URL"},
		{"zero max iterations", func(c *Config) { c.LLM.MaxIterations = 0 }, "llm.max_iterations", ""},
		{"zero token budget", func(c *Config) { c.LLM.TokenBudget = 0 }, "llm.token_budget", ""},
		{"zero LLM timeout", func(c *Config) { c.LLM.Timeout = 0 }, "llm.timeout", "LLM_TIMEOUT"},
		{"an attempt longer than the call", func(c *Config) { c.LLM.AttemptTimeout = 5 * time.Minute }, "llm.attempt_timeout", "LLM_ATTEMPT_TIMEOUT"},
		{"an unknown reasoning effort", func(c *Config) { c.LLM.ReasoningEffort = "max" }, "llm.reasoning_effort", "LLM_REASONING_EFFORT"},
		{"a header without a value", func(c *Config) { c.LLM.Headers = []string{"x-team"} }, "llm.headers", "LLM_HEADERS"},
		{"the key as a header", func(c *Config) { c.LLM.Headers = []string{"Authorization: Bearer sk"} }, "llm.headers", "LLM_HEADERS"},
		{"an endpoint the provider lacks", func(c *Config) { c.LLM.Provider, c.LLM.APIKey, c.LLM.Endpoint = ProviderZAI, "k", "moon" }, "llm.endpoint", "LLM_ENDPOINT"},
		{"vllm without a model", func(c *Config) { c.LLM.Provider, c.LLM.BaseURL = ProviderVLLM, "http://127.0.0.1:8000/v1" }, "llm.model", "LLM_MODEL"},
		{"negative cooldown", func(c *Config) { c.Alerting.Cooldown = -time.Second }, "alerting.cooldown", "ALERT_COOLDOWN"},
		{"zero escalation hours", func(c *Config) { c.Alerting.EscalationHours = 0 }, "alerting.escalation_hours", "ESCALATION_HOURS"},
		{"Prometheus URL without scheme", func(c *Config) { c.Monitoring.PrometheusURL = "prometheus:9090" }, "monitoring.prometheus", "PROMETHEUS_URL"},
		{"Grafana URL without host", func(c *Config) { c.Monitoring.GrafanaURL = "http://" }, "monitoring.grafana", "GRAFANA_URL"},
		{"webhook not a URL", func(c *Config) { c.Monitoring.AlertWebhook = "hooks.slack.com/x" }, "monitoring.alert_webhook", "ALERT_WEBHOOK"},
		{"ClickHouse DSN with a bad scheme", func(c *Config) { c.Storage.ClickHouseURL = "mysql://u:p@h/db" }, "storage.clickhouse_url", "CLICKHOUSE_URL"},
		{"retention 0 days", func(c *Config) { c.Storage.RetentionDays = 0 }, "storage.retention_days", ""},
		{"min partitions 0", func(c *Config) { c.Storage.MinPartitions = 0 }, "storage.min_partitions", ""},
		{"negative partitions per run", func(c *Config) { c.Storage.MaxPartitionsPerRun = -1 }, "storage.max_partitions_per_run", ""},
		{"zero partitions per run", func(c *Config) { c.Storage.MaxPartitionsPerRun = 0 }, "storage.max_partitions_per_run", ""},
		{"negative bytes per run", func(c *Config) { c.Storage.MaxBytesPerRun = -1 }, "storage.max_bytes_per_run", ""},
		{"zero bytes per run", func(c *Config) { c.Storage.MaxBytesPerRun = 0 }, "storage.max_bytes_per_run", ""},
		{"volume growth factor below 1", func(c *Config) { c.Storage.VolumeMaxGrowthFactor = 0.9 }, "storage.volume_max_growth_factor", "VOLUME_MAX_GROWTH_FACTOR"},
		{"no volume ceiling", func(c *Config) { c.Storage.VolumeCeiling = 0 }, "storage.volume_ceiling", "VOLUME_CEILING"},
		{"unknown mode", func(c *Config) { c.Agent.Mode = "yolo" }, "agent.mode", "OPS_SKILL_MODE"},
		{"unknown planner", func(c *Config) { c.Agent.Planner = "magic" }, "agent.planner", "OPS_SKILL_PLANNER"},
		{"negative max writes", func(c *Config) { c.Agent.MaxWrites = -1 }, "agent.max_writes", ""},
		{"invalid namespace", func(c *Config) { c.Kubernetes.Namespace = "Prod_NS" }, "kubernetes.namespace", "NAMESPACE"},
		{"invalid allowed namespace", func(c *Config) { c.Kubernetes.AllowedNamespaces = []string{"ok", "not ok"} }, "kubernetes.allowed_namespaces", ""},
		{"cluster name with a space", func(c *Config) { c.Kubernetes.Cluster = "prod eu" }, "kubernetes.cluster", "OPS_SKILL_CLUSTER"},
		{"cluster named like the simulated platform", func(c *Config) { c.Kubernetes.Cluster = "simulated" }, "kubernetes.cluster", "OPS_SKILL_CLUSTER"},
		{"cluster named like an unnamed pod", func(c *Config) { c.Kubernetes.Cluster = "in-cluster" }, "kubernetes.cluster", "OPS_SKILL_CLUSTER"},
		{"empty state dir", func(c *Config) { c.StateDir = "" }, "state_dir", "OPS_SKILL_STATE_DIR"},
		{"zero notify deadline", func(c *Config) { c.Alerting.NotifyDeadline = 0 }, "alerting.notify_deadline", "NOTIFY_DEADLINE"},
		{"generic webhook not a URL", func(c *Config) { c.Alerting.GenericWebhook = "chat/hook" }, "alerting.generic_webhook", "GENERIC_WEBHOOK_URL"},
		{"PagerDuty URL not http", func(c *Config) { c.Alerting.PagerDutyURL = "ftp://pd" }, "alerting.pagerduty_url", "PAGERDUTY_URL"},
		{"unknown leader election", func(c *Config) { c.Serve.LeaderElection = "raft" }, "serve.leader_election", "OPS_SKILL_SERVE_LEADER_ELECTION"},
		{"unknown log level", func(c *Config) { c.Serve.LogLevel = "loud" }, "serve.log_level", "OPS_SKILL_SERVE_LOG_LEVEL"},
		{"empty listen address", func(c *Config) { c.Serve.Listen = "" }, "serve.listen", "OPS_SKILL_SERVE_LISTEN"},
		{"body limit under 1KiB", func(c *Config) { c.Serve.MaxBodyBytes = 1023 }, "serve.max_body_bytes", "OPS_SKILL_SERVE_MAX_BODY_BYTES"},
		{"zero queue size", func(c *Config) { c.Serve.QueueSize = 0 }, "serve.queue_size", "OPS_SKILL_SERVE_QUEUE_SIZE"},
		{"zero workers", func(c *Config) { c.Serve.Workers = 0 }, "serve.workers", "OPS_SKILL_SERVE_WORKERS"},
		{"zero retry-after", func(c *Config) { c.Serve.RetryAfter = 0 }, "serve.retry_after", "OPS_SKILL_SERVE_RETRY_AFTER"},
		{"zero shutdown grace", func(c *Config) { c.Serve.ShutdownGrace = 0 }, "serve.shutdown_grace", "OPS_SKILL_SERVE_SHUTDOWN_GRACE"},
		{"zero lease duration", func(c *Config) { c.Serve.LeaseDuration = 0 }, "serve.lease_duration", "OPS_SKILL_SERVE_LEASE_DURATION"},
		{"zero renew deadline", func(c *Config) { c.Serve.RenewDeadline = 0 }, "serve.renew_deadline", "OPS_SKILL_SERVE_RENEW_DEADLINE"},
		{"zero retry period", func(c *Config) { c.Serve.RetryPeriod = 0 }, "serve.retry_period", "OPS_SKILL_SERVE_RETRY_PERIOD"},
		{"negative scale period", func(c *Config) { c.Serve.ScalePeriod = -time.Second }, "serve.scale_period", "OPS_SKILL_SERVE_SCALE_PERIOD"},
		{"negative escalation period", func(c *Config) { c.Serve.EscalationPeriod = -time.Second }, "serve.escalation_period", "OPS_SKILL_SERVE_ESCALATION_PERIOD"},
		{"ledger TTL shorter than an hour", func(c *Config) { c.Serve.LedgerTTL = 59 * time.Minute }, "serve.ledger_ttl", "OPS_SKILL_SERVE_LEDGER_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.mutate(&c)
			err := c.Validate()
			requireKeyError(t, err, tt.key, tt.env)
			if n := len(validationErrors(err)); n != 1 {
				t.Errorf("%d errors, want exactly 1: %v", n, err)
			}
		})
	}
}

func TestValidateMessageMatchesTheDocumentedForm(t *testing.T) {
	c := validConfig(t)
	c.AutoScaling.ScaleDownThreshold = 85
	want := "invalid config: auto_scaling.scale_down_threshold (SCALE_DOWN_THRESHOLD) = 85 must be below scale_up_threshold (80): lower it or raise the scale-up threshold"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	c := validConfig(t)
	c.AutoScaling.ScaleDownThreshold = 90
	c.AutoScaling.MinReplicas = 20
	c.Agent.Mode = "yolo"
	keys := map[string]bool{}
	for _, ve := range validationErrors(c.Validate()) {
		keys[ve.Key] = true
	}
	for _, k := range []string{"auto_scaling.scale_down_threshold", "auto_scaling.max_replicas", "agent.mode"} {
		if !keys[k] {
			t.Errorf("missing error for %s (got %v)", k, keys)
		}
	}
}

func TestValidateAcceptsReasonableSettings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"defaults", func(*Config) {}},
		{"OpenAI-compatible endpoint without a key", func(c *Config) {
			c.LLM.Provider, c.LLM.BaseURL = ProviderOpenAI, "http://localhost:11434/v1"
		}},
		{"provider without a key under the rules planner", func(c *Config) {
			c.LLM.Provider, c.Agent.Planner = ProviderZAI, PlannerRules
		}},
		{"claude with a key", func(c *Config) { c.LLM.Provider, c.LLM.APIKey = ProviderClaude, "k" }},
		{"zero cooldown", func(c *Config) { c.Alerting.Cooldown = 0 }},
		{"min equals max", func(c *Config) { c.AutoScaling.MinReplicas, c.AutoScaling.MaxReplicas = 3, 3 }},
		{"replacement one above restart", func(c *Config) { c.SelfHealing.ReplacementThreshold = 4 }},
		{"windows of one sample step", func(c *Config) {
			c.AutoScaling.ScaleUpDuration, c.AutoScaling.ScaleDownDuration, c.AutoScaling.ErrorRateDuration = MinSustainedWindow, MinSustainedWindow, MinSustainedWindow
		}},
		{"a step of max_replicas", func(c *Config) { c.AutoScaling.ErrorRateStep = c.AutoScaling.MaxReplicas }},
		{"one partition and one byte per run", func(c *Config) { c.Storage.MaxPartitionsPerRun, c.Storage.MaxBytesPerRun = 1, 1 }},
		{"max replicas at the limit", func(c *Config) { c.AutoScaling.MaxReplicas = 1000 }},
		{"thresholds at the bounds", func(c *Config) {
			c.AutoScaling.ScaleUpThreshold, c.AutoScaling.ScaleDownThreshold = 100, 0
		}},
		{"all clouds", func(c *Config) { c.Cloud.Provider = "gcp" }},
		{"ClickHouse native DSN", func(c *Config) { c.Storage.ClickHouseURL = "clickhouse://u:p@ch:9000/db" }},
		{"ClickHouse HTTP DSN", func(c *Config) { c.Storage.ClickHouseURL = "http://ch:8123" }},
		{"observe mode", func(c *Config) { c.Agent.Mode = ModeObserve }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		env, value, key string
	}{
		{"SCALE_UP_THRESHOLD", "eighty", "auto_scaling.scale_up_threshold"},
		{"SCALE_DOWN_THRESHOLD", "NaN", "auto_scaling.scale_down_threshold"},
		{"MIN_REPLICAS", "two", "auto_scaling.min_replicas"},
		{"MAX_REPLICAS", "99999999999", "auto_scaling.max_replicas"},
		{"AUTO_SCALE_ENABLED", "maybe", "auto_scaling.enabled"},
		{"SELF_HEAL_ENABLED", "2", "self_healing.enabled"},
		{"ALERT_ENABLED", "sure", "alerting.enabled"},
		{"HEALTH_CHECK_INTERVAL", "30", "self_healing.health_check_interval"},
		{"ALERT_COOLDOWN", "5 minutes", "alerting.cooldown"},
		{"RESTART_THRESHOLD", "3.5", "self_healing.restart_threshold"},
		{"REPLACEMENT_THRESHOLD", "five", "self_healing.replacement_threshold"},
		{"ESCALATION_HOURS", "1h", "alerting.escalation_hours"},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			_, err := loadWith(t, homeEnv(t, map[string]string{tt.env: tt.value}), "")
			ve := requireKeyError(t, err, tt.key, tt.env)
			if ve.Source != "environment" {
				t.Errorf("source = %q, want environment", ve.Source)
			}
			if !strings.Contains(ve.Error(), tt.value) {
				t.Errorf("message %q does not show the value", ve.Error())
			}
		})
	}
}

func TestLoadReturnsTheDecodedConfigWithValidationErrors(t *testing.T) {
	cfg, err := loadWith(t, homeEnv(t, map[string]string{"SCALE_DOWN_THRESHOLD": "85"}), "")
	requireKeyError(t, err, "auto_scaling.scale_down_threshold", "SCALE_DOWN_THRESHOLD")
	if cfg.AutoScaling.ScaleDownThreshold != 85 {
		t.Errorf("decoded config not returned: %v", cfg.AutoScaling.ScaleDownThreshold)
	}
}

func TestValidationErrorFormatting(t *testing.T) {
	e := &ValidationError{Key: "llm.model", EnvVar: "LLM_MODEL", Value: "a b", Problem: "is odd", Fix: "fix it", Source: "environment"}
	want := `invalid config: llm.model (LLM_MODEL) = "a b" is odd (from environment): fix it`
	if e.Error() != want {
		t.Errorf("Error() = %s\nwant %s", e.Error(), want)
	}
	if !errors.Is(e, ErrInvalid) || !errors.Is(errors.Join(errors.New("x"), e), ErrInvalid) {
		t.Error("ValidationError does not match ErrInvalid")
	}
}
