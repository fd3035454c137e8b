// Package config builds the typed configuration of ops-skill from, in order of
// precedence, command-line flags, environment variables, the threshold
// overrides written by --update-threshold, the YAML skill configuration file and
// built-in defaults.
//
// It is the only package of the project that imports viper. Each Load uses a
// fresh viper instance; the environment is injected (the application passes
// os.LookupEnv, tests pass a map), so nothing here reads process-global state.
//
// Every value is parsed by this package, so a malformed value, an unknown key or
// an inconsistent policy fails with a *ValidationError that names the YAML key,
// the environment variable and the fix; all such errors satisfy
// errors.Is(err, ErrInvalid).
//
// Load records where each value came from (Config.Source: default, file,
// override, env or flag) and which files it read (Config.Files); the
// composition root adds the kubeconfig context's namespace with
// Config.UseKubeconfigNamespace (or any value with Config.SetFrom), and Show
// prints it all.
//
// Secrets (API keys, the alert webhook) are held in the Secret type, which never
// prints its value; URLs and the ClickHouse DSN are masked whenever the
// configuration is displayed (Show, Redacted, fmt, JSON and YAML marshalling).
package config

import (
	"fmt"
	"time"
)

// Config is the effective configuration of one ops-skill run.
type Config struct {
	Monitoring  Monitoring  `yaml:"monitoring" mapstructure:"monitoring"`
	Kubernetes  Kubernetes  `yaml:"kubernetes" mapstructure:"kubernetes"`
	AutoScaling AutoScaling `yaml:"auto_scaling" mapstructure:"auto_scaling"`
	SelfHealing SelfHealing `yaml:"self_healing" mapstructure:"self_healing"`
	Cloud       Cloud       `yaml:"cloud" mapstructure:"cloud"`
	LLM         LLM         `yaml:"llm" mapstructure:"llm"`
	Alerting    Alerting    `yaml:"alerting" mapstructure:"alerting"`
	Storage     Storage     `yaml:"storage" mapstructure:"storage"`
	Agent       Agent       `yaml:"agent" mapstructure:"agent"`
	Serve       Serve       `yaml:"serve" mapstructure:"serve"`
	// StateDir holds the history database and thresholds.yaml
	// (env OPS_SKILL_STATE_DIR, flag --state-dir; default $XDG_STATE_HOME/ops-skill,
	// falling back to ~/.local/state/ops-skill).
	StateDir string `yaml:"state_dir" mapstructure:"state_dir"`

	prov provenance // where each value came from (Source, Files)
}

// Monitoring locates the metrics and dashboard services and the alert sink.
type Monitoring struct {
	PrometheusURL string `yaml:"prometheus" mapstructure:"prometheus"`       // PROMETHEUS_URL
	GrafanaURL    string `yaml:"grafana" mapstructure:"grafana"`             // GRAFANA_URL
	AlertWebhook  Secret `yaml:"alert_webhook" mapstructure:"alert_webhook"` // ALERT_WEBHOOK
	GrafanaToken  Secret `yaml:"grafana_token" mapstructure:"grafana_token"` // GRAFANA_TOKEN: annotations of each write
}

// Kubernetes selects the cluster and the namespaces ops-skill may act in.
type Kubernetes struct {
	Kubeconfig string `yaml:"config" mapstructure:"config"`       // KUBECONFIG, --kubeconfig
	Namespace  string `yaml:"namespace" mapstructure:"namespace"` // NAMESPACE, --namespace
	Context    string `yaml:"context" mapstructure:"context"`     // --context
	// AllowedNamespaces is the namespace allowlist; it defaults to [Namespace].
	AllowedNamespaces []string `yaml:"allowed_namespaces" mapstructure:"allowed_namespaces"`
}

// Cloud selects the cloud provider API.
type Cloud struct {
	Provider string `yaml:"provider" mapstructure:"provider"` // CLOUD_PROVIDER: digitalocean, aws, gcp or empty
	APIKey   Secret `yaml:"api_key" mapstructure:"api_key"`   // CLOUD_API_KEY
}

