// Package provider is the one table of the LLM providers ops-skill speaks
// to: for each, the wire format, endpoints, default model, what it accepts
// on the forced last turn, which rate limits are final, and the model ids it
// has retired. The adapters (llm/openai for chat completions, llm/anthropic
// for Anthropic's Messages API) read their behaviour from it; the README's
// provider table is generated from it (a test keeps the two equal).
package provider

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Name is a provider as configured in llm.provider (LLM_PROVIDER).
type Name string

// Providers.
const (
	Claude Name = "claude" // Anthropic, through its Messages API
	OpenAI Name = "openai" // OpenAI, or any OpenAI-compatible LLM_BASE_URL
	ZAI    Name = "zai"    // Z.ai GLM (international, Coding Plan or mainland endpoint)
	Ollama Name = "ollama" // a local Ollama, through its OpenAI-compatible endpoint
	VLLM   Name = "vllm"   // a vLLM server, through its OpenAI-compatible endpoint
)

// Wire is the protocol an adapter speaks to a provider.
type Wire int

// Wire formats.
const (
	WireChatCompletions Wire = iota // OpenAI's /chat/completions
	WireMessages                    // Anthropic's /v1/messages
)

func (w Wire) String() string {
	if w == WireMessages {
		return "Anthropic Messages"
	}
	return "OpenAI chat completions"
}

// LastTurn is how the forced last turn (an answer, no more calls) is asked.
type LastTurn int

// Last-turn shapes.
const (
	// LastTurnToolChoiceNone sends the tools with tool_choice "none".
	LastTurnToolChoiceNone LastTurn = iota
	// LastTurnOmitTools sends no tools and no tool_choice: for providers
	// that accept only "auto" or ignore the field, so that the model cannot
	// call and the answer is not dropped.
	LastTurnOmitTools
)

func (l LastTurn) String() string {
	if l == LastTurnOmitTools {
		return "tools omitted"
	}
	return `tool_choice "none"`
}

// Endpoint is one base URL a provider serves.
type Endpoint struct {
	Name string // as set in llm.endpoint (LLM_ENDPOINT); the first is the default
	URL  string
	Note string
}

// Profile is what ops-skill knows of one provider.
type Profile struct {
	Name      Name
	Wire      Wire
	Endpoints []Endpoint
	// DefaultModel is used when llm.model is empty; "" means the server
	// serves what its operator loaded, so LLM_MODEL is required.
	DefaultModel string
	// NeedsKey: an API key is required unless LLM_BASE_URL is set.
	NeedsKey bool
	LastTurn LastTurn
	// ToolChoices are the tool_choice values the provider accepts; empty
	// means it ignores the field, so the adapter sends none.
	ToolChoices []string
	// TokenLimit is the request field that bounds a reply.
	TokenLimit TokenLimit
	// CallIDs: the provider gives every tool call an id (the adapter makes
	// one up for a server that does not).
	CallIDs bool
	// HistoryArgsObjects: the provider decodes the arguments of the earlier
	// tool calls a request carries as JSON objects and refuses the request
	// otherwise (Ollama), so arguments that are not one are sent as {}.
	HistoryArgsObjects bool
	// FinalRateLimits are error codes of a 429 that no retry can help
	// (Z.ai's 1113: the account has no balance): reported at once, with
	// the fix.
	FinalRateLimits []FinalCode
	// SetupErrors are error replies that mean the server is not set up for
	// tool calling (vLLM without --enable-auto-tool-choice): reported at
	// once as a configuration error, with the fix.
	SetupErrors []SetupError
	// Effort is how llm.reasoning_effort reaches the provider; Reasoning
	// says it in words.
	Effort    EffortField
	Reasoning string
	// EffortValues are the reasoning_effort values the provider accepts,
	// lowest first; another is sent as the next one up that it accepts
	// (minimal as low). Empty: any, the model decides.
	EffortValues []string
	// Models are rules for model ids whose tool calling differs (OpenAI's
	// GPT-6 family).
	Models []ModelRule
	// Notes is what else the README says of the provider.
	Notes string
	// Doc names the provider's pages the profile was built from.
	Doc string
}

// FinalCode is a provider error code after which retrying is pointless.
type FinalCode struct {
	Code string
	Fix  string
}

