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

	"github.com/duet-company/ops-skill/internal/llm/provider"
)

// Config is the effective configuration of one ops-skill run.
//
// The struct tags are the one declaration of every configuration key (read
// by describe, in declare.go): yaml is the key under operations: (section.name), env the
// environment variable, flag the command-line flag, alias the short name
// accepted by --update-threshold, example the value error messages suggest,
// and config a list of options: override (may be set by --update-threshold),
// percent (accepts a trailing %), enum (lower-cased), url (credentials masked
// when displayed), bytes (accepts quantities such as 16Gi) and unused
// (accepted and validated, but no tool reads it yet; config show says so).
// Secret fields are always masked. Defaults come from Defaults.
type Config struct {
	Monitoring  Monitoring  `yaml:"monitoring"`
	Kubernetes  Kubernetes  `yaml:"kubernetes"`
	AutoScaling AutoScaling `yaml:"auto_scaling"`
	SelfHealing SelfHealing `yaml:"self_healing"`
	Cloud       Cloud       `yaml:"cloud"`
	LLM         LLM         `yaml:"llm"`
	Alerting    Alerting    `yaml:"alerting"`
	Storage     Storage     `yaml:"storage"`
	Agent       Agent       `yaml:"agent"`
	Serve       Serve       `yaml:"serve"`
	// StateDir holds the history database and thresholds.yaml (default
	// $XDG_STATE_HOME/ops-skill, falling back to ~/.local/state/ops-skill).
	StateDir string `yaml:"state_dir" env:"OPS_SKILL_STATE_DIR" flag:"state-dir" example:"~/.local/state/ops-skill"`
	// Store is where the history lives: empty for the SQLite file
	// history.db in StateDir, a path for another SQLite file, or a
	// postgres:// (postgresql://) URL for a PostgreSQL database that
	// replicas share. Its password is masked whenever it is displayed.
	Store string `yaml:"store" env:"OPS_SKILL_STORE_URL" flag:"store" example:"postgres://ops-skill@db:5432/ops?sslmode=require" config:"url"`

	prov provenance // where each value came from (Source, Files)
}

// Monitoring locates the metrics and dashboard services and the alert sink.
type Monitoring struct {
	PrometheusURL string `yaml:"prometheus" env:"PROMETHEUS_URL" example:"http://prometheus:9090" config:"url"`
	GrafanaURL    string `yaml:"grafana" env:"GRAFANA_URL" example:"http://grafana:3000" config:"url"`
	AlertWebhook  Secret `yaml:"alert_webhook" env:"ALERT_WEBHOOK" example:"https://hooks.slack.com/services/…"`
	// GrafanaToken authenticates the annotations of each write.
	GrafanaToken Secret `yaml:"grafana_token" env:"GRAFANA_TOKEN" example:"glsa_…"`
}

// Kubernetes selects the cluster and the namespaces ops-skill may act in.
type Kubernetes struct {
	Kubeconfig string `yaml:"config" env:"KUBECONFIG" flag:"kubeconfig" example:"~/.kube/config"`
	Namespace  string `yaml:"namespace" env:"NAMESPACE" flag:"namespace" example:"ai-data-labs"`
	Context    string `yaml:"context" flag:"context" example:"prod"`
	// Cluster names the cluster in a pod, where there is no kubeconfig
	// context: the history's records (their env), the fleet view's
	// --cluster and every "cluster …" line use it instead of "in-cluster",
	// so that the clusters sharing one store tell their records apart. A
	// kubeconfig context names itself and ignores it.
	Cluster string `yaml:"cluster" env:"OPS_SKILL_CLUSTER" example:"prod-eu"`
	// AllowedNamespaces is the namespace allowlist; it defaults to [Namespace].
	AllowedNamespaces []string `yaml:"allowed_namespaces" example:"[ai-data-labs, staging]"`
}