// AutoScaling holds the scaling policy: thresholds are CPU or error-rate
// percentages, durations are the sustained windows, steps are replica deltas.
type AutoScaling struct {
	Enabled            bool          `yaml:"enabled" mapstructure:"enabled"`                       // AUTO_SCALE_ENABLED
	ScaleUpThreshold   float64       `yaml:"scale_up_threshold" mapstructure:"scale_up_threshold"` // SCALE_UP_THRESHOLD
	ScaleUpDuration    time.Duration `yaml:"scale_up_duration" mapstructure:"scale_up_duration"`
	ScaleUpStep        int32         `yaml:"scale_up_step" mapstructure:"scale_up_step"`
	ScaleDownThreshold float64       `yaml:"scale_down_threshold" mapstructure:"scale_down_threshold"` // SCALE_DOWN_THRESHOLD
	ScaleDownDuration  time.Duration `yaml:"scale_down_duration" mapstructure:"scale_down_duration"`
	ScaleDownStep      int32         `yaml:"scale_down_step" mapstructure:"scale_down_step"`
	ErrorRateThreshold float64       `yaml:"error_rate_threshold" mapstructure:"error_rate_threshold"`
	ErrorRateDuration  time.Duration `yaml:"error_rate_duration" mapstructure:"error_rate_duration"`
	ErrorRateStep      int32         `yaml:"error_rate_step" mapstructure:"error_rate_step"`
	MinReplicas        int32         `yaml:"min_replicas" mapstructure:"min_replicas"` // MIN_REPLICAS
	MaxReplicas        int32         `yaml:"max_replicas" mapstructure:"max_replicas"` // MAX_REPLICAS
	// OptOutAnnotation, when present on a workload, excludes it from scaling.
	OptOutAnnotation string `yaml:"opt_out_annotation" mapstructure:"opt_out_annotation"`
}

// SelfHealing holds the restart / replace / memory-raise ladder.
type SelfHealing struct {
	Enabled              bool          `yaml:"enabled" mapstructure:"enabled"`                             // SELF_HEAL_ENABLED
	HealthCheckInterval  time.Duration `yaml:"health_check_interval" mapstructure:"health_check_interval"` // HEALTH_CHECK_INTERVAL
	RestartThreshold     int           `yaml:"restart_threshold" mapstructure:"restart_threshold"`         // RESTART_THRESHOLD
	ReplacementThreshold int           `yaml:"replacement_threshold" mapstructure:"replacement_threshold"` // REPLACEMENT_THRESHOLD
	RestartBudgetPerHour int           `yaml:"restart_budget_per_hour" mapstructure:"restart_budget_per_hour"`
	MemoryRaiseMaxFactor float64       `yaml:"memory_raise_max_factor" mapstructure:"memory_raise_max_factor"`
	// MemoryCeiling is the highest memory limit a raise may set, in bytes.
	// YAML accepts Kubernetes quantities such as "16Gi" or "8G".
	MemoryCeiling int64 `yaml:"memory_ceiling" mapstructure:"memory_ceiling"`
}

// Storage holds the ClickHouse connection and the partition retention policy.
type Storage struct {
	// ClickHouseURL is a DSN (CLICKHOUSE_URL) that may carry a password; it is
	// masked whenever the configuration is displayed.
	ClickHouseURL       string `yaml:"clickhouse_url" mapstructure:"clickhouse_url"`
	RetentionDays       int    `yaml:"retention_days" mapstructure:"retention_days"`
	MinPartitions       int    `yaml:"min_partitions" mapstructure:"min_partitions"`
	MaxPartitionsPerRun int    `yaml:"max_partitions_per_run" mapstructure:"max_partitions_per_run"`
	// MaxBytesPerRun caps the bytes dropped per run; YAML accepts quantities ("500G").
	MaxBytesPerRun int64 `yaml:"max_bytes_per_run" mapstructure:"max_bytes_per_run"`
}

