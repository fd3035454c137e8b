package anthropic

import (
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
)

// Effort is llm.reasoning_effort (LLM_REASONING_EFFORT).
type Effort string

// Efforts, in the configuration's vocabulary (OpenAI's reasoning_effort).
const (
	EffortDefault Effort = ""
	EffortNone    Effort = "none"
	EffortMinimal Effort = "minimal"
	EffortLow     Effort = "low"
	EffortMedium  Effort = "medium"
	EffortHigh    Effort = "high"
)

// ParseEffort reads a configured effort; errors match ErrConfig.
func ParseEffort(s string) (Effort, error) {
	switch e := Effort(strings.ToLower(strings.TrimSpace(s))); e {
	case EffortDefault, EffortNone, EffortMinimal, EffortLow, EffortMedium, EffortHigh:
		return e, nil
	}
	return "", fmt.Errorf("%w: reasoning effort %q: set LLM_REASONING_EFFORT to none, minimal, low, medium or high, or leave it empty", ErrConfig, s)
}

// thinking is how a model family takes thinking, per the per-model table
// of platform.claude.com/docs/en/build-with-claude/thinking-troubleshooting
// ("Thinking support, defaults, and rejected configurations by model").
type thinking int

const (
	// adaptiveFamily: thinking {type: adaptive} (on by default on the
	// newest), depth set by output_config.effort; {type: disabled} turns it
	// off. Claude Opus 4.6+, Sonnet 4.6+, Opus 5.x, Haiku 5.5, and any
	// model this table does not know.
	adaptiveFamily thinking = iota
	// betweenToolsFamily: Claude Sonnet 5.5 rejects {type: disabled} with a
	// 400 and takes {type: between_tools} as its lowest setting, at low,
	// medium or high effort
	// (platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5,
	// "Turn off up-front thinking with between_tools").
	betweenToolsFamily
	// adaptiveOnlyFamily: Claude Fable 5.x and Mythos 5.x support only
	// adaptive thinking; disabled and enabled return a 400.
	adaptiveOnlyFamily
	// budgetFamily: Claude 4.5 and earlier thinking models (Sonnet 4.5,
	// Haiku 4.5, Opus 4.5, Opus 4.1, Sonnet/Opus 4, Sonnet 3.7) know only
	// manual extended thinking, {type: enabled, budget_tokens: N} with
	// 1024 <= N < max_tokens
	// (platform.claude.com/docs/en/build-with-claude/extended-thinking); it
	// is off unless asked for.
	budgetFamily
)

// familyOf places a model id (or a dated snapshot of one) in its family.
func familyOf(model string) thinking {
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(model, p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("claude-sonnet-5-5"):
		return betweenToolsFamily
	case has("claude-fable-5", "claude-mythos-5"):
		return adaptiveOnlyFamily
	case has("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5", "claude-opus-4-1", "claude-opus-4-0",
		"claude-sonnet-4-0", "claude-opus-4-2025", "claude-sonnet-4-2025", "claude-3-7-sonnet"):
		return budgetFamily
	}
	return adaptiveFamily
}

// Thinking budgets for the budget family, cut to half of max_tokens so the
// answer keeps room (thinking tokens count toward max_tokens).
var budgets = map[Effort]int{EffortMinimal: 1024, EffortLow: 1024, EffortMedium: 4096, EffortHigh: 16384}

// minBudget is the smallest budget_tokens the API accepts.
const minBudget = 1024

// reasoning is what a request carries for an effort.
type reasoning struct {
	thinking sdk.ThinkingConfigParamUnion
	effort   sdk.OutputConfigEffort // "" sends no output_config
}

// reasoningFor maps llm.reasoning_effort onto the Messages API
// (platform.claude.com/docs/en/build-with-claude/effort: output_config.effort
// is low, medium or high — high is the default, the same as omitting it —
// and xhigh or max, which ops-skill never sends):
//
//	effort    adaptive family        Sonnet 5.5              Fable/Mythos 5         4.5 and earlier
//	""        nothing: the model's default (Sonnet 5.5: adaptive thinking at high effort)
//	none      thinking disabled      thinking between_tools  adaptive, effort low   thinking disabled
//	minimal   adaptive, effort low   adaptive, effort low    adaptive, effort low   enabled, budget 1024
//	low       adaptive, effort low   adaptive, effort low    adaptive, effort low   enabled, budget 1024
//	medium    adaptive, effort med.  adaptive, effort med.   adaptive, effort med.  enabled, budget 4096
//	high      adaptive, effort high  adaptive, effort high   adaptive, effort high  enabled, budget 16384
//
// A budget is cut to half of max_tokens; under 1024 thinking stays off.
// Anthropic has no level under low, so minimal is low. The configuration
// is the same on every call of a client, as a tool-use loop requires (one
// thinking configuration per assistant turn).
func reasoningFor(model string, e Effort, maxTokens int) reasoning {
	fam := familyOf(model)
	switch {
	case e == EffortDefault:
		return reasoning{}
	case fam == budgetFamily:
		return budgetReasoning(e, maxTokens)
	case e == EffortNone && fam == betweenToolsFamily:
		return reasoning{thinking: sdk.ThinkingConfigParamUnion{OfBetweenTools: &sdk.ThinkingConfigBetweenToolsParam{}}}
	case e == EffortNone && fam == adaptiveFamily:
		return reasoning{thinking: disabled()}
	case e == EffortNone, e == EffortMinimal:
		return adaptive(sdk.OutputConfigEffortLow)
	}
	return adaptive(sdk.OutputConfigEffort(e))
}

func budgetReasoning(e Effort, maxTokens int) reasoning {
	b := min(budgets[e], maxTokens/2)
	if e == EffortNone || b < minBudget {
		return reasoning{thinking: disabled()}
	}
	return reasoning{thinking: sdk.ThinkingConfigParamUnion{OfEnabled: &sdk.ThinkingConfigEnabledParam{BudgetTokens: int64(b)}}}
}

func adaptive(e sdk.OutputConfigEffort) reasoning {
	return reasoning{thinking: sdk.ThinkingConfigParamUnion{OfAdaptive: &sdk.ThinkingConfigAdaptiveParam{}}, effort: e}
}

func disabled() sdk.ThinkingConfigParamUnion {
	return sdk.ThinkingConfigParamUnion{OfDisabled: &sdk.ThinkingConfigDisabledParam{}}
}
