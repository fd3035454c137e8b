package anthropic_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/llm/anthropic"
	"github.com/duet-company/ops-skill/internal/llm/provider"
)

func TestInvalidConfigNamesTheVariableToFix(t *testing.T) {
	retiredDay := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		cfg  anthropic.Config
		want string
	}{
		{"no key", anthropic.Config{}, "LLM_API_KEY"},
		{"bad base URL", anthropic.Config{APIKey: testKey, BaseURL: "api.anthropic.com"}, "LLM_BASE_URL"},
		{"header without value", anthropic.Config{APIKey: testKey, Headers: []string{"anthropic-beta"}}, "LLM_HEADERS"},
		{"header that sets the key", anthropic.Config{APIKey: testKey, Headers: []string{"x-api-key: other"}}, "LLM_API_KEY"},
		{"bad effort", anthropic.Config{APIKey: testKey, ReasoningEffort: "max"}, "LLM_REASONING_EFFORT"},
		{"negative timeout", anthropic.Config{APIKey: testKey, Timeout: -time.Second}, "LLM_ATTEMPT_TIMEOUT"},
		{"retired model", anthropic.Config{APIKey: testKey, Model: "claude-sonnet-4-5-20250929", Now: func() time.Time { return retiredDay }}, "LLM_MODEL to claude-sonnet-5-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := anthropic.New(tt.cfg)
			if !errors.Is(err, anthropic.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want ErrConfig naming %s", err, tt.want)
			}
			if strings.Contains(tt.name, "retired") && !errors.Is(err, provider.ErrRetired) {
				t.Errorf("error %v, want provider.ErrRetired", err)
			}
			if err != nil && strings.Contains(err.Error(), "other") {
				t.Errorf("error %v quotes a header value", err)
			}
		})
	}
}

func TestDefaultsComeFromTheProviderTable(t *testing.T) {
	p, err := provider.Lookup("claude")
	if err != nil {
		t.Fatal(err)
	}
	c, err := anthropic.New(anthropic.Config{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "llm:claude/"+p.DefaultModel {
		t.Errorf("name %q, want the table's default model %s", c.Name(), p.DefaultModel)
	}
	if _, err := anthropic.New(anthropic.Config{BaseURL: "http://127.0.0.1:9"}); err != nil {
		t.Errorf("a gateway at LLM_BASE_URL needs no key: %v", err)
	}
}
