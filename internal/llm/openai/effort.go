package openai

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/duet-company/ops-skill/internal/llm/provider"
)

// wireOptions is what the profile adds to every request: reasoning_effort,
// or fields go-openai's request type lacks (Z.ai's thinking).
type wireOptions struct {
	effort string                     // reasoning_effort; "" sends none
	extra  map[string]json.RawMessage // top-level request fields added to the body
}

// wireOptions maps llm.reasoning_effort onto the provider's field and
// refuses what a model cannot do with tools over Chat Completions.
func (s settings) wireOptions(effort string) (wireOptions, error) {
	if effort != "" && !slices.Contains([]string{"none", "minimal", "low", "medium", "high"}, effort) {
		return wireOptions{}, fmt.Errorf("%w: reasoning effort %q: set LLM_REASONING_EFFORT to none, minimal, low, medium or high, or leave it empty", ErrConfig, effort)
	}
	switch s.profile.Effort {
	case provider.EffortThinking:
		return thinking(effort), nil
	case provider.EffortOutputConfig:
		return wireOptions{}, nil // Claude's compatible endpoint: effort is llm/anthropic's
	}
	if s.provider == ProviderOpenAI {
		return s.openAIEffort(effort)
	}
	return wireOptions{effort: nearestEffort(effort, s.profile.EffortValues)}, nil
}

// nearestEffort is effort, or the next one up the provider accepts.
func nearestEffort(effort string, accepted []string) string {
	if effort == "" || len(accepted) == 0 || slices.Contains(accepted, effort) {
		return effort
	}
	order := []string{"none", "minimal", "low", "medium", "high"}
	for _, e := range order[slices.Index(order, effort)+1:] {
		if slices.Contains(accepted, e) {
			return e
		}
	}
	return accepted[len(accepted)-1]
}

// thinking is Z.ai's switch: none disables thinking, any other effort
// enables it, "" leaves the model's default (GLM-5 thinks).
func thinking(effort string) wireOptions {
	switch effort {
	case "":
		return wireOptions{}
	case "none":
		return wireOptions{extra: map[string]json.RawMessage{"thinking": json.RawMessage(`{"type":"disabled"}`)}}
	}
	return wireOptions{extra: map[string]json.RawMessage{"thinking": json.RawMessage(`{"type":"enabled"}`)}}
}

// openAIEffort applies the model's tool rule: every planner request offers
// tools (the last turn with tool_choice none), so a model that calls tools
// over Chat Completions only with effort none gets none, and one that calls
// them only through the Responses API cannot be used.
func (s settings) openAIEffort(effort string) (wireOptions, error) {
	r, ok := s.profile.ModelRule(s.model)
	switch {
	case !ok:
		return wireOptions{effort: effort}, nil
	case r.Tools == provider.ToolsNeedResponses:
		return wireOptions{}, fmt.Errorf("%w: model %s calls tools only through OpenAI's Responses API, which ops-skill does not speak: set LLM_MODEL to gpt-6-luna or gpt-6-sol (%s)", ErrConfig, s.model, r.Source)
	case effort != "" && effort != "none":
		return wireOptions{}, fmt.Errorf("%w: model %s calls tools over Chat Completions only with reasoning_effort none: unset LLM_REASONING_EFFORT or set it to none (%s)", ErrConfig, s.model, r.Source)
	}
	return wireOptions{effort: "none"}, nil
}
