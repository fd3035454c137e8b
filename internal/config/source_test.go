package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestEverySourceIsRecorded(t *testing.T) {
	env := homeEnv(t, map[string]string{"OPS_SKILL_STATE_DIR": t.TempDir(), "ALERT_COOLDOWN": "10m"})
	writeFile(t, env["OPS_SKILL_STATE_DIR"], OverridesFileName, "operations:\n  auto_scaling:\n    scale_up_threshold: 85\n    max_replicas: 12\n")
	cfg, err := Load(LoadOptions{Env: envOf(env), Flags: newFlags(t, "--mode", "approve"),
		ConfigFile: writeFile(t, t.TempDir(), "c.yaml", "operations:\n  auto_scaling:\n    max_replicas: 11\n    min_replicas: 3\n")})
	must(t, err)
	tests := map[string]Source{
		"agent.mode":                      SourceFlag,
		"alerting.cooldown":               SourceEnv,
		"state_dir":                       SourceEnv,
		"auto_scaling.scale_up_threshold": SourceOverride,
		"auto_scaling.max_replicas":       SourceOverride, // over the file
		"auto_scaling.min_replicas":       SourceFile,
		"auto_scaling.scale_up_step":      SourceDefault,
		"kubernetes.namespace":            SourceDefault,
		"no.such.key":                     SourceDefault,
	}
	for key, want := range tests {
		if got := cfg.Source(key); got != want {
			t.Errorf("Source(%s) = %s, want %s", key, got, want)
		}
	}
}

func TestFilesSayWhatWasRead(t *testing.T) {
	env := homeEnv(t, map[string]string{"OPS_SKILL_STATE_DIR": t.TempDir()})
	cfg := mustLoad(t, env, "")
	want := []File{
		{Role: FileConfig, Path: filepath.Join(env["HOME"], ".config", "ops-skill", "config.yaml")},
		{Role: FileOverrides, Path: OverridesFile(env["OPS_SKILL_STATE_DIR"])},
	}
	if got := cfg.Files(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("files = %+v, want %+v (none read)", got, want)
	}
	writeFile(t, env["OPS_SKILL_STATE_DIR"], OverridesFileName, "operations:\n  alerting:\n    cooldown: 1m\n")
	path := writeFile(t, t.TempDir(), "c.yaml", "operations:\n")
	cfg, err := Load(LoadOptions{Env: envOf(env), ConfigFile: path})
	must(t, err)
	if got := cfg.Files(); !got[0].Read || got[0].Path != path || !got[1].Read {
		t.Errorf("files = %+v, want both read", got)
	}
	if got := Defaults().Files(); len(got) != 0 {
		t.Errorf("defaults list files %+v", got)
	}
}

func TestSetFromRecordsTheSourceAndChecksTheValue(t *testing.T) {
	cfg := mustLoad(t, homeEnv(t, nil), "")
	before := cfg
	must(t, cfg.SetFrom("kubernetes.namespace", "shop", SourceKubeconfig))
	if cfg.Kubernetes.Namespace != "shop" || cfg.Source("kubernetes.namespace") != SourceKubeconfig {
		t.Errorf("namespace %q from %s", cfg.Kubernetes.Namespace, cfg.Source("kubernetes.namespace"))
	}
	if got := cfg.Kubernetes.AllowedNamespaces; len(got) != 1 || got[0] != "shop" {
		t.Errorf("the derived allowlist did not follow: %v", got)
	}
	if before.Source("kubernetes.namespace") != SourceDefault || before.Kubernetes.Namespace != "ai-data-labs" {
		t.Errorf("a copy changed with it: %q from %s", before.Kubernetes.Namespace, before.Source("kubernetes.namespace"))
	}
	for _, tt := range []struct{ key, value string }{
		{"kubernetes.namespace", "Not_A_Namespace"},
		{"auto_scaling.max_replicas", "many"},
		{"auto_scaling.max_replicas", "1"}, // below min_replicas
		{"no.such.key", "1"},
	} {
		c := cfg
		err := c.SetFrom(tt.key, tt.value, SourceFlag)
		var ve *ValidationError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("SetFrom(%s, %s) = %v, want a validation error naming the key", tt.key, tt.value, err)
		}
		if !sameConfig(c, cfg) {
			t.Errorf("SetFrom(%s, %s) failed but changed the config", tt.key, tt.value)
		}
	}
}

