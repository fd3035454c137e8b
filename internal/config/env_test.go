package config

import (
	"reflect"
	"testing"
	"time"
)

func TestLoadReadsEveryEnvironmentVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		get  func(Config) any
		want any
	}{
		{"PROMETHEUS_URL sets the Prometheus URL", map[string]string{"PROMETHEUS_URL": "http://prometheus:9090"},
			func(c Config) any { return c.Monitoring.PrometheusURL }, "http://prometheus:9090"},
		{"GRAFANA_URL sets the Grafana URL", map[string]string{"GRAFANA_URL": "http://grafana:3000"},
			func(c Config) any { return c.Monitoring.GrafanaURL }, "http://grafana:3000"},
		{"ALERT_WEBHOOK sets the webhook secret", map[string]string{"ALERT_WEBHOOK": "https://hooks.example/T/B/x"},
			func(c Config) any { return c.Monitoring.AlertWebhook.Reveal() }, "https://hooks.example/T/B/x"},
		{"GRAFANA_TOKEN sets the annotation token", map[string]string{"GRAFANA_TOKEN": "glsa_x"},
			func(c Config) any { return c.Monitoring.GrafanaToken.Reveal() }, "glsa_x"},
		{"GENERIC_WEBHOOK_URL sets the generic webhook", map[string]string{"GENERIC_WEBHOOK_URL": "https://chat.example/hook"},
			func(c Config) any { return c.Alerting.GenericWebhook.Reveal() }, "https://chat.example/hook"},
		{"PAGERDUTY_ROUTING_KEY sets the pager key", map[string]string{"PAGERDUTY_ROUTING_KEY": "rk-1"},
			func(c Config) any { return c.Alerting.PagerDutyRoutingKey.Reveal() }, "rk-1"},
		{"PAGERDUTY_URL sets the Events API base", map[string]string{"PAGERDUTY_URL": "http://127.0.0.1:9/"},
			func(c Config) any { return c.Alerting.PagerDutyURL }, "http://127.0.0.1:9/"},
		{"NOTIFY_DEADLINE sets the delivery deadline", map[string]string{"NOTIFY_DEADLINE": "30s"},
			func(c Config) any { return c.Alerting.NotifyDeadline }, 30 * time.Second},
		{"KUBECONFIG sets the kubeconfig path", map[string]string{"KUBECONFIG": "/etc/kube/config"},
			func(c Config) any { return c.Kubernetes.Kubeconfig }, "/etc/kube/config"},
		{"KUBECONFIG keeps a path list", map[string]string{"KUBECONFIG": "/a:/b"},
			func(c Config) any { return c.Kubernetes.Kubeconfig }, "/a:/b"},
		{"NAMESPACE sets the namespace", map[string]string{"NAMESPACE": "prod"},
			func(c Config) any { return c.Kubernetes.Namespace }, "prod"},
		{"NAMESPACE becomes the default allowlist", map[string]string{"NAMESPACE": "prod"},
			func(c Config) any { return c.Kubernetes.AllowedNamespaces }, []string{"prod"}},
		{"an empty NAMESPACE counts as unset", map[string]string{"NAMESPACE": "  "},
			func(c Config) any { return c.Kubernetes.Namespace }, "ai-data-labs"},
		{"CLOUD_PROVIDER is lower-cased", map[string]string{"CLOUD_PROVIDER": "AWS"},
			func(c Config) any { return c.Cloud.Provider }, "aws"},
		{"CLOUD_API_KEY sets the cloud key", map[string]string{"CLOUD_API_KEY": "do-123"},
			func(c Config) any { return c.Cloud.APIKey.Reveal() }, "do-123"},
		{"AUTO_SCALE_ENABLED=false disables scaling", map[string]string{"AUTO_SCALE_ENABLED": "false"},
			func(c Config) any { return c.AutoScaling.Enabled }, false},
		{"SCALE_UP_THRESHOLD sets the scale-up threshold", map[string]string{"SCALE_UP_THRESHOLD": "85"},
			func(c Config) any { return c.AutoScaling.ScaleUpThreshold }, 85.0},
		{"SCALE_UP_THRESHOLD accepts a percent sign", map[string]string{"SCALE_UP_THRESHOLD": "85.5%"},
			func(c Config) any { return c.AutoScaling.ScaleUpThreshold }, 85.5},
		{"SCALE_DOWN_THRESHOLD sets the scale-down threshold", map[string]string{"SCALE_DOWN_THRESHOLD": "25"},
			func(c Config) any { return c.AutoScaling.ScaleDownThreshold }, 25.0},
		{"MIN_REPLICAS sets the minimum", map[string]string{"MIN_REPLICAS": "3"},
			func(c Config) any { return c.AutoScaling.MinReplicas }, int32(3)},
		{"MAX_REPLICAS sets the maximum", map[string]string{"MAX_REPLICAS": "20"},
			func(c Config) any { return c.AutoScaling.MaxReplicas }, int32(20)},
		{"SELF_HEAL_ENABLED=no disables self-healing", map[string]string{"SELF_HEAL_ENABLED": "no"},
			func(c Config) any { return c.SelfHealing.Enabled }, false},
		{"HEALTH_CHECK_INTERVAL sets the interval", map[string]string{"HEALTH_CHECK_INTERVAL": "1m"},
			func(c Config) any { return c.SelfHealing.HealthCheckInterval }, time.Minute},
		{"HEALTH_MATRIX_FILE sets the health matrix file", map[string]string{"HEALTH_MATRIX_FILE": "/etc/ops-skill/matrix.yaml"},
			func(c Config) any { return c.SelfHealing.HealthMatrixFile }, "/etc/ops-skill/matrix.yaml"},
		{"RESTART_THRESHOLD sets the restart threshold", map[string]string{"RESTART_THRESHOLD": "4"},
			func(c Config) any { return c.SelfHealing.RestartThreshold }, 4},
		{"REPLACEMENT_THRESHOLD sets the replacement threshold", map[string]string{"REPLACEMENT_THRESHOLD": "7"},
			func(c Config) any { return c.SelfHealing.ReplacementThreshold }, 7},
		{"LLM_PROVIDER selects the provider", map[string]string{"LLM_PROVIDER": "OpenAI", "LLM_API_KEY": "k"},
			func(c Config) any { return c.LLM.Provider }, "openai"},
		{"LLM_PROVIDER=none means no model", map[string]string{"LLM_PROVIDER": "none"},
			func(c Config) any { return c.LLM.Provider }, ""},
		{"LLM_MODEL sets the model", map[string]string{"LLM_MODEL": "glm-5"},
			func(c Config) any { return c.LLM.Model }, "glm-5"},
		{"LLM_API_KEY sets the model key", map[string]string{"LLM_API_KEY": "sk-1"},
			func(c Config) any { return c.LLM.APIKey.Reveal() }, "sk-1"},
		{"LLM_BASE_URL sets the endpoint", map[string]string{"LLM_BASE_URL": "http://localhost:11434/v1"},
			func(c Config) any { return c.LLM.BaseURL }, "http://localhost:11434/v1"},
		{"ALERT_ENABLED=0 disables alerting", map[string]string{"ALERT_ENABLED": "0"},
			func(c Config) any { return c.Alerting.Enabled }, false},
		{"ALERT_COOLDOWN sets the cooldown", map[string]string{"ALERT_COOLDOWN": "15m"},
			func(c Config) any { return c.Alerting.Cooldown }, 15 * time.Minute},
		{"ESCALATION_HOURS accepts fractions", map[string]string{"ESCALATION_HOURS": "0.5"},
			func(c Config) any { return c.Alerting.EscalationAfter() }, 30 * time.Minute},
		{"CLICKHOUSE_URL sets the DSN", map[string]string{"CLICKHOUSE_URL": "clickhouse://u:p@ch:9000/db"},
			func(c Config) any { return c.Storage.ClickHouseURL }, "clickhouse://u:p@ch:9000/db"},
		{"OPS_SKILL_RUN_TIMEOUT bounds a run", map[string]string{"OPS_SKILL_RUN_TIMEOUT": "20m"},
			func(c Config) any { return c.Agent.RunTimeout }, 20 * time.Minute},
		{"LLM_MAX_TOKENS bounds a reply", map[string]string{"LLM_MAX_TOKENS": "16000"},
			func(c Config) any { return c.LLM.MaxTokens }, 16000},
		{"CLICKHOUSE_WORKLOAD names ClickHouse's workload", map[string]string{"CLICKHOUSE_WORKLOAD": "analytics-db"},
			func(c Config) any { return c.Storage.ClickHouseWorkload }, "analytics-db"},
		{"VOLUME_MAX_GROWTH_FACTOR bounds a volume expansion", map[string]string{"VOLUME_MAX_GROWTH_FACTOR": "1.25"},
			func(c Config) any { return c.Storage.VolumeMaxGrowthFactor }, 1.25},
		{"VOLUME_CEILING accepts a quantity", map[string]string{"VOLUME_CEILING": "500Gi"},
			func(c Config) any { return c.Storage.VolumeCeiling }, int64(500 << 30)},
		{"OPS_SKILL_MODE sets the mode", map[string]string{"OPS_SKILL_MODE": "Observe"},
			func(c Config) any { return c.Agent.Mode }, "observe"},
		{"OPS_SKILL_PLANNER sets the planner", map[string]string{"OPS_SKILL_PLANNER": "rules"},
			func(c Config) any { return c.Agent.Planner }, "rules"},
		{"OPS_SKILL_STATE_DIR sets the state dir", map[string]string{"OPS_SKILL_STATE_DIR": "/var/lib/ops"},
			func(c Config) any { return c.StateDir }, "/var/lib/ops"},
		{"OPS_SKILL_CLUSTER names a pod's cluster", map[string]string{"OPS_SKILL_CLUSTER": "prod-eu"},
			func(c Config) any { return c.Kubernetes.Cluster }, "prod-eu"},
		{"OPS_SKILL_STORE_URL sets the store", map[string]string{"OPS_SKILL_STORE_URL": "postgres://ops:pw@db:5432/ops"},
			func(c Config) any { return c.Store }, "postgres://ops:pw@db:5432/ops"},
		{"OPS_SKILL_SERVE_LISTEN sets serve.listen", map[string]string{"OPS_SKILL_SERVE_LISTEN": ":9095"},
			func(c Config) any { return c.Serve.Listen }, ":9095"},
		{"OPS_SKILL_SERVE_AUTH_TOKEN_FILE sets serve.auth_token_file", map[string]string{"OPS_SKILL_SERVE_AUTH_TOKEN_FILE": "/run/token"},
			func(c Config) any { return c.Serve.AuthTokenFile }, "/run/token"},
		{"OPS_SKILL_SERVE_BASIC_AUTH_FILE sets serve.basic_auth_file", map[string]string{"OPS_SKILL_SERVE_BASIC_AUTH_FILE": "/run/basic"},
			func(c Config) any { return c.Serve.BasicAuthFile }, "/run/basic"},
		{"OPS_SKILL_SERVE_ALLOW_ANONYMOUS sets serve.allow_anonymous", map[string]string{"OPS_SKILL_SERVE_ALLOW_ANONYMOUS": "true"},
			func(c Config) any { return c.Serve.AllowAnonymous }, true},
		{"OPS_SKILL_SERVE_MAX_BODY_BYTES sets serve.max_body_bytes", map[string]string{"OPS_SKILL_SERVE_MAX_BODY_BYTES": "2Mi"},
			func(c Config) any { return c.Serve.MaxBodyBytes }, int64(2 << 20)},
		{"OPS_SKILL_SERVE_QUEUE_SIZE sets serve.queue_size", map[string]string{"OPS_SKILL_SERVE_QUEUE_SIZE": "64"},
			func(c Config) any { return c.Serve.QueueSize }, 64},
		{"OPS_SKILL_SERVE_WORKERS sets serve.workers", map[string]string{"OPS_SKILL_SERVE_WORKERS": "4"},
			func(c Config) any { return c.Serve.Workers }, 4},
		{"OPS_SKILL_SERVE_RETRY_AFTER sets serve.retry_after", map[string]string{"OPS_SKILL_SERVE_RETRY_AFTER": "10s"},
			func(c Config) any { return c.Serve.RetryAfter }, 10 * time.Second},
		{"OPS_SKILL_SERVE_SHUTDOWN_GRACE sets serve.shutdown_grace", map[string]string{"OPS_SKILL_SERVE_SHUTDOWN_GRACE": "1m"},
			func(c Config) any { return c.Serve.ShutdownGrace }, time.Minute},
		{"OPS_SKILL_SERVE_HEALTH_LOOP sets serve.health_loop", map[string]string{"OPS_SKILL_SERVE_HEALTH_LOOP": "false"},
			func(c Config) any { return c.Serve.HealthLoop }, false},
		{"OPS_SKILL_SERVE_SCALE_PERIOD sets serve.scale_period", map[string]string{"OPS_SKILL_SERVE_SCALE_PERIOD": "30s"},
			func(c Config) any { return c.Serve.ScalePeriod }, 30 * time.Second},
		{"OPS_SKILL_SERVE_SCALE_WORKLOADS sets serve.scale_workloads", map[string]string{"OPS_SKILL_SERVE_SCALE_WORKLOADS": "backend,shop/web"},
			func(c Config) any { return c.Serve.ScaleWorkloads }, []string{"backend", "shop/web"}},
		{"OPS_SKILL_SERVE_ESCALATION_PERIOD sets serve.escalation_period", map[string]string{"OPS_SKILL_SERVE_ESCALATION_PERIOD": "0s"},
			func(c Config) any { return c.Serve.EscalationPeriod }, time.Duration(0)},
		{"OPS_SKILL_SERVE_LEDGER_TTL sets serve.ledger_ttl", map[string]string{"OPS_SKILL_SERVE_LEDGER_TTL": "36h"},
			func(c Config) any { return c.Serve.LedgerTTL }, 36 * time.Hour},
		{"OPS_SKILL_SERVE_LEADER_ELECTION sets serve.leader_election", map[string]string{"OPS_SKILL_SERVE_LEADER_ELECTION": "Lease"},
			func(c Config) any { return c.Serve.LeaderElection }, "lease"},
		{"OPS_SKILL_SERVE_LEASE_NAMESPACE sets serve.lease_namespace", map[string]string{"OPS_SKILL_SERVE_LEASE_NAMESPACE": "ops"},
			func(c Config) any { return c.Serve.LeaseNamespace }, "ops"},
		{"OPS_SKILL_SERVE_LEASE_NAME sets serve.lease_name", map[string]string{"OPS_SKILL_SERVE_LEASE_NAME": "ops-lease"},
			func(c Config) any { return c.Serve.LeaseName }, "ops-lease"},
		{"OPS_SKILL_SERVE_LEASE_DURATION sets serve.lease_duration", map[string]string{"OPS_SKILL_SERVE_LEASE_DURATION": "30s"},
			func(c Config) any { return c.Serve.LeaseDuration }, 30 * time.Second},
		{"OPS_SKILL_SERVE_RENEW_DEADLINE sets serve.renew_deadline", map[string]string{"OPS_SKILL_SERVE_RENEW_DEADLINE": "20s"},
			func(c Config) any { return c.Serve.RenewDeadline }, 20 * time.Second},
		{"OPS_SKILL_SERVE_RETRY_PERIOD sets serve.retry_period", map[string]string{"OPS_SKILL_SERVE_RETRY_PERIOD": "4s"},
			func(c Config) any { return c.Serve.RetryPeriod }, 4 * time.Second},
		{"OPS_SKILL_SERVE_IDENTITY sets serve.identity", map[string]string{"OPS_SKILL_SERVE_IDENTITY": "replica-a"},
			func(c Config) any { return c.Serve.Identity }, "replica-a"},
		{"OPS_SKILL_SERVE_LOG_LEVEL sets serve.log_level", map[string]string{"OPS_SKILL_SERVE_LOG_LEVEL": "debug"},
			func(c Config) any { return c.Serve.LogLevel }, "debug"},
		{"LLM_ENDPOINT sets llm.endpoint", map[string]string{"LLM_ENDPOINT": "Coding"},
			func(c Config) any { return c.LLM.Endpoint }, "coding"},
		{"LLM_REASONING_EFFORT sets llm.reasoning_effort", map[string]string{"LLM_REASONING_EFFORT": "low"},
			func(c Config) any { return c.LLM.ReasoningEffort }, "low"},
		{"LLM_HEADERS sets llm.headers, commas of a value kept", map[string]string{"LLM_HEADERS": "anthropic-beta: a,b, x-team: sre"},
			func(c Config) any { return c.LLM.Headers }, []string{"anthropic-beta: a,b", "x-team: sre"}},
		{"LLM_TIMEOUT sets llm.timeout", map[string]string{"LLM_TIMEOUT": "3m"},
			func(c Config) any { return c.LLM.Timeout }, 3 * time.Minute},
		{"LLM_ATTEMPT_TIMEOUT sets llm.attempt_timeout", map[string]string{"LLM_ATTEMPT_TIMEOUT": "30s"},
			func(c Config) any { return c.LLM.AttemptTimeout }, 30 * time.Second},
		{"XDG_STATE_HOME places the default state dir", map[string]string{"XDG_STATE_HOME": "/xdg/state"},
			func(c Config) any { return c.StateDir }, "/xdg/state/ops-skill"},
		{"a relative XDG_STATE_HOME is ignored", map[string]string{"XDG_STATE_HOME": "rel", "HOME": "/h"},
			func(c Config) any { return c.StateDir }, "/h/.local/state/ops-skill"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, homeEnv(t, tt.env), "")
			if got := tt.get(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
		for k := range tt.env {
			covered[k] = true
		}
	}
	for _, f := range fields() {
		if f.env != "" && !covered[f.env] {
			t.Errorf("environment variable %s has no test", f.env)
		}
	}
}

