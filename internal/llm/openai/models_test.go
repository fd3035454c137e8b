package openai

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// No default is a model the same table says is retired or retiring.
func TestNoDefaultModelIsRetired(t *testing.T) {
	for _, p := range []string{ProviderOpenAI, ProviderClaude, ProviderZAI} {
		_, model, _ := providerDefaults(p)
		if r, ok := retirementOf(p, model); ok {
			t.Errorf("the default %s model %s retires on %s (use %s)", p, model, r.On.Format(time.DateOnly), r.Replacement)
		}
	}
}

// A retired model is refused before any alert, with its replacement; one
// that retires later, a dated snapshot of a retired one and any model behind
// a custom base URL are as the operator chose.
func TestARetiredModelIsRefusedWithItsReplacement(t *testing.T) {
	now := day("2026-12-04")
	tests := []struct {
		provider, model, base string
		refused               string
	}{
		{ProviderClaude, "claude-sonnet-4-5", "", "set LLM_MODEL to claude-sonnet-5-5"},
		{ProviderClaude, "claude-sonnet-4-5-20250929", "", "retired by claude on 2026-11-30"},
		{ProviderClaude, "claude-3-opus-20240229", "", "set LLM_MODEL to claude-sonnet-5-5"},
		{ProviderOpenAI, "gpt-4o-mini", "", ""}, // shuts down on 2027-01-14
		{ProviderClaude, "claude-sonnet-4-5", "http://localhost:4000/v1", ""},
		{ProviderClaude, "claude-sonnet-5-5", "", ""},
	}
	for _, tt := range tests {
		s := settings{provider: tt.provider, model: tt.model, customURL: tt.base != ""}
		err := checkRetired(s, now)
		switch {
		case tt.refused == "" && err != nil:
			t.Errorf("%s %s: %v, want accepted", tt.provider, tt.model, err)
		case tt.refused != "" && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.refused)):
			t.Errorf("%s %s: %v, want a config error saying %q", tt.provider, tt.model, err, tt.refused)
		}
	}
}
