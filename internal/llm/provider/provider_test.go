package provider

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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

// The README's provider table is the one this package renders.
func TestREADMEShowsTheProviderTable(t *testing.T) {
	const begin, end = "<!-- providers:begin -->", "<!-- providers:end -->"
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %s and %s around the provider table; paste this between them:\n\n%s", begin, end, MarkdownTable())
	}
	if got := strings.TrimSpace(text[i+len(begin) : j]); got != strings.TrimSpace(MarkdownTable()) {
		t.Errorf("README.md's provider table differs from provider.MarkdownTable(); replace it with:\n\n%s", MarkdownTable())
	}
}

func TestMarkdownTableHasARowPerProvider(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(MarkdownTable()), "\n")
	if len(lines) != 2+len(Profiles()) {
		t.Fatalf("%d lines, want a header, a rule and %d rows:\n%s", len(lines), len(Profiles()), MarkdownTable())
	}
	for i, p := range Profiles() {
		row := lines[2+i]
		if !strings.HasPrefix(row, "| `"+string(p.Name)+"` |") || strings.Count(row, " | ") != 6 || !strings.Contains(row, Checked) {
			t.Errorf("row %q: want 7 cells for %s, ending with the date checked", row, p.Name)
		}
	}
	if !strings.Contains(MarkdownTable(), `"enabled"\|"disabled"`) {
		t.Error("a | inside a cell must be escaped")
	}
}

// What the adapters rely on holds for every row: a last turn with
// tool_choice "none" only where "none" is accepted, "auto" wherever the
// field is not ignored, and a reason effort field.
func TestProfilesAreConsistent(t *testing.T) {
	for _, p := range Profiles() {
		if p.LastTurn == LastTurnToolChoiceNone && !slices.Contains(p.ToolChoices, "none") {
			t.Errorf("%s asks the last turn with tool_choice none, which it does not accept", p.Name)
		}
		if len(p.ToolChoices) > 0 && !slices.Contains(p.ToolChoices, "auto") {
			t.Errorf("%s: tool_choice auto must be accepted", p.Name)
		}
		if (p.DefaultModel == "") == p.NeedsKey {
			t.Errorf("%s: a hosted provider has a default model and needs a key; a local server neither", p.Name)
		}
		for _, e := range p.SetupErrors {
			if e.Match == "" || e.Fix == "" || e.Status < 400 {
				t.Errorf("%s: setup error %+v needs a status, a match and a fix", p.Name, e)
			}
		}
	}
}

func TestModelRules(t *testing.T) {
	p, _ := Lookup("openai")
	tests := []struct {
		model string
		want  ToolsRule
	}{
		{"gpt-6-luna", ToolsNeedEffortNone},
		{"gpt-6-luna-2026-09-22", ToolsNeedEffortNone},
		{"gpt-6-sol", ToolsNeedEffortNone},
		{"gpt-6-astra", ToolsNeedResponses},
		{"gpt-6.1-sol", ToolsNeedResponses},
		{"gpt-6.1-terra", ToolsNeedResponses},
		{"gpt-5.6-terra", ToolsNeedEffortNone},
		{"o4-mini", 0},
		{"gpt-5.1", 0},
		{"gpt-6-lunatic", 0},
	}
	for _, tt := range tests {
		r, ok := p.ModelRule(tt.model)
		if (tt.want == 0) == ok || r.Tools != tt.want {
			t.Errorf("%s: rule %+v (%v), want %d", tt.model, r, ok, tt.want)
		}
		if ok && r.Source == "" {
			t.Errorf("%s: a rule needs its source", tt.model)
		}
	}
}

// A retired model's replacement is one this build can use: a model that
// calls tools in Chat Completions, not one refused for needing Responses.
func TestEveryReplacementCanCallTools(t *testing.T) {
	for _, r := range Retirements() {
		p, err := Lookup(string(r.Provider))
		if err != nil {
			t.Fatal(err)
		}
		if rule, ok := p.ModelRule(r.Replacement); ok && rule.Tools == ToolsNeedResponses {
			t.Errorf("%s %s is replaced by %s, which this adapter refuses", r.Provider, r.Model, r.Replacement)
		}
	}
}
