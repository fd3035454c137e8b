package openai

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestResolveChoosesProviderDefaults(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		wantURL   string
		wantModel string
		wantName  string
	}{
		{name: "openai", cfg: Config{Provider: "openai", APIKey: "k"},
			wantURL: "https://api.openai.com/v1", wantModel: "gpt-6-luna", wantName: "llm:openai/gpt-6-luna"},
		{name: "claude", cfg: Config{Provider: "claude", APIKey: "k"},
			wantURL: "https://api.anthropic.com/v1/", wantModel: "claude-sonnet-5-5", wantName: "llm:claude/claude-sonnet-5-5"},
		{name: "zai", cfg: Config{Provider: "zai", APIKey: "k"},
			wantURL: "https://api.z.ai/api/paas/v4/", wantModel: "glm-5", wantName: "llm:zai/glm-5"},
		{name: "provider in any case", cfg: Config{Provider: " Claude ", APIKey: "k", Model: "claude-opus-4-1"},
			wantURL: "https://api.anthropic.com/v1/", wantModel: "claude-opus-4-1", wantName: "llm:claude/claude-opus-4-1"},
		{name: "base URL overrides the provider's", cfg: Config{Provider: "zai", APIKey: "k", BaseURL: "https://proxy.internal/v1"},
			wantURL: "https://proxy.internal/v1", wantModel: "glm-5", wantName: "llm:zai/glm-5"},
		{name: "local server needs no key", cfg: Config{Provider: "openai", Model: "llama3.1", BaseURL: "http://localhost:11434/v1"},
			wantURL: "http://localhost:11434/v1", wantModel: "llama3.1", wantName: "llm:openai/llama3.1"},
		{name: "ollama needs no key and listens on localhost", cfg: Config{Provider: "ollama", Model: "qwen3:8b"},
			wantURL: "http://localhost:11434/v1", wantModel: "qwen3:8b", wantName: "llm:ollama/qwen3:8b"},
		{name: "vllm needs no key and listens on localhost", cfg: Config{Provider: "vllm", Model: "Qwen/Qwen3-8B"},
			wantURL: "http://localhost:8000/v1", wantModel: "Qwen/Qwen3-8B", wantName: "llm:vllm/Qwen/Qwen3-8B"},
		{name: "vllm elsewhere", cfg: Config{Provider: "vllm", Model: "m", BaseURL: "http://gpu-1:8000/v1"},
			wantURL: "http://gpu-1:8000/v1", wantModel: "m", wantName: "llm:vllm/m"},
		{name: "zai coding plan", cfg: Config{Provider: "zai", APIKey: "k", Endpoint: "coding"},
			wantURL: "https://api.z.ai/api/coding/paas/v4/", wantModel: "glm-5", wantName: "llm:zai/glm-5"},
		{name: "zai mainland", cfg: Config{Provider: "zai", APIKey: "k", Endpoint: " Mainland "},
			wantURL: "https://open.bigmodel.cn/api/paas/v4/", wantModel: "glm-5", wantName: "llm:zai/glm-5"},
		{name: "base URL overrides the endpoint", cfg: Config{Provider: "zai", APIKey: "k", Endpoint: "coding", BaseURL: "https://proxy.internal/v1"},
			wantURL: "https://proxy.internal/v1", wantModel: "glm-5", wantName: "llm:zai/glm-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := resolve(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.baseURL != tt.wantURL || s.model != tt.wantModel {
				t.Fatalf("base URL %q model %q, want %q %q", s.baseURL, s.model, tt.wantURL, tt.wantModel)
			}
			c, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name() != tt.wantName || c.baseURL != tt.wantURL {
				t.Fatalf("name %q base URL %q", c.Name(), c.baseURL)
			}
		})
	}
}

func TestResolveRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "missing key for openai", cfg: Config{Provider: "openai"}, want: "LLM_API_KEY"},
		{name: "missing key for claude", cfg: Config{Provider: "claude"}, want: "LLM_API_KEY"},
		{name: "missing key for zai", cfg: Config{Provider: "zai"}, want: "LLM_API_KEY"},
		{name: "empty provider", cfg: Config{APIKey: "k"}, want: "LLM_PROVIDER"},
		{name: "unknown provider", cfg: Config{Provider: "gemini", APIKey: "k"}, want: "LLM_PROVIDER"},
		{name: "relative base URL", cfg: Config{Provider: "openai", BaseURL: "localhost:11434/v1"}, want: "LLM_BASE_URL"},
		{name: "base URL with another scheme", cfg: Config{Provider: "openai", BaseURL: "ftp://host/v1"}, want: "LLM_BASE_URL"},
		{name: "negative timeout", cfg: Config{Provider: "openai", APIKey: "k", Timeout: -time.Second}, want: "timeout"},
		{name: "ollama without a model", cfg: Config{Provider: "ollama"}, want: "LLM_MODEL"},
		{name: "vllm without a model", cfg: Config{Provider: "vllm", BaseURL: "http://gpu-1:8000/v1"}, want: "LLM_MODEL"},
		{name: "an endpoint the provider lacks", cfg: Config{Provider: "zai", APIKey: "k", Endpoint: "moon"}, want: "LLM_ENDPOINT"},
		{name: "an unknown reasoning effort", cfg: Config{Provider: "zai", APIKey: "k", ReasoningEffort: "max"}, want: "LLM_REASONING_EFFORT"},
		{name: "the key as a header", cfg: Config{Provider: "openai", APIKey: "k", Headers: []string{"Authorization: Bearer x"}}, want: "LLM_HEADERS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(tt.cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want ErrConfig naming %s", err, tt.want)
			}
		})
	}
}

func TestResolveAppliesTransportDefaults(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		wantTimeout time.Duration
		wantRetries int
	}{
		{name: "zero means defaults", cfg: Config{}, wantTimeout: DefaultTimeout, wantRetries: DefaultMaxRetries},
		{name: "explicit values", cfg: Config{Timeout: time.Second, MaxRetries: 5}, wantTimeout: time.Second, wantRetries: 5},
		{name: "negative retries mean none", cfg: Config{MaxRetries: -1}, wantTimeout: DefaultTimeout, wantRetries: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Provider, tt.cfg.APIKey = "openai", "k"
			s, err := resolve(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.timeout != tt.wantTimeout || s.maxRetries != tt.wantRetries {
				t.Fatalf("timeout %s retries %d", s.timeout, s.maxRetries)
			}
		})
	}
}

func TestURLCredentialsAreSecrets(t *testing.T) {
	s, err := resolve(Config{Provider: "openai", APIKey: "key", BaseURL: "https://user:pass@proxy/v1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"key", "user", "pass"} {
		if !slices.Contains(s.secrets, want) {
			t.Errorf("secrets %q lack %q", s.secrets, want)
		}
	}
}

func TestHTTPClientIsCopiedWithTheTimeout(t *testing.T) {
	base := &http.Client{Timeout: time.Hour}
	s := settings{timeout: time.Second}
	hc := s.httpClient(base)
	if hc == base || hc.Timeout != time.Second || base.Timeout != time.Hour {
		t.Fatalf("copy timeout %s, original %s", hc.Timeout, base.Timeout)
	}
	if s.httpClient(nil).Timeout != time.Second {
		t.Fatal("new client without timeout")
	}
}

func TestTokenLimitField(t *testing.T) {
	tests := []struct {
		name           string
		cfg            Config
		wantCompletion bool
	}{
		{name: "openai's API", cfg: Config{Provider: "openai", APIKey: "k"}, wantCompletion: true},
		{name: "openai-compatible server", cfg: Config{Provider: "openai", BaseURL: "http://localhost:8000/v1", Model: "qwen"}, wantCompletion: false},
		{name: "reasoning model behind a proxy", cfg: Config{Provider: "openai", BaseURL: "http://proxy/v1", Model: "gpt-5-mini"}, wantCompletion: true},
		{name: "claude", cfg: Config{Provider: "claude", APIKey: "k"}, wantCompletion: false},
		{name: "zai", cfg: Config{Provider: "zai", APIKey: "k"}, wantCompletion: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := resolve(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.completionTokensField(); got != tt.wantCompletion {
				t.Fatalf("max_completion_tokens %v, want %v", got, tt.wantCompletion)
			}
		})
	}
}

func TestDefaultBackoffDoublesUpToACap(t *testing.T) {
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := DefaultBackoff(i + 1); got != w {
			t.Errorf("retry %d: %s, want %s", i+1, got, w)
		}
	}
}
