package provider

import "strings"

// ToolsRule is how a model may call tools over Chat Completions.
type ToolsRule int

// Tool rules.
const (
	// ToolsNeedEffortNone: function calling only with reasoning_effort
	// "none" (the model's default effort is not none, so it must be sent).
	ToolsNeedEffortNone ToolsRule = iota + 1
	// ToolsNeedResponses: function calling only through the Responses API,
	// which the chat-completions adapter does not speak.
	ToolsNeedResponses
)

// ModelRule is a rule for the model id Prefix and its snapshots and
// variants (Prefix-…).
type ModelRule struct {
	Prefix string
	Tools  ToolsRule
	Source string
}

// openAIModels are the GPT-6 family's rules, and GPT-5.4's on. The pages:
// "GPT-6 Astra and GPT-6.1 Sol require Responses for tool calling; GPT-6 Sol
// and GPT-6 Luna support function calling in Chat Completions only with
// reasoning_effort: "none"" (deployment checklist); GPT-6.1 Terra "calling
// tools requires the Responses API" (its model page); GPT-5.4 and later
// answer tools with another effort with 400 "Function tools with
// reasoning_effort are not supported for <model> in /v1/chat/completions"
// (OpenAI community forum, reported for gpt-5.4 and gpt-5.6).
func openAIModels() []ModelRule {
	const checklist = "OpenAI, deployment checklist (developers.openai.com/api/docs/guides/deployment-checklist)"
	const terra = "OpenAI, GPT-6.1 Terra (developers.openai.com/api/docs/models/gpt-6.1-terra)"
	const forum = "OpenAI community, gpt-5.6 chat completion reasoning effort (community.openai.com/t/1386454)"
	return []ModelRule{
		{"gpt-6-astra", ToolsNeedResponses, checklist},
		{"gpt-6.1-sol", ToolsNeedResponses, checklist},
		{"gpt-6.1-terra", ToolsNeedResponses, terra},
		{"gpt-6-sol", ToolsNeedEffortNone, checklist},
		{"gpt-6-luna", ToolsNeedEffortNone, checklist},
		{"gpt-5.4", ToolsNeedEffortNone, forum},
		{"gpt-5.5", ToolsNeedEffortNone, forum},
		{"gpt-5.6", ToolsNeedEffortNone, forum},
	}
}

// ModelRule finds the rule for a model id: its own, or its dated snapshot's
// or variant's ("gpt-6-luna-2026-09-22", "gpt-5.6-sol").
func (p Profile) ModelRule(model string) (ModelRule, bool) {
	model = strings.ToLower(strings.TrimSpace(model))
	var best ModelRule
	found := false
	for _, r := range p.Models {
		match := model == r.Prefix || strings.HasPrefix(model, r.Prefix+"-")
		if match && (!found || len(r.Prefix) > len(best.Prefix)) {
			best, found = r, true
		}
	}
	return best, found
}