func TestLoadExpandsTildeFromInjectedHome(t *testing.T) {
	env := map[string]string{"HOME": "/home/op", "KUBECONFIG": "~/.kube/config:~/other", "OPS_SKILL_STATE_DIR": "~/state"}
	cfg := mustLoad(t, env, "")
	if cfg.Kubernetes.Kubeconfig != "/home/op/.kube/config:/home/op/other" {
		t.Errorf("Kubeconfig = %q", cfg.Kubernetes.Kubeconfig)
	}
	if cfg.StateDir != "/home/op/state" {
		t.Errorf("StateDir = %q", cfg.StateDir)
	}
}

func TestLoadWithEmptyEnvironmentGivesDefaults(t *testing.T) {
	cfg := mustLoad(t, homeEnv(t, nil), "")
	want := Defaults()
	want.StateDir = cfg.StateDir
	want.Kubernetes.AllowedNamespaces = []string{"ai-data-labs"}
	if !reflect.DeepEqual(cfg.AutoScaling, want.AutoScaling) || !reflect.DeepEqual(cfg.SelfHealing, want.SelfHealing) ||
		!reflect.DeepEqual(cfg.Kubernetes, want.Kubernetes) || cfg.Storage != want.Storage ||
		cfg.LLM.MaxIterations != 6 || cfg.LLM.Timeout != 2*time.Minute || cfg.LLM.AttemptTimeout != 90*time.Second || cfg.Alerting != want.Alerting || cfg.Agent != want.Agent {
		t.Errorf("Load() = %+v\nwant %+v", cfg.Redacted(), want.Redacted())
	}
	if cfg.SelfHealing.MemoryCeiling != 16<<30 || cfg.Storage.MaxBytesPerRun != 500_000_000_000 {
		t.Errorf("sizes = %d, %d", cfg.SelfHealing.MemoryCeiling, cfg.Storage.MaxBytesPerRun)
	}
}

func TestLoadWithNilEnvReadsNothingFromTheProcess(t *testing.T) {
	t.Setenv("NAMESPACE", "from-process")
	cfg, err := Load(LoadOptions{ConfigFile: emptyConfigFile(t)})
	// With no HOME the state dir cannot be derived: the error names it.
	requireKeyError(t, err, "state_dir", "OPS_SKILL_STATE_DIR")
	if cfg.Kubernetes.Namespace != "ai-data-labs" {
		t.Errorf("namespace %q leaked from the process environment", cfg.Kubernetes.Namespace)
	}
}

// emptyConfigFile returns a path to an empty config file, so Load does not look
// for a default file.
func emptyConfigFile(t *testing.T) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "empty.yaml", "")
}
