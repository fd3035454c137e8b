package provider

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Retirement is a model id a provider has retired (requests to it fail) or
// retires on a known date, and the replacement it recommends.
type Retirement struct {
	Provider    Name
	Model       string // an id, or a prefix ending in "-" for its dated snapshots
	On          time.Time
	Replacement string
	Source      string // the provider's page that says so
}

// Retirements lists the retired and retiring ids this table knows, as each
// provider's deprecation page gave them on Checked.
func Retirements() []Retirement {
	const anthropic = "Anthropic, Model deprecations (platform.claude.com/docs/en/about-claude/model-deprecations)"
	// OpenAI recommends gpt-6.1-sol and gpt-6.1-terra, which call tools only
	// through the Responses API (refused here, see ModelRules): the
	// replacement named is the nearest model that calls tools in Chat
	// Completions.
	const openai = "OpenAI, Deprecations (developers.openai.com/api/docs/deprecations)"
	return []Retirement{
		{Claude, "claude-3-opus-", day("2026-01-05"), "claude-sonnet-5-5", anthropic},
		{Claude, "claude-sonnet-4-2", day("2026-06-15"), "claude-sonnet-5-5", anthropic},
		{Claude, "claude-opus-4-2", day("2026-06-15"), "claude-opus-5-5", anthropic},
		{Claude, "claude-sonnet-4-5", day("2026-11-30"), "claude-sonnet-5-5", anthropic},
		{OpenAI, "gpt-5-", day("2026-12-11"), "gpt-6-luna", openai},
		{OpenAI, "gpt-5", day("2026-12-11"), "gpt-6-sol", openai},
		{OpenAI, "gpt-4o-mini", day("2027-01-14"), "gpt-6-luna", openai},
		{OpenAI, "gpt-4o", day("2027-01-14"), "gpt-6-sol", openai},
		{OpenAI, "gpt-4.1-mini", day("2027-01-14"), "gpt-6-luna", openai},
		{OpenAI, "gpt-4.1", day("2027-01-14"), "gpt-6-sol", openai},
	}
}

// RetirementOf finds the entry for a model: an exact id, or a dated
// snapshot of one ("claude-sonnet-4-5-20250929").
func RetirementOf(p Name, model string) (Retirement, bool) {
	var best Retirement
	found := false
	for _, r := range Retirements() {
		if r.Provider != p {
			continue
		}
		match := model == r.Model || (strings.HasSuffix(r.Model, "-") && strings.HasPrefix(model, r.Model)) ||
			(strings.HasPrefix(model, r.Model+"-") && isDate(model[len(r.Model)+1:]))
		if match && (!found || len(r.Model) > len(best.Model)) {
			best, found = r, true
		}
	}
	return best, found
}

func isDate(s string) bool {
	if len(s) != 8 && len(s) != 10 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// ErrRetired is a model its provider has retired.
var ErrRetired = errors.New("model retired")

// CheckRetired refuses a model its provider has retired by now (requests to
// it fail on every alert), naming the replacement and the source.
func CheckRetired(p Name, model string, now time.Time) error {
	r, ok := RetirementOf(p, model)
	if !ok || now.Before(r.On) {
		return nil
	}
	return fmt.Errorf("%w: model %s was retired by %s on %s: set LLM_MODEL to %s (%s)", ErrRetired, model, p,
		r.On.Format(time.DateOnly), r.Replacement, r.Source)
}