// SetupError is an error reply whose text contains Match: the server must
// be started differently, as Fix says.
type SetupError struct {
	Status int
	Match  string
	Fix    string
}

// TokenLimit is the request field that bounds a reply's tokens.
type TokenLimit int

// Token limit fields.
const (
	MaxTokens           TokenLimit = iota // max_tokens
	MaxCompletionTokens                   // max_completion_tokens (OpenAI; its reasoning models refuse max_tokens)
)

func (t TokenLimit) String() string {
	if t == MaxCompletionTokens {
		return "max_completion_tokens"
	}
	return "max_tokens"
}

// EffortField is how a reasoning effort is sent.
type EffortField int

// Effort fields.
const (
	EffortReasoningEffort EffortField = iota // "reasoning_effort": "<effort>"
	EffortThinking                           // Z.ai: "thinking": {"type": "enabled"|"disabled"}; none disables it
	EffortOutputConfig                       // Anthropic's Messages API (llm/anthropic)
)

// Checked is when the table was last compared with the providers' pages.
const Checked = "2026-12-04"

// Profiles is the table, in the order the README shows it.
func Profiles() []Profile {
	return []Profile{
		{Name: Claude, Wire: WireMessages, NeedsKey: true, CallIDs: true, DefaultModel: "claude-sonnet-5-5",
			Endpoints: []Endpoint{{Name: "default", URL: "https://api.anthropic.com"}},
			LastTurn:  LastTurnToolChoiceNone, ToolChoices: []string{"auto", "none", "any", "tool"}, TokenLimit: MaxTokens,
			Effort: EffortOutputConfig, Reasoning: "adaptive thinking; effort in output_config",
			Doc: "Anthropic Messages API, tool use, extended thinking, prompt caching (platform.claude.com/docs)"},
		openAIProfile(),
		zaiProfile(),
		{Name: Ollama, Wire: WireChatCompletions, CallIDs: true, DefaultModel: "",
			Endpoints: []Endpoint{{Name: "default", URL: "http://localhost:11434/v1"}},
			// The OpenAI compatibility page lists max_tokens, not
			// max_completion_tokens; its request has no tool_choice, so the
			// field is ignored and the last turn is asked without tools.
			LastTurn: LastTurnOmitTools, TokenLimit: MaxTokens, HistoryArgsObjects: true,
			// Ollama's OpenAI layer turns reasoning_effort into its think
			// option and refuses a value other than high, medium, low or
			// none.
			Effort: EffortReasoningEffort, Reasoning: "reasoning_effort (minimal sent as low)", EffortValues: []string{"none", "low", "medium", "high"},
			Notes: "`tool_choice` ignored; arguments of earlier calls must be JSON objects",
			Doc:   "Ollama, OpenAI compatibility (docs.ollama.com/api/openai-compatibility)"},
		{Name: VLLM, Wire: WireChatCompletions, CallIDs: true, DefaultModel: "",
			Endpoints: []Endpoint{{Name: "default", URL: "http://localhost:8000/v1"}},
			LastTurn:  LastTurnToolChoiceNone, ToolChoices: []string{"auto", "none", "required", "named"}, TokenLimit: MaxTokens,
			SetupErrors: []SetupError{{Status: 400, Match: "--enable-auto-tool-choice",
				Fix: "the vLLM server was started without tool calling: restart it with --enable-auto-tool-choice --tool-call-parser NAME (the model's parser, e.g. hermes)"}},
			Effort: EffortReasoningEffort, Reasoning: "reasoning_effort",
			Notes: "serve with `--enable-auto-tool-choice --tool-call-parser NAME`, or every call with tools is refused",
			Doc:   "vLLM, Tool Calling; OpenAI-Compatible Server (docs.vllm.ai)"},
	}
}

// openAIProfile is OpenAI's row: its reasoning models take
// max_completion_tokens, and the GPT-6 family calls tools over Chat
// Completions only with reasoning_effort none, or not at all.
func openAIProfile() Profile {
	return Profile{Name: OpenAI, Wire: WireChatCompletions, NeedsKey: true, CallIDs: true, DefaultModel: "gpt-6-luna",
		Endpoints:   []Endpoint{{Name: "default", URL: "https://api.openai.com/v1"}},
		LastTurn:    LastTurnToolChoiceNone,
		ToolChoices: []string{"auto", "none", "required", "named"}, TokenLimit: MaxCompletionTokens,
		Effort: EffortReasoningEffort, Reasoning: "reasoning_effort; none with tools on gpt-6-luna and gpt-6-sol",
		Models: openAIModels(),
		Notes:  "gpt-6-astra, gpt-6.1-sol, gpt-6.1-terra call tools only through the Responses API: refused",
		Doc:    "OpenAI API reference, Chat Completions; models gpt-6-luna, gpt-6.1-terra; deployment checklist (developers.openai.com/api)"}
}

