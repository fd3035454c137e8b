// Package provider is the one table of the LLM providers ops-skill speaks
// to: for each, the wire format, endpoints, default model, what it accepts
// on the forced last turn, which rate limits are final, and the model ids it
// has retired. The adapters (llm/openai for chat completions, llm/anthropic
// for Anthropic's Messages API) read their behaviour from it; the README's
// provider table is generated from it (a test keeps the two equal).
package provider

import (
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
	// CallIDs: the provider gives every tool call an id (Ollama does not;
	// the adapter makes one up).
	CallIDs bool
	// FinalRateLimits are error codes of a 429 that no retry can help
	// (Z.ai's 1113: the account has no balance): reported at once, with
	// the fix.
	FinalRateLimits []FinalCode
	// Reasoning is how llm.reasoning_effort reaches the provider.
	Reasoning string
	// Doc names the provider's pages the profile was built from.
	Doc string
}

// FinalCode is a provider error code after which retrying is pointless.
type FinalCode struct {
	Code string
	Fix  string
}

// Checked is when the table was last compared with the providers' pages.
const Checked = "2026-12-04"

// Profiles is the table, in the order the README shows it.
func Profiles() []Profile {
	return []Profile{
		{Name: Claude, Wire: WireMessages, NeedsKey: true, CallIDs: true, DefaultModel: "claude-sonnet-5-5",
			Endpoints: []Endpoint{{Name: "default", URL: "https://api.anthropic.com"}},
			LastTurn:  LastTurnToolChoiceNone, Reasoning: "adaptive thinking; effort in output_config",
			Doc: "Anthropic Messages API, tool use, extended thinking, prompt caching (platform.claude.com/docs)"},
		{Name: OpenAI, Wire: WireChatCompletions, NeedsKey: true, CallIDs: true, DefaultModel: "gpt-6-luna",
			Endpoints: []Endpoint{{Name: "default", URL: "https://api.openai.com/v1"}},
			LastTurn:  LastTurnToolChoiceNone, Reasoning: "reasoning_effort",
			Doc: "OpenAI API reference, Chat Completions (developers.openai.com/api/reference)"},
		{Name: ZAI, Wire: WireChatCompletions, NeedsKey: true, CallIDs: true, DefaultModel: "glm-5",
			Endpoints: []Endpoint{
				{Name: "international", URL: "https://api.z.ai/api/paas/v4/"},
				{Name: "coding", URL: "https://api.z.ai/api/coding/paas/v4/", Note: "GLM Coding Plan"},
				{Name: "mainland", URL: "https://open.bigmodel.cn/api/paas/v4/", Note: "Zhipu BigModel, mainland China"},
			},
			LastTurn:        LastTurnOmitTools,
			FinalRateLimits: []FinalCode{{Code: "1113", Fix: "the Z.ai account has no balance: top it up, or use the Coding Plan endpoint (LLM_ENDPOINT=coding) with a plan key"}},
			Reasoning:       `thinking {"type": "enabled"|"disabled"}`,
			Doc:             "Z.ai API reference, Chat Completion; error codes (docs.z.ai)"},
		{Name: Ollama, Wire: WireChatCompletions, CallIDs: false, DefaultModel: "",
			Endpoints: []Endpoint{{Name: "default", URL: "http://localhost:11434/v1", Note: "no key needed"}},
			LastTurn:  LastTurnOmitTools, Reasoning: "reasoning_effort",
			Doc: "Ollama, OpenAI compatibility (docs.ollama.com/api/openai-compatibility)"},
		{Name: VLLM, Wire: WireChatCompletions, CallIDs: true, DefaultModel: "",
			Endpoints: []Endpoint{{Name: "default", URL: "http://localhost:8000/v1", Note: "no key needed; serve with --enable-auto-tool-choice --tool-call-parser"}},
			LastTurn:  LastTurnToolChoiceNone, Reasoning: "reasoning_effort",
			Doc: "vLLM, Tool Calling; OpenAI-Compatible Server (docs.vllm.ai)"},
	}
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
var ErrUnknown = fmt.Errorf("unknown llm provider")

// Lookup finds a provider's profile by its configured name (case and
// surrounding space ignored).
func Lookup(name string) (Profile, error) {
	n := Name(strings.ToLower(strings.TrimSpace(name)))
	for _, p := range Profiles() {
		if p.Name == n {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("%w %q: set LLM_PROVIDER to one of %s", ErrUnknown, name, joinNames())
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
		return Endpoint{}, fmt.Errorf("%w: endpoint %q of %s: set LLM_ENDPOINT to %s, or LLM_BASE_URL", ErrUnknown, name, p.Name, strings.Join(names, ", "))
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