// Cloud selects the cloud provider API.
type Cloud struct {
	Provider string `yaml:"provider" env:"CLOUD_PROVIDER" example:"digitalocean" config:"enum,unused"` // digitalocean, aws, gcp or empty
	APIKey   Secret `yaml:"api_key" env:"CLOUD_API_KEY" example:"…" config:"unused"`
}

// AutoScaling holds the scaling policy: thresholds are CPU or error-rate
// percentages, durations are the sustained windows, steps are replica deltas.
type AutoScaling struct {
	Enabled            bool          `yaml:"enabled" env:"AUTO_SCALE_ENABLED" example:"true"`
	ScaleUpThreshold   float64       `yaml:"scale_up_threshold" env:"SCALE_UP_THRESHOLD" alias:"scale_up.cpu" example:"80" config:"override,percent"`
	ScaleUpDuration    time.Duration `yaml:"scale_up_duration" alias:"scale_up.duration" example:"5m" config:"override"`
	ScaleUpStep        int32         `yaml:"scale_up_step" alias:"scale_up.step" example:"1" config:"override"`
	ScaleDownThreshold float64       `yaml:"scale_down_threshold" env:"SCALE_DOWN_THRESHOLD" alias:"scale_down.cpu" example:"30" config:"override,percent"`
	ScaleDownDuration  time.Duration `yaml:"scale_down_duration" alias:"scale_down.duration" example:"15m" config:"override"`
	ScaleDownStep      int32         `yaml:"scale_down_step" alias:"scale_down.step" example:"1" config:"override"`
	ErrorRateThreshold float64       `yaml:"error_rate_threshold" alias:"scale_out.error_rate" example:"10" config:"override,percent"`
	ErrorRateDuration  time.Duration `yaml:"error_rate_duration" alias:"scale_out.duration" example:"2m" config:"override"`
	ErrorRateStep      int32         `yaml:"error_rate_step" alias:"scale_out.step" example:"2" config:"override"`
	MinReplicas        int32         `yaml:"min_replicas" env:"MIN_REPLICAS" alias:"min_replicas" example:"2" config:"override"`
	MaxReplicas        int32         `yaml:"max_replicas" env:"MAX_REPLICAS" alias:"max_replicas" example:"10" config:"override"`
	// OptOutAnnotation, when present on a workload, excludes it from scaling.
	OptOutAnnotation string `yaml:"opt_out_annotation" example:"ops-skill.io/disabled"`
}

// SelfHealing holds the restart / replace / memory-raise ladder.
type SelfHealing struct {
	Enabled             bool          `yaml:"enabled" env:"SELF_HEAL_ENABLED" example:"true"`
	HealthCheckInterval time.Duration `yaml:"health_check_interval" env:"HEALTH_CHECK_INTERVAL" example:"30s"`
	// HealthMatrixFile, when set, is a YAML file with the health matrix
	// (the format of `ops-skill health --matrix`) used instead of the
	// default one, whose in-cluster names resolve only inside the cluster.
	HealthMatrixFile     string  `yaml:"health_matrix_file" env:"HEALTH_MATRIX_FILE" example:"/etc/ops-skill/health-matrix.yaml"`
	RestartThreshold     int     `yaml:"restart_threshold" env:"RESTART_THRESHOLD" example:"3" config:"override"`
	ReplacementThreshold int     `yaml:"replacement_threshold" env:"REPLACEMENT_THRESHOLD" example:"5" config:"override"`
	RestartBudgetPerHour int     `yaml:"restart_budget_per_hour" example:"3"`
	MemoryRaiseMaxFactor float64 `yaml:"memory_raise_max_factor" example:"2"`
	// MemoryCeiling is the highest memory limit a raise may set, in bytes.
	// YAML accepts Kubernetes quantities such as "16Gi" or "8G".
	MemoryCeiling int64 `yaml:"memory_ceiling" example:"16Gi" config:"bytes"`
}

