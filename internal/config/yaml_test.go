package config

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// specConfig is the "Skill Configuration" block of the product spec, verbatim.
const specConfig = `
operations:
  monitoring:
    prometheus: ${PROMETHEUS_URL}
    grafana: ${GRAFANA_URL}
    alert_webhook: ${ALERT_WEBHOOK}
  
  kubernetes:
    config: ${KUBECONFIG}
    namespace: ${NAMESPACE}
  
  auto_scaling:
    enabled: ${AUTO_SCALE_ENABLED}
    scale_up_threshold: ${SCALE_UP_THRESHOLD}
    scale_down_threshold: ${SCALE_DOWN_THRESHOLD}
    min_replicas: ${MIN_REPLICAS}
    max_replicas: ${MAX_REPLICAS}
  
  self_healing:
    enabled: ${SELF_HEAL_ENABLED}
    health_check_interval: ${HEALTH_CHECK_INTERVAL}
    restart_threshold: ${RESTART_THRESHOLD}
    replacement_threshold: ${REPLACEMENT_THRESHOLD}
  
  cloud:
    provider: ${CLOUD_PROVIDER}
    api_key: ${CLOUD_API_KEY}
  
  llm:
    provider: ${LLM_PROVIDER}
    model: ${LLM_MODEL}
    api_key: ${LLM_API_KEY}
  
  alerting:
    enabled: ${ALERT_ENABLED}
    cooldown: ${ALERT_COOLDOWN}
    escalation_hours: ${ESCALATION_HOURS}
`

func TestSpecConfigWithUnsetVariablesGivesDefaults(t *testing.T) {
	env := homeEnv(t, nil)
	fromFile := mustLoad(t, env, specConfig)
	plain := mustLoad(t, env, "")
	if !reflect.DeepEqual(values(fromFile), values(plain)) {
		t.Errorf("spec file with unset variables differs from defaults:\n%v\n%v", fromFile, plain)
	}
}

func TestYAMLExpandsVariables(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		yaml string
		get  func(Config) any
		want any
	}{
		{"${VAR} takes the variable", map[string]string{"THRESH": "70"},
			"operations:\n  auto_scaling:\n    scale_up_threshold: ${THRESH}\n",
			func(c Config) any { return c.AutoScaling.ScaleUpThreshold }, 70.0},
		{"${VAR:-default} takes the default when unset", nil,
			"operations:\n  alerting:\n    cooldown: ${COOL:-10m}\n",
			func(c Config) any { return c.Alerting.Cooldown }, 10 * time.Minute},
		{"${VAR:-default} takes the default when empty", map[string]string{"COOL": ""},
			"operations:\n  alerting:\n    cooldown: ${COOL:-10m}\n",
			func(c Config) any { return c.Alerting.Cooldown }, 10 * time.Minute},
		{"${VAR:-default} prefers the variable", map[string]string{"COOL": "1m"},
			"operations:\n  alerting:\n    cooldown: ${COOL:-10m}\n",
			func(c Config) any { return c.Alerting.Cooldown }, time.Minute},
		{"an unset ${VAR} leaves the default", nil,
			"operations:\n  auto_scaling:\n    max_replicas: ${NOPE}\n",
			func(c Config) any { return c.AutoScaling.MaxReplicas }, int32(10)},
		{"a quoted unset ${VAR} leaves the default", nil,
			"operations:\n  kubernetes:\n    namespace: \"${NOPE}\"\n",
			func(c Config) any { return c.Kubernetes.Namespace }, "ai-data-labs"},
		{"variables expand inside a longer value", map[string]string{"HOST": "prom"},
			"operations:\n  monitoring:\n    prometheus: http://${HOST}:9090\n",
			func(c Config) any { return c.Monitoring.PrometheusURL }, "http://prom:9090"},
		{"$${ is a literal", nil,
			"operations:\n  auto_scaling:\n    opt_out_annotation: a$${b}\n",
			func(c Config) any { return c.AutoScaling.OptOutAnnotation }, "a${b}"},
		{"an expanded value cannot inject keys", map[string]string{"NS": "x\n  max_replicas: 1000"},
			"operations:\n  kubernetes:\n    context: ${NS}\n",
			func(c Config) any { return c.AutoScaling.MaxReplicas }, int32(10)},
		{"comments are not expanded", nil,
			"# ${broken\noperations:\n  agent:\n    mode: observe # ${also\n",
			func(c Config) any { return c.Agent.Mode }, "observe"},
		{"lists set the namespace allowlist", nil,
			"operations:\n  kubernetes:\n    allowed_namespaces: [a, b]\n",
			func(c Config) any { return c.Kubernetes.AllowedNamespaces }, []string{"a", "b"}},
		{"list items expand", map[string]string{"NS": "prod"},
			"operations:\n  kubernetes:\n    allowed_namespaces:\n      - ${NS}\n      - ${UNSET}\n",
			func(c Config) any { return c.Kubernetes.AllowedNamespaces }, []string{"prod"}},
		{"sizes accept quantities", nil,
			"operations:\n  self_healing:\n    memory_ceiling: 512Mi\n",
			func(c Config) any { return c.SelfHealing.MemoryCeiling }, int64(512 << 20)},
		{"decimal sizes", nil,
			"operations:\n  storage:\n    max_bytes_per_run: 1T\n",
			func(c Config) any { return c.Storage.MaxBytesPerRun }, int64(1e12)},
		{"YAML booleans", nil,
			"operations:\n  alerting:\n    enabled: off\n",
			func(c Config) any { return c.Alerting.Enabled }, false},
		{"anchors and aliases resolve", nil,
			"operations:\n  auto_scaling:\n    min_replicas: &n 4\n    max_replicas: *n\n",
			func(c Config) any { return c.AutoScaling.MaxReplicas }, int32(4)},
		{"state_dir sits directly under operations", nil,
			"operations:\n  state_dir: /srv/ops\n",
			func(c Config) any { return c.StateDir }, "/srv/ops"},
		{"an empty operations block is allowed", nil, "operations:\n",
			func(c Config) any { return c.AutoScaling.MinReplicas }, int32(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, homeEnv(t, tt.env), tt.yaml)
			if got := tt.get(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestYAMLRejectsBadStructureNamingTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, key, env string
	}{
		{"unknown key in a section", "operations:\n  auto_scaling:\n    scale_up_treshold: 85\n", "auto_scaling.scale_up_treshold", ""},
		{"unknown section", "operations:\n  autoscaling:\n    enabled: true\n", "autoscaling", ""},
		{"unknown top-level key", "ops:\n  agent:\n    mode: auto\n", "ops", ""},
		{"a section given a value", "operations:\n  auto_scaling: 5\n", "auto_scaling", ""},
		{"a scalar given a list", "operations:\n  auto_scaling:\n    min_replicas: [1, 2]\n", "auto_scaling.min_replicas", "MIN_REPLICAS"},
		{"a scalar given a mapping", "operations:\n  llm:\n    model: {name: x}\n", "llm.model", "LLM_MODEL"},
		{"a key set twice", "operations:\n  agent:\n    mode: auto\n    mode: observe\n", "agent.mode", "OPS_SKILL_MODE"},
		{"a malformed reference", "operations:\n  llm:\n    model: ${MODEL\n", "llm.model", "LLM_MODEL"},
		{"a reference with a bad name", "operations:\n  llm:\n    model: ${1X}\n", "llm.model", "LLM_MODEL"},
		{"a bad duration", "operations:\n  llm:\n    timeout: soon\n", "llm.timeout", "LLM_TIMEOUT"},
		{"a bad size", "operations:\n  self_healing:\n    memory_ceiling: 16Gx\n", "self_healing.memory_ceiling", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadWith(t, homeEnv(t, nil), tt.yaml)
			ve := requireKeyError(t, err, tt.key, tt.env)
			if ve.Source == "" {
				t.Errorf("error %q does not say which file", ve.Error())
			}
		})
	}
}