// LLM selects the model used by the llm planner. An empty Provider means no
// model is configured and the rules planner is used.
type LLM struct {
	Provider      string        `yaml:"provider" mapstructure:"provider"` // LLM_PROVIDER: claude, openai, zai or empty
	Model         string        `yaml:"model" mapstructure:"model"`       // LLM_MODEL
	APIKey        Secret        `yaml:"api_key" mapstructure:"api_key"`   // LLM_API_KEY
	BaseURL       string        `yaml:"base_url" mapstructure:"base_url"` // LLM_BASE_URL
	MaxIterations int           `yaml:"max_iterations" mapstructure:"max_iterations"`
	TokenBudget   int           `yaml:"token_budget" mapstructure:"token_budget"`
	Timeout       time.Duration `yaml:"timeout" mapstructure:"timeout"`
}

// Alerting holds the notification and escalation policy.
type Alerting struct {
	Enabled         bool          `yaml:"enabled" mapstructure:"enabled"`                   // ALERT_ENABLED
	Cooldown        time.Duration `yaml:"cooldown" mapstructure:"cooldown"`                 // ALERT_COOLDOWN
	EscalationHours float64       `yaml:"escalation_hours" mapstructure:"escalation_hours"` // ESCALATION_HOURS
	// GenericWebhook receives the incident as JSON (GENERIC_WEBHOOK_URL).
	GenericWebhook Secret `yaml:"generic_webhook" mapstructure:"generic_webhook"`
	// PagerDutyRoutingKey pages on escalation (PAGERDUTY_ROUTING_KEY).
	PagerDutyRoutingKey Secret `yaml:"pagerduty_routing_key" mapstructure:"pagerduty_routing_key"`
	// PagerDutyURL is the Events API base (PAGERDUTY_URL); empty means PagerDuty's own.
	PagerDutyURL string `yaml:"pagerduty_url" mapstructure:"pagerduty_url"`
	// NotifyDeadline bounds the delivery of one notification, retries included (NOTIFY_DEADLINE).
	NotifyDeadline time.Duration `yaml:"notify_deadline" mapstructure:"notify_deadline"`
}

// Agent holds how the agent acts: its write mode, planner and write cap.
type Agent struct {
	Mode      string `yaml:"mode" mapstructure:"mode"`             // OPS_SKILL_MODE, --mode: observe, approve, auto
	Planner   string `yaml:"planner" mapstructure:"planner"`       // OPS_SKILL_PLANNER, --planner: auto, llm, rules
	MaxWrites int    `yaml:"max_writes" mapstructure:"max_writes"` // write actions allowed per run
}

// Serve is the configuration of `ops-skill serve`: the receiver, its loops
// and the leader election. Each key is also a flag of serve and an
// OPS_SKILL_SERVE_* variable. Credentials come from files, never values.
type Serve struct {
	Listen           string        `yaml:"listen" mapstructure:"listen"`
	AuthTokenFile    string        `yaml:"auth_token_file" mapstructure:"auth_token_file"`
	BasicAuthFile    string        `yaml:"basic_auth_file" mapstructure:"basic_auth_file"`
	AllowAnonymous   bool          `yaml:"allow_anonymous" mapstructure:"allow_anonymous"`
	MaxBodyBytes     int64         `yaml:"max_body_bytes" mapstructure:"max_body_bytes"`
	QueueSize        int           `yaml:"queue_size" mapstructure:"queue_size"`
	Workers          int           `yaml:"workers" mapstructure:"workers"`
	RetryAfter       time.Duration `yaml:"retry_after" mapstructure:"retry_after"`
	ShutdownGrace    time.Duration `yaml:"shutdown_grace" mapstructure:"shutdown_grace"`
	HealthLoop       bool          `yaml:"health_loop" mapstructure:"health_loop"`
	ScalePeriod      time.Duration `yaml:"scale_period" mapstructure:"scale_period"`
	ScaleWorkloads   []string      `yaml:"scale_workloads" mapstructure:"scale_workloads"`
	EscalationPeriod time.Duration `yaml:"escalation_period" mapstructure:"escalation_period"`
	LeaderElection   string        `yaml:"leader_election" mapstructure:"leader_election"` // auto, lease or none
	LeaseNamespace   string        `yaml:"lease_namespace" mapstructure:"lease_namespace"`
	LeaseName        string        `yaml:"lease_name" mapstructure:"lease_name"`
	LeaseDuration    time.Duration `yaml:"lease_duration" mapstructure:"lease_duration"`
	RenewDeadline    time.Duration `yaml:"renew_deadline" mapstructure:"renew_deadline"`
	RetryPeriod      time.Duration `yaml:"retry_period" mapstructure:"retry_period"`
	Identity         string        `yaml:"identity" mapstructure:"identity"`
	LogLevel         string        `yaml:"log_level" mapstructure:"log_level"` // debug, info, warn, error
}

