package app

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
)

// providerKey is the fake key the loopback providers require.
const providerKey = "sk-provider-test-not-real"

// runWithModel runs one command line with the real model factory, as the
// binary does, and returns the exit code, stdout and stderr.
func runWithModel(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	env["OPS_SKILL_STATE_DIR"] = t.TempDir()
	var out, errOut strings.Builder
	d := deps{io: cli.Test(strings.NewReader(""), &out, &errOut), clock: newHarness(t).clock,
		env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, newLLM: newModel}
	code := Run(context.Background(), d, args)
	return code, out.String(), errOut.String()
}

// The spec's high-CPU incident through the composition the binary uses,
// with each provider configured as a user would (LLM_PROVIDER, LLM_BASE_URL,
// LLM_API_KEY): claude reaches the Messages API, the others chat
// completions with their profile's rules; each ends resolved by the model.
func TestEachProviderRunsTheHighCPUIncidentThroughTheBinarysComposition(t *testing.T) {
	script := func(t *testing.T) *llmtest.ScriptFile {
		f, err := llmtest.LoadScript(filepath.Join("..", "eval", "models", "ideal-high-cpu.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		provider string
		start    func(t *testing.T) string // the base URL
		model    string
	}{
		{"claude", func(t *testing.T) string {
			return llmtest.NewMessagesServer(t, script(t), llmtest.MessagesConfig{}, llmtest.WithAPIKey(providerKey)).URL()
		}, "claude-sonnet-5-5"},
		{"zai", func(t *testing.T) string {
			return llmtest.NewServer(t, script(t), llmtest.WithAPIKey(providerKey), llmtest.WithProfile(llmtest.ProfileZAI)).URL()
		}, "glm-5"},
		{"ollama", func(t *testing.T) string {
			return llmtest.NewServer(t, script(t), llmtest.WithProfile(llmtest.ProfileOllama)).URL()
		}, "qwen3:8b"},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			env := map[string]string{"LLM_PROVIDER": tt.provider, "LLM_BASE_URL": tt.start(t), "LLM_MODEL": tt.model, "LLM_API_KEY": providerKey}
			code, out, errOut := runWithModel(t, env, "--simulate", "--planner", "llm", "-o", "json", "Alert: Backend service CPU at 85% for 5 minutes")
			if code != 0 {
				t.Fatalf("exit %d, want 0:\n%s\n%s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var sum struct {
				Resolution, Planner string
				Actions             []struct{ Tool, Target string }
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Resolution != "resolved" || sum.Planner != "llm:"+tt.provider+"/"+tt.model || len(sum.Actions) != 1 || sum.Actions[0].Tool != "scaleDeployment" {
				t.Errorf("summary %+v, want resolved by llm:%s/%s with one scale", sum, tt.provider, tt.model)
			}
			if strings.Contains(out+errOut, providerKey) {
				t.Error("the key was printed")
			}
		})
	}
}

// doctor --llm reaches each provider's own API with one tiny request; a
// refused key is a failed row naming the fix, never the key.
func TestDoctorLLMReachesEachWire(t *testing.T) {
	ok := llmtest.Func(func(llmtest.RecordedRequest) llmtest.Reply { return llmtest.Reply{Content: "OK"} })
	refused := llmtest.Func(func(llmtest.RecordedRequest) llmtest.Reply { return llmtest.Reply{Status: 401} })
	tests := []struct {
		name, provider string
		start          func(t *testing.T) string
		code           int
		want           string
	}{
		{"claude answers", "claude", func(t *testing.T) string {
			return llmtest.NewMessagesServer(t, ok, llmtest.MessagesConfig{}, llmtest.WithAPIKey(providerKey)).URL()
		}, 0, "llm:claude/claude-sonnet-5-5 answered"},
		{"claude refuses the key", "claude", func(t *testing.T) string {
			return llmtest.NewMessagesServer(t, refused, llmtest.MessagesConfig{}, llmtest.AllowInvalidRequests()).URL()
		}, 3, "LLM_API_KEY"},
		{"zai answers", "zai", func(t *testing.T) string {
			return llmtest.NewServer(t, ok, llmtest.WithAPIKey(providerKey), llmtest.WithProfile(llmtest.ProfileZAI)).URL()
		}, 0, "llm:zai/glm-5 answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"LLM_PROVIDER": tt.provider, "LLM_BASE_URL": tt.start(t), "LLM_API_KEY": providerKey}
			code, out, errOut := runWithModel(t, env, "doctor", "--llm")
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s\n%s", code, tt.code, tt.want, out, errOut)
			}
			if strings.Contains(out+errOut, providerKey) {
				t.Error("the key was printed")
			}
		})
	}
}