func sameConfig(a, b Config) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb) && a.Source("kubernetes.namespace") == b.Source("kubernetes.namespace")
}

func TestAnExplicitAllowlistDoesNotFollowTheNamespace(t *testing.T) {
	cfg := mustLoad(t, homeEnv(t, nil), "operations:\n  kubernetes:\n    allowed_namespaces: [ai-data-labs, shop]\n")
	must(t, cfg.SetFrom("kubernetes.namespace", "shop", SourceKubeconfig))
	if got := cfg.Kubernetes.AllowedNamespaces; len(got) != 2 {
		t.Errorf("allowlist %v, want the one set", got)
	}
}

func TestTheKubeconfigNamespaceFillsOnlyTheDefault(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		applied bool
		want    string
	}{
		{"nothing set", nil, nil, true, "shop"},
		{"NAMESPACE set", map[string]string{"NAMESPACE": "prod"}, nil, false, "prod"},
		{"--namespace given", nil, []string{"--namespace", "dev"}, false, "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{Env: envOf(homeEnv(t, tt.env)), Flags: newFlags(t, tt.args...)})
			must(t, err)
			applied, err := cfg.UseKubeconfigNamespace("shop")
			if err != nil || applied != tt.applied || cfg.Kubernetes.Namespace != tt.want {
				t.Errorf("applied %v (%v), namespace %q; want %v, %q", applied, err, cfg.Kubernetes.Namespace, tt.applied, tt.want)
			}
			if tt.applied && cfg.Source("kubernetes.namespace") != SourceKubeconfig {
				t.Errorf("source %s", cfg.Source("kubernetes.namespace"))
			}
		})
	}
	cfg := validConfig(t)
	if applied, _ := cfg.UseKubeconfigNamespace(""); applied {
		t.Error("an empty context namespace was applied")
	}
}

func TestShowSaysWhereEachValueCameFrom(t *testing.T) {
	env := homeEnv(t, map[string]string{"OPS_SKILL_STATE_DIR": t.TempDir(), "ALERT_COOLDOWN": "10m", "LLM_API_KEY": "s3cr3t-key"})
	cfg, err := Load(LoadOptions{Env: envOf(env), Flags: newFlags(t, "--mode", "approve")})
	must(t, err)
	must(t, cfg.SetFrom("kubernetes.namespace", "shop", SourceKubeconfig))
	next, _, err := ApplyUpdates(cfg, []string{"scale_up.cpu=85"})
	must(t, err)

	var text bytes.Buffer
	must(t, next.Show(&text, "yaml"))
	for _, want := range []string{
		"# config file: none (" + filepath.Join(env["HOME"], ".config", "ops-skill", "config.yaml") + " does not exist)",
		"# overrides: none (" + OverridesFile(env["OPS_SKILL_STATE_DIR"]) + " does not exist)",
		"namespace: shop # kubeconfig", "allowed_namespaces: # = namespace (kubeconfig)",
		"mode: approve # flag --mode", "cooldown: 10m # env ALERT_COOLDOWN", "scale_up_threshold: 85 # override",
		"scale_up_step: 1 # default", "api_key: '***' # env LLM_API_KEY",
		`provider: "" # default; no tool uses it yet`,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("config show does not say %q:\n%s", want, text.String())
		}
	}

	var js bytes.Buffer
	must(t, next.Show(&js, "json"))
	var got struct {
		Operations map[string]any    `json:"operations"`
		Sources    map[string]string `json:"sources"`
		Files      []File            `json:"files"`
	}
	must(t, json.Unmarshal(js.Bytes(), &got))
	for key, want := range map[string]string{"kubernetes.namespace": "kubeconfig", "agent.mode": "flag", "alerting.cooldown": "env",
		"auto_scaling.scale_up_threshold": "override", "auto_scaling.scale_up_step": "default", "llm.api_key": "env"} {
		if got.Sources[key] != want {
			t.Errorf("sources[%s] = %q, want %q", key, got.Sources[key], want)
		}
	}
	if len(got.Sources) != len(fields()) || len(got.Files) != 2 || got.Files[0].Role != FileConfig || got.Operations["kubernetes"] == nil {
		t.Errorf("json: %d sources, files %+v", len(got.Sources), got.Files)
	}
	if strings.Contains(text.String()+js.String(), "s3cr3t-key") {
		t.Error("a secret leaked")
	}
}