// Storage holds the ClickHouse connection, the partition retention policy and
// the bounds of a volume expansion.
type Storage struct {
	// ClickHouseURL is a DSN that may carry a password; it is masked whenever
	// the configuration is displayed.
	ClickHouseURL string `yaml:"clickhouse_url" env:"CLICKHOUSE_URL" example:"clickhouse://user:password@clickhouse:9000/default" config:"url"`
	// ClickHouseWorkload is the workload whose volume is ClickHouse's: only
	// its disk alerts may drop partitions.
	ClickHouseWorkload  string `yaml:"clickhouse_workload" env:"CLICKHOUSE_WORKLOAD" example:"clickhouse"`
	RetentionDays       int    `yaml:"retention_days" example:"90" config:"override"`
	MinPartitions       int    `yaml:"min_partitions" example:"3"`
	MaxPartitionsPerRun int    `yaml:"max_partitions_per_run" example:"50"`
	// MaxBytesPerRun caps the bytes dropped per run; YAML accepts quantities ("500G").
	MaxBytesPerRun int64 `yaml:"max_bytes_per_run" example:"500G" config:"bytes"`
	// VolumeMaxGrowthFactor bounds an expansion of a PersistentVolumeClaim
	// (expandVolume) to this multiple of its size before the incident's first
	// expansion.
	VolumeMaxGrowthFactor float64 `yaml:"volume_max_growth_factor" env:"VOLUME_MAX_GROWTH_FACTOR" example:"1.5"`
	// VolumeCeiling is the largest size an expansion may set, in bytes.
	VolumeCeiling int64 `yaml:"volume_ceiling" env:"VOLUME_CEILING" example:"1Ti" config:"bytes"`
}

// LLM selects the model used by the llm planner. An empty Provider means no
// model is configured and the rules planner is used.
type LLM struct {
	Provider string `yaml:"provider" env:"LLM_PROVIDER" example:"claude" config:"enum"` // claude, openai, zai, ollama, vllm or empty
	Model    string `yaml:"model" env:"LLM_MODEL" example:"claude-sonnet-5-5"`
	APIKey   Secret `yaml:"api_key" env:"LLM_API_KEY" example:"…"`
	BaseURL  string `yaml:"base_url" env:"LLM_BASE_URL" example:"http://localhost:11434/v1" config:"url"`
	// Endpoint picks one of the provider's endpoints by name (Z.ai:
	// international, coding, mainland); LLM_BASE_URL overrides it.
	Endpoint string `yaml:"endpoint" env:"LLM_ENDPOINT" example:"coding" config:"enum"`
	// ReasoningEffort asks a reasoning model to think less or more: none,
	// minimal, low, medium, high; empty: the provider's default.
	ReasoningEffort string `yaml:"reasoning_effort" env:"LLM_REASONING_EFFORT" example:"low" config:"enum"`
	// Headers are extra request headers, each "Name: value" (e.g.
	// Anthropic's workspace header); values are shown masked.
	Headers       []string `yaml:"headers" env:"LLM_HEADERS" example:"anthropic-beta: context-1m" config:"headers"`
	MaxIterations int      `yaml:"max_iterations" example:"6"`
	// MaxTokens bounds each reply; models that think before they answer
	// need room for it (a reply cut at the limit is a planner failure).
	MaxTokens   int `yaml:"max_tokens" env:"LLM_MAX_TOKENS" example:"8192"`
	TokenBudget int `yaml:"token_budget" example:"60000"`
	// Timeout bounds one planner call, every attempt and retry included.
	Timeout time.Duration `yaml:"timeout" env:"LLM_TIMEOUT" example:"120s"`
	// AttemptTimeout bounds one HTTP attempt of a call.
	AttemptTimeout time.Duration `yaml:"attempt_timeout" env:"LLM_ATTEMPT_TIMEOUT" example:"90s"`
}

