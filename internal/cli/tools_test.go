package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/tools"
)

// toolCall runs "ops-skill [flags] tools call …" with the real config loader
// and a registry without backends: the outcome shows what the gate made of
// the arguments.
func toolCall(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := forbidden(t, &out, &errOut)
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f.LoadConfig = func(file string, flags *pflag.FlagSet) (config.Config, error) {
		return config.Load(config.LoadOptions{ConfigFile: file, Env: lookup, Flags: flags})
	}
	f.NewRuntime = func(context.Context, config.Config, RuntimeOptions) (*Runtime, error) {
		return &Runtime{Registry: tools.NewRegistry(tools.Deps{}), Mode: "observe", Close: func() error { return nil }}, nil
	}
	root := NewRoot(f, BuildInfo{Version: "test"})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestToolCallArgumentsGetTheCurrentNamespace(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		target string
	}{
		{"-n fills it", nil, []string{"-n", "shop", "tools", "call", "getServiceStatus", "--args", `{"name":"backend"}`}, "shop/backend"},
		{"--namespace fills it", nil, []string{"tools", "call", "getServiceStatus", "--namespace", "shop", "--args", `{"name":"backend"}`}, "shop/backend"},
		{"NAMESPACE fills it", map[string]string{"NAMESPACE": "staging"}, []string{"tools", "call", "getServiceStatus", "--args", `{"name":"backend"}`}, "staging/backend"},
		{"the default fills it", nil, []string{"tools", "call", "getServiceStatus", "--args", `{"name":"backend"}`}, "ai-data-labs/backend"},
		{"a namespace given wins", nil, []string{"-n", "shop", "tools", "call", "getServiceStatus", "--args", `{"namespace":"ai-data-labs","name":"backend"}`}, "ai-data-labs/backend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"HOME": t.TempDir(), "OPS_SKILL_STATE_DIR": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			out, _ := toolCall(t, env, tt.args...)
			if !strings.Contains(out, `"target": "`+tt.target+`"`) {
				t.Errorf("stdout:\n%s\nwant target %s", out, tt.target)
			}
		})
	}
}

func TestToolCallWithoutARequiredFieldIsAUsageError(t *testing.T) {
	env := map[string]string{"HOME": t.TempDir(), "OPS_SKILL_STATE_DIR": t.TempDir()}
	out, err := toolCall(t, env, "tools", "call", "scaleDeployment", "--args", `{"namespace":"ai-data-labs","name":"backend"}`)
	if !usageCode(err) || !strings.Contains(err.Error(), `scaleDeployment: field "replicas" is required`) {
		t.Errorf("err = %v, want a usage error naming the tool and the field", err)
	}
	if !strings.Contains(out, `"status": "invalid"`) {
		t.Errorf("stdout:\n%s", out)
	}
}
