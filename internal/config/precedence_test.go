package config

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// newFlags registers the flags the CLI binds, with cobra-style defaults, and
// parses args.
func newFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("ops-skill", pflag.ContinueOnError)
	fs.String("namespace", "default-from-flag-definition", "")
	fs.String("mode", "observe", "")
	fs.String("planner", "rules", "")
	fs.String("state-dir", "/flag/default", "")
	fs.String("kubeconfig", "", "")
	fs.String("context", "", "")
	fs.Bool("unrelated", false, "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestPrecedenceFlagsOverEnvOverFileOverDefaults(t *testing.T) {
	const file = "operations:\n  kubernetes:\n    namespace: from-file\n"
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want string
		src  Source
	}{
		{"default", "", nil, nil, "ai-data-labs", SourceDefault},
		{"file over default", file, nil, nil, "from-file", SourceFile},
		{"env over file", file, map[string]string{"NAMESPACE": "from-env"}, nil, "from-env", SourceEnv},
		{"flag over env", file, map[string]string{"NAMESPACE": "from-env"}, []string{"--namespace", "from-flag"}, "from-flag", SourceFlag},
		{"flag over default", "", nil, []string{"--namespace=from-flag"}, "from-flag", SourceFlag},
		{"an unchanged flag does not mask env", file, map[string]string{"NAMESPACE": "from-env"}, []string{"--unrelated"}, "from-env", SourceEnv},
		{"an unchanged flag does not mask the file", file, nil, nil, "from-file", SourceFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Env: envOf(homeEnv(t, tt.env)), Flags: newFlags(t, tt.args...)}
			if tt.file != "" {
				opts.ConfigFile = writeFile(t, t.TempDir(), "c.yaml", tt.file)
			}
			cfg, err := Load(opts)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Kubernetes.Namespace != tt.want {
				t.Errorf("namespace = %q, want %q", cfg.Kubernetes.Namespace, tt.want)
			}
			if got := cfg.Source("kubernetes.namespace"); got != tt.src {
				t.Errorf("source = %s, want %s", got, tt.src)
			}
			if got := cfg.Source("kubernetes.allowed_namespaces"); got != tt.src {
				t.Errorf("the derived allowlist's source = %s, want the namespace's, %s", got, tt.src)
			}
		})
	}
}

func TestPrecedenceEnvOverOverridesOverFileOverDefaults(t *testing.T) {
	const file = "operations:\n  auto_scaling:\n    scale_up_threshold: 85\n"
	tests := []struct {
		name     string
		file     string
		override string
		env      map[string]string
		want     float64
	}{
		{"default", "", "", nil, 80},
		{"file over default", file, "", nil, 85},
		{"overrides over file", file, "86", nil, 86},
		{"overrides over default", "", "86", nil, 86},
		{"env over overrides", file, "86", map[string]string{"SCALE_UP_THRESHOLD": "87"}, 87},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := homeEnv(t, tt.env)
			state := t.TempDir()
			env["OPS_SKILL_STATE_DIR"] = state
			if tt.override != "" {
				if err := SaveOverrides(state, []Change{{Key: "auto_scaling.scale_up_threshold", New: tt.override}}); err != nil {
					t.Fatal(err)
				}
			}
			cfg := mustLoad(t, env, tt.file)
			if cfg.AutoScaling.ScaleUpThreshold != tt.want {
				t.Errorf("scale_up_threshold = %v, want %v", cfg.AutoScaling.ScaleUpThreshold, tt.want)
			}
		})
	}
}

func TestFlagsSelectTheStateDirThatHoldsTheOverrides(t *testing.T) {
	state := t.TempDir()
	if err := SaveOverrides(state, []Change{{Key: "auto_scaling.max_replicas", New: "12"}}); err != nil {
		t.Fatal(err)
	}
	env := homeEnv(t, map[string]string{"OPS_SKILL_STATE_DIR": t.TempDir()})
	cfg, err := Load(LoadOptions{Env: envOf(env), Flags: newFlags(t, "--state-dir", state)})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StateDir != state || cfg.AutoScaling.MaxReplicas != 12 {
		t.Errorf("state dir %q, max replicas %d; want %q, 12", cfg.StateDir, cfg.AutoScaling.MaxReplicas, state)
	}
}

func TestEveryBoundFlagIsRead(t *testing.T) {
	tests := []struct {
		args []string
		get  func(Config) string
		want string
	}{
		{[]string{"--namespace", "ns1"}, func(c Config) string { return c.Kubernetes.Namespace }, "ns1"},
		{[]string{"--mode", "APPROVE"}, func(c Config) string { return c.Agent.Mode }, "approve"},
		{[]string{"--planner", "llm"}, func(c Config) string { return c.Agent.Planner }, "llm"},
		{[]string{"--state-dir", "/s"}, func(c Config) string { return c.StateDir }, "/s"},
		{[]string{"--kubeconfig", "/k"}, func(c Config) string { return c.Kubernetes.Kubeconfig }, "/k"},
		{[]string{"--context", "prod"}, func(c Config) string { return c.Kubernetes.Context }, "prod"},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			env := homeEnv(t, map[string]string{"LLM_PROVIDER": "openai", "LLM_API_KEY": "k"})
			cfg, err := Load(LoadOptions{Env: envOf(env), Flags: newFlags(t, tt.args...)})
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(cfg); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestABadValueNamesItsSource(t *testing.T) {
	tests := []struct {
		name, file string
		env        map[string]string
		args       []string
		key, src   string
	}{
		{"flag", "", nil, []string{"--mode", "yolo"}, "agent.mode", "flag --mode"},
		{"environment", "", map[string]string{"OPS_SKILL_PLANNER": "magic"}, nil, "agent.planner", "environment"},
		{"file", "operations:\n  agent:\n    max_writes: -1\n", nil, nil, "agent.max_writes", "config file "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Env: envOf(homeEnv(t, tt.env)), Flags: newFlags(t, tt.args...)}
			if tt.file != "" {
				opts.ConfigFile = writeFile(t, t.TempDir(), "c.yaml", tt.file)
			}
			_, err := Load(opts)
			ve := requireKeyError(t, err, tt.key, lookupEnv(tt.key))
			if !strings.HasPrefix(ve.Source, tt.src) || !strings.Contains(ve.Error(), "(from "+tt.src) {
				t.Errorf("source = %q in %q, want %q", ve.Source, ve.Error(), tt.src)
			}
		})
	}
}

func lookupEnv(key string) string {
	f, _ := lookupField(key)
	return f.env
}