// Alerting holds the notification and escalation policy.
type Alerting struct {
	Enabled         bool          `yaml:"enabled" env:"ALERT_ENABLED" example:"true"`
	Cooldown        time.Duration `yaml:"cooldown" env:"ALERT_COOLDOWN" example:"5m" config:"override"`
	EscalationHours float64       `yaml:"escalation_hours" env:"ESCALATION_HOURS" example:"1" config:"override"`
	// GenericWebhook receives the incident as JSON.
	GenericWebhook Secret `yaml:"generic_webhook" env:"GENERIC_WEBHOOK_URL" example:"https://chat.example/hooks/…"`
	// PagerDutyRoutingKey pages on escalation.
	PagerDutyRoutingKey Secret `yaml:"pagerduty_routing_key" env:"PAGERDUTY_ROUTING_KEY" example:"R0UT1NGK3Y…"`
	// PagerDutyURL is the Events API base; empty means PagerDuty's own.
	PagerDutyURL string `yaml:"pagerduty_url" env:"PAGERDUTY_URL" example:"https://events.pagerduty.com" config:"url"`
	// NotifyDeadline bounds the delivery of one notification, retries included.
	NotifyDeadline time.Duration `yaml:"notify_deadline" env:"NOTIFY_DEADLINE" example:"1m"`
}

// Agent holds how the agent acts: its write mode, planner and write cap.
type Agent struct {
	Mode      string `yaml:"mode" env:"OPS_SKILL_MODE" flag:"mode" example:"auto" config:"enum"`          // observe, approve, auto
	Planner   string `yaml:"planner" env:"OPS_SKILL_PLANNER" flag:"planner" example:"auto" config:"enum"` // auto, llm, rules
	MaxWrites int    `yaml:"max_writes" example:"5"`                                                      // write actions allowed per run
	// RunTimeout bounds a whole run (an alert or a chat request): planner
	// turns, tools, the settle wait and verification together.
	RunTimeout time.Duration `yaml:"run_timeout" env:"OPS_SKILL_RUN_TIMEOUT" example:"15m"`
}