// Leader election modes of Serve.LeaderElection.
const (
	LeaderElectionAuto  = "auto"  // a Lease when acting on a real cluster, alone under --simulate
	LeaderElectionLease = "lease" // a Lease, also under --simulate
	LeaderElectionNone  = "none"  // this instance leads alone
)

// Agent modes.
const (
	ModeObserve = "observe"
	ModeApprove = "approve"
	ModeAuto    = "auto"
)

// Planner choices.
const (
	PlannerAuto  = "auto"
	PlannerLLM   = "llm"
	PlannerRules = "rules"
)

// LLM providers.
const (
	ProviderClaude = "claude"
	ProviderOpenAI = "openai"
	ProviderZAI    = "zai"
)

// Size units used by defaults.
const (
	gibibyte = int64(1) << 30
	gigabyte = int64(1_000_000_000)
)

// Defaults returns the built-in configuration. StateDir is left empty: Load
// derives it from XDG_STATE_HOME or HOME, and AllowedNamespaces is derived from
// Namespace.
func Defaults() Config {
	return Config{
		Kubernetes: Kubernetes{Namespace: "ai-data-labs"},
		AutoScaling: AutoScaling{
			Enabled:          true,
			ScaleUpThreshold: 80, ScaleUpDuration: 5 * time.Minute, ScaleUpStep: 1,
			ScaleDownThreshold: 30, ScaleDownDuration: 15 * time.Minute, ScaleDownStep: 1,
			ErrorRateThreshold: 10, ErrorRateDuration: 2 * time.Minute, ErrorRateStep: 2,
			MinReplicas: 2, MaxReplicas: 10,
			OptOutAnnotation: "ops-skill.io/disabled",
		},
		SelfHealing: SelfHealing{
			Enabled:              true,
			HealthCheckInterval:  30 * time.Second,
			RestartThreshold:     3,
			ReplacementThreshold: 5,
			RestartBudgetPerHour: 3,
			MemoryRaiseMaxFactor: 2,
			MemoryCeiling:        16 * gibibyte,
		},
		Storage: Storage{
			RetentionDays: 90, MinPartitions: 3, MaxPartitionsPerRun: 50,
			MaxBytesPerRun: 500 * gigabyte,
		},
		LLM:      LLM{MaxIterations: 6, TokenBudget: 60000, Timeout: 60 * time.Second},
		Alerting: Alerting{Enabled: true, Cooldown: 5 * time.Minute, EscalationHours: 1, NotifyDeadline: 20 * time.Second},
		Agent:    Agent{Mode: ModeAuto, Planner: PlannerAuto, MaxWrites: 5},
		Serve: Serve{Listen: "127.0.0.1:9095", MaxBodyBytes: 1 << 20, QueueSize: 256, Workers: 2, RetryAfter: 5 * time.Second,
			ShutdownGrace: 30 * time.Second, HealthLoop: true, ScalePeriod: time.Minute, EscalationPeriod: time.Minute,
			LeaderElection: LeaderElectionAuto, LeaseName: "ops-skill-serve", LeaseDuration: 15 * time.Second,
			RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second, LogLevel: "info"},
	}
}

// EscalationAfter returns Alerting.EscalationHours as a duration.
func (a Alerting) EscalationAfter() time.Duration {
	return time.Duration(a.EscalationHours * float64(time.Hour))
}

// Secret is a string that never reveals its value when printed or marshalled:
// it renders as "***" when set and "" when empty. Adapters call Reveal.
type Secret string

const masked = "***"

// Reveal returns the secret value. Call it only where the value is sent to the
// service it authenticates against.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

// String returns "***" when set and "" when empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q, %x…)
// prints the masked form.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	_, _ = f.Write([]byte(s.String()))
}

// MarshalJSON encodes the masked form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", s.String())), nil }

// MarshalYAML encodes the masked form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalText encodes the masked form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