// zaiProfile is Z.ai's row. Its chat completion accepts tool_choice "auto"
// only, so the last turn is asked without tools (the earlier tool calls and
// results stay in the messages, which the message schema allows without
// tools); the 429s of an empty account or a spent plan are final.
func zaiProfile() Profile {
	return Profile{Name: ZAI, Wire: WireChatCompletions, NeedsKey: true, CallIDs: true, DefaultModel: "glm-5",
		Endpoints: []Endpoint{
			{Name: "international", URL: "https://api.z.ai/api/paas/v4/"},
			{Name: "coding", URL: "https://api.z.ai/api/coding/paas/v4/", Note: "GLM Coding Plan"},
			{Name: "mainland", URL: "https://open.bigmodel.cn/api/paas/v4/", Note: "Zhipu BigModel, mainland China"},
		},
		LastTurn: LastTurnOmitTools, ToolChoices: []string{"auto"}, TokenLimit: MaxTokens,
		FinalRateLimits: []FinalCode{
			{Code: "1113", Fix: "the Z.ai account has no balance: top it up, or use the Coding Plan endpoint (LLM_ENDPOINT=coding) with a plan key"},
			{Code: "1304", Fix: "the daily call limit of this Z.ai API is reached: wait for tomorrow or raise the limit with Z.ai"},
			{Code: "1308", Fix: "the usage limit of the Z.ai plan is reached until its reset time: wait, or use a pay-as-you-go key on the international endpoint"},
			{Code: "1309", Fix: "the GLM Coding Plan has expired: renew it at z.ai/subscribe"},
		},
		Effort: EffortThinking, Reasoning: `thinking {"type": "enabled"|"disabled"}; none disables it`,
		Notes: "`tool_choice` \"auto\" only; finish_reason `sensitive`, `network_error`; arguments may come as an object",
		Doc:   "Z.ai API reference, Chat Completion; error codes (docs.z.ai/api-reference)"}
}

// Names lists the providers, in table order.
func Names() []Name {
	var out []Name
	for _, p := range Profiles() {
		out = append(out, p.Name)
	}
	return out
}

// ErrUnknown is a provider or endpoint the table does not have.
var ErrUnknown = errors.New("unknown to the provider table")

// Lookup finds a provider's profile by its configured name (case and
// surrounding space ignored).
func Lookup(name string) (Profile, error) {
	n := Name(strings.ToLower(strings.TrimSpace(name)))
	for _, p := range Profiles() {
		if p.Name == n {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("llm provider %q is %w: set LLM_PROVIDER to one of %s", name, ErrUnknown, joinNames())
}

// Endpoint finds a named endpoint; "" is the first one.
func (p Profile) Endpoint(name string) (Endpoint, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return p.Endpoints[0], nil
	}
	i := slices.IndexFunc(p.Endpoints, func(e Endpoint) bool { return e.Name == name })
	if i < 0 {
		var names []string
		for _, e := range p.Endpoints {
			names = append(names, e.Name)
		}
		return Endpoint{}, fmt.Errorf("endpoint %q of %s is %w: set LLM_ENDPOINT to %s, or set LLM_BASE_URL", name, p.Name, ErrUnknown, strings.Join(names, ", "))
	}
	return p.Endpoints[i], nil
}

// FinalRateLimit reports whether a 429 with this error code is final, and
// its fix.
func (p Profile) FinalRateLimit(code string) (FinalCode, bool) {
	for _, c := range p.FinalRateLimits {
		if c.Code == code {
			return c, true
		}
	}
	return FinalCode{}, false
}

func joinNames() string {
	var s []string
	for _, n := range Names() {
		s = append(s, string(n))
	}
	return strings.Join(s, ", ")
}

// day parses a table date.
func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}
