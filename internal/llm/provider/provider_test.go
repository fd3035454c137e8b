package provider

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// No default is a model the same table says is retired or retiring.
func TestNoDefaultModelIsRetired(t *testing.T) {
	for _, p := range Profiles() {
		if r, ok := RetirementOf(p.Name, p.DefaultModel); ok {
			t.Errorf("the default %s model %s retires on %s (use %s)", p.Name, p.DefaultModel, r.On.Format(time.DateOnly), r.Replacement)
		}
	}
}

// A retired model is refused with its replacement; one that retires later
// and the current defaults are as the operator chose.
func TestARetiredModelIsRefusedWithItsReplacement(t *testing.T) {
	now := day("2026-12-04")
	tests := []struct {
		provider Name
		model    string
		refused  string
	}{
		{Claude, "claude-sonnet-4-5", "set LLM_MODEL to claude-sonnet-5-5"},
		{Claude, "claude-sonnet-4-5-20250929", "retired by claude on 2026-11-30"},
		{Claude, "claude-3-opus-20240229", "set LLM_MODEL to claude-sonnet-5-5"},
		{OpenAI, "gpt-4o-mini", ""}, // shuts down on 2027-01-14
		{Claude, "claude-sonnet-5-5", ""},
		{ZAI, "claude-sonnet-4-5", ""}, // another provider's id
	}
	for _, tt := range tests {
		err := CheckRetired(tt.provider, tt.model, now)
		switch {
		case tt.refused == "" && err != nil:
			t.Errorf("%s %s: %v, want accepted", tt.provider, tt.model, err)
		case tt.refused != "" && (!errors.Is(err, ErrRetired) || !strings.Contains(err.Error(), tt.refused)):
			t.Errorf("%s %s: %v, want a retirement saying %q", tt.provider, tt.model, err, tt.refused)
		}
	}
}

func TestLookupAndEndpoints(t *testing.T) {
	p, err := Lookup(" ZAI ")
	if err != nil || p.Name != ZAI {
		t.Fatalf("Lookup(zai) = %v, %v", p.Name, err)
	}
	if e, err := p.Endpoint(""); err != nil || e.Name != "international" {
		t.Errorf("default endpoint = %+v, %v", e, err)
	}
	if e, err := p.Endpoint("coding"); err != nil || !strings.Contains(e.URL, "/coding/") {
		t.Errorf("coding endpoint = %+v, %v", e, err)
	}
	if _, err := p.Endpoint("moon"); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "international, coding, mainland") {
		t.Errorf("unknown endpoint: %v", err)
	}
	if _, err := Lookup("gemini"); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "claude, openai, zai, ollama, vllm") {
		t.Errorf("unknown provider: %v", err)
	}
	if c, ok := p.FinalRateLimit("1113"); !ok || c.Fix == "" {
		t.Error("Z.ai's balance code is not final")
	}
	for _, p := range Profiles() {
		if len(p.Endpoints) == 0 || p.Doc == "" {
			t.Errorf("%s: a profile needs an endpoint and its source", p.Name)
		}
	}
}