func TestLoadConfigFileLocation(t *testing.T) {
	t.Run("an explicit file that does not exist is an error", func(t *testing.T) {
		_, err := Load(LoadOptions{ConfigFile: filepath.Join(t.TempDir(), "nope.yaml"), Env: envOf(homeEnv(t, nil))})
		if !errors.Is(err, ErrInvalid) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want ErrInvalid and fs.ErrNotExist", err)
		}
	})
	t.Run("invalid YAML syntax is an error", func(t *testing.T) {
		_, err := loadWith(t, homeEnv(t, nil), "operations: [unclosed\n")
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("the default file under XDG_CONFIG_HOME is read", func(t *testing.T) {
		xdg := t.TempDir()
		writeFile(t, xdg, "ops-skill/config.yaml", "operations:\n  agent:\n    mode: approve\n")
		cfg := mustLoad(t, homeEnv(t, map[string]string{"XDG_CONFIG_HOME": xdg}), "")
		if cfg.Agent.Mode != ModeApprove {
			t.Errorf("mode = %q", cfg.Agent.Mode)
		}
	})
	t.Run("the default file falls back to ~/.config", func(t *testing.T) {
		env := homeEnv(t, nil)
		writeFile(t, env["HOME"], ".config/ops-skill/config.yaml", "operations:\n  agent:\n    planner: rules\n")
		cfg := mustLoad(t, env, "")
		if cfg.Agent.Planner != PlannerRules {
			t.Errorf("planner = %q", cfg.Agent.Planner)
		}
	})
	t.Run("a missing default file is fine", func(t *testing.T) {
		mustLoad(t, homeEnv(t, map[string]string{"XDG_CONFIG_HOME": t.TempDir()}), "")
	})
	t.Run("an explicit ~ path uses the injected HOME", func(t *testing.T) {
		env := homeEnv(t, nil)
		writeFile(t, env["HOME"], "ops.yaml", "operations:\n  agent:\n    max_writes: 1\n")
		cfg, err := Load(LoadOptions{ConfigFile: "~/ops.yaml", Env: envOf(env)})
		if err != nil || cfg.Agent.MaxWrites != 1 {
			t.Fatalf("Load = %d, %v", cfg.Agent.MaxWrites, err)
		}
	})
}

func TestShowOutputLoadsBackAsTheSameConfig(t *testing.T) {
	env := homeEnv(t, map[string]string{"NAMESPACE": "prod", "SCALE_UP_THRESHOLD": "90", "ALERT_COOLDOWN": "90s"})
	cfg := mustLoad(t, env, "operations:\n  kubernetes:\n    allowed_namespaces: [prod, staging]\n")
	var buf bytes.Buffer
	if err := cfg.Show(&buf, "yaml"); err != nil {
		t.Fatal(err)
	}
	again := mustLoad(t, map[string]string{"HOME": env["HOME"]}, buf.String())
	if !reflect.DeepEqual(values(again), values(cfg)) {
		t.Errorf("reloaded config differs:\n%v\n%v", again, cfg)
	}
}