// Serve is the configuration of `ops-skill serve`: the receiver, its loops
// and the leader election. Each key is also an OPS_SKILL_SERVE_* variable
// and, but for health_loop, a flag of serve. Credentials come from files,
// never values.
type Serve struct {
	Listen           string        `yaml:"listen" env:"OPS_SKILL_SERVE_LISTEN" flag:"listen" example:"127.0.0.1:9095"`
	AuthTokenFile    string        `yaml:"auth_token_file" env:"OPS_SKILL_SERVE_AUTH_TOKEN_FILE" flag:"auth-token-file" example:"/var/run/secrets/ops-skill/token"`
	BasicAuthFile    string        `yaml:"basic_auth_file" env:"OPS_SKILL_SERVE_BASIC_AUTH_FILE" flag:"basic-auth-file" example:"/var/run/secrets/ops-skill/basic-auth"`
	AllowAnonymous   bool          `yaml:"allow_anonymous" env:"OPS_SKILL_SERVE_ALLOW_ANONYMOUS" flag:"allow-anonymous" example:"false"`
	MaxBodyBytes     int64         `yaml:"max_body_bytes" env:"OPS_SKILL_SERVE_MAX_BODY_BYTES" flag:"max-body-bytes" example:"1Mi" config:"bytes"`
	QueueSize        int           `yaml:"queue_size" env:"OPS_SKILL_SERVE_QUEUE_SIZE" flag:"queue-size" example:"256"`
	Workers          int           `yaml:"workers" env:"OPS_SKILL_SERVE_WORKERS" flag:"workers" example:"2"`
	RetryAfter       time.Duration `yaml:"retry_after" env:"OPS_SKILL_SERVE_RETRY_AFTER" flag:"retry-after" example:"5s"`
	ShutdownGrace    time.Duration `yaml:"shutdown_grace" env:"OPS_SKILL_SERVE_SHUTDOWN_GRACE" flag:"shutdown-grace" example:"30s"`
	HealthLoop       bool          `yaml:"health_loop" env:"OPS_SKILL_SERVE_HEALTH_LOOP" example:"true"`
	ScalePeriod      time.Duration `yaml:"scale_period" env:"OPS_SKILL_SERVE_SCALE_PERIOD" flag:"scale-period" example:"1m"`
	ScaleWorkloads   []string      `yaml:"scale_workloads" env:"OPS_SKILL_SERVE_SCALE_WORKLOADS" flag:"scale-workload" example:"[ai-data-labs/backend, frontend]"`
	EscalationPeriod time.Duration `yaml:"escalation_period" env:"OPS_SKILL_SERVE_ESCALATION_PERIOD" flag:"escalation-period" example:"1m"`
	// LedgerTTL is how long the delivery ledger remembers a delivery after its
	// run (deliveries of alerts still firing are kept); then it is pruned.
	LedgerTTL      time.Duration `yaml:"ledger_ttl" env:"OPS_SKILL_SERVE_LEDGER_TTL" flag:"ledger-ttl" example:"24h"`
	LeaderElection string        `yaml:"leader_election" env:"OPS_SKILL_SERVE_LEADER_ELECTION" flag:"leader-election" example:"auto" config:"enum"` // auto, lease or none
	LeaseNamespace string        `yaml:"lease_namespace" env:"OPS_SKILL_SERVE_LEASE_NAMESPACE" flag:"lease-namespace" example:"ai-data-labs"`
	LeaseName      string        `yaml:"lease_name" env:"OPS_SKILL_SERVE_LEASE_NAME" flag:"lease-name" example:"ops-skill-serve"`
	LeaseDuration  time.Duration `yaml:"lease_duration" env:"OPS_SKILL_SERVE_LEASE_DURATION" flag:"lease-duration" example:"15s"`
	RenewDeadline  time.Duration `yaml:"renew_deadline" env:"OPS_SKILL_SERVE_RENEW_DEADLINE" flag:"renew-deadline" example:"10s"`
	RetryPeriod    time.Duration `yaml:"retry_period" env:"OPS_SKILL_SERVE_RETRY_PERIOD" flag:"retry-period" example:"2s"`
	Identity       string        `yaml:"identity" env:"OPS_SKILL_SERVE_IDENTITY" flag:"identity" example:"ops-skill-0"`
	LogLevel       string        `yaml:"log_level" env:"OPS_SKILL_SERVE_LOG_LEVEL" flag:"log-level" example:"info" config:"enum"` // debug, info, warn, error
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

// LLM providers (the table is internal/llm/provider).
const (
	ProviderClaude = string(provider.Claude)
	ProviderOpenAI = string(provider.OpenAI)
	ProviderZAI    = string(provider.ZAI)
	ProviderOllama = string(provider.Ollama)
	ProviderVLLM   = string(provider.VLLM)
)

// Reasoning efforts of llm.reasoning_effort.
var reasoningEfforts = []string{"none", "minimal", "low", "medium", "high"}

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
			ClickHouseWorkload: "clickhouse", RetentionDays: 90, MinPartitions: 3, MaxPartitionsPerRun: 50,
			MaxBytesPerRun: 500 * gigabyte, VolumeMaxGrowthFactor: 1.5, VolumeCeiling: 1024 * gibibyte,
		},
		LLM:      LLM{MaxIterations: 6, MaxTokens: 8192, TokenBudget: 60000, Timeout: 120 * time.Second, AttemptTimeout: 90 * time.Second},
		Alerting: Alerting{Enabled: true, Cooldown: 5 * time.Minute, EscalationHours: 1, NotifyDeadline: 20 * time.Second},
		Agent:    Agent{Mode: ModeAuto, Planner: PlannerAuto, MaxWrites: 5, RunTimeout: 15 * time.Minute},
		Serve: Serve{Listen: "127.0.0.1:9095", MaxBodyBytes: 1 << 20, QueueSize: 256, Workers: 2, RetryAfter: 5 * time.Second,
			ShutdownGrace: 30 * time.Second, HealthLoop: true, ScalePeriod: time.Minute, EscalationPeriod: time.Minute, LedgerTTL: 24 * time.Hour,
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
