package openai

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/llm/httpx"
	"github.com/duet-company/ops-skill/internal/llm/provider"
)

// Providers this adapter serves, as named in llm.provider.
const (
	ProviderOpenAI = string(provider.OpenAI)
	ProviderClaude = string(provider.Claude) // through Anthropic's OpenAI-compatible endpoint; the claude provider uses llm/anthropic
	ProviderZAI    = string(provider.ZAI)
	ProviderOllama = string(provider.Ollama)
	ProviderVLLM   = string(provider.VLLM)
)

// Defaults for the transport.
const (
	// DefaultTimeout bounds one HTTP attempt when Config.Timeout is zero.
	DefaultTimeout = 120 * time.Second
	// DefaultMaxRetries is the number of retries when Config.MaxRetries is zero.
	DefaultMaxRetries = 2
)

// ErrConfig means the configuration cannot make a client, or the server is
// not set up for what ops-skill asks of it (a vLLM without tool calling).
var ErrConfig = errors.New("invalid llm configuration")

// Config selects and reaches a model. internal/app fills it from config.LLM.
type Config struct {
	// Provider is openai, claude, zai, ollama or vllm (LLM_PROVIDER).
	Provider string
	// Model is the model name (LLM_MODEL); empty means the provider's
	// default (gpt-6-luna, claude-sonnet-5-5, glm-5). Ollama and vLLM have
	// none: they serve what their operator loaded, so it is required.
	Model string
	// APIKey is the bearer token (LLM_API_KEY). The hosted providers need
	// one unless BaseURL is set; Ollama and vLLM need none. Never printed.
	APIKey string
	// Now is the clock that decides whether a model is retired yet; nil:
	// the wall clock.
	Now func() time.Time
	// Endpoint names one of the provider's endpoints (LLM_ENDPOINT; Z.ai:
	// international, coding, mainland); empty: its first. BaseURL
	// overrides it.
	Endpoint string
	// BaseURL overrides the provider's endpoint (LLM_BASE_URL): any
	// OpenAI-compatible server, e.g. http://localhost:11434/v1.
	BaseURL string
	// Headers are sent on every request, each "Name: value" (LLM_HEADERS).
	// They cannot replace what ops-skill sets itself (Authorization,
	// Content-Type...). Their values are never printed.
	Headers []string
	// ReasoningEffort is "", none, minimal, low, medium or high
	// (LLM_REASONING_EFFORT); empty: the provider's default. OpenAI, vLLM
	// and Ollama get it as reasoning_effort (OpenAI's gpt-6-luna and
	// gpt-6-sol call tools only with none, which is sent when it is
	// empty); Z.ai as thinking {"type": "disabled"} for none and
	// {"type": "enabled"} for the others.
	ReasoningEffort string
	// Timeout bounds each HTTP attempt (llm.attempt_timeout,
	// LLM_ATTEMPT_TIMEOUT); 0 means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient is used for the calls (copied; its Timeout is replaced
	// by Timeout). Nil means a new client.
	HTTPClient *http.Client
	// MaxRetries is how many times a 408, 429, 5xx or transport failure is
	// retried; 0 means DefaultMaxRetries, negative means never.
	MaxRetries int
}

// settings is a validated Config with every default applied.
type settings struct {
	profile    provider.Profile
	provider   string
	model      string
	baseURL    string
	customURL  bool
	timeout    time.Duration
	maxRetries int
	secrets    []string
	headers    http.Header
	wire       wireOptions
}

// resolve validates cfg and applies the defaults.
func resolve(cfg Config) (settings, error) {
	p, err := provider.Lookup(cfg.Provider)
	if err != nil {
		return settings{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := settings{profile: p, provider: string(p.Name), model: strings.TrimSpace(cfg.Model)}
	if s.model == "" {
		s.model = p.DefaultModel
	}
	if s.model == "" {
		return settings{}, fmt.Errorf("%w: provider %s serves the models its operator loaded: set LLM_MODEL to one the server lists (GET /v1/models)", ErrConfig, s.provider)
	}
	if err := s.resolveURL(cfg); err != nil {
		return settings{}, err
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	if err := checkRetired(s, now()); err != nil {
		return settings{}, err
	}
	if cfg.APIKey == "" && p.NeedsKey && !s.customURL {
		return settings{}, fmt.Errorf("%w: provider %s needs an API key: set LLM_API_KEY (or LLM_BASE_URL for a local server)", ErrConfig, s.provider)
	}
	if cfg.APIKey != "" {
		s.secrets = append(s.secrets, cfg.APIKey)
	}
	if s.headers, err = parseHeaders(cfg.Headers); err != nil {
		return settings{}, err
	}
	for _, vs := range s.headers {
		s.secrets = append(s.secrets, vs...)
	}
	if s.wire, err = s.wireOptions(cfg.ReasoningEffort); err != nil {
		return settings{}, err
	}
	return s, s.resolveTransport(cfg)
}

// resolveURL sets the base URL: LLM_BASE_URL, else the named endpoint.
func (s *settings) resolveURL(cfg Config) error {
	if u := strings.TrimSpace(cfg.BaseURL); u != "" {
		secrets, err := checkBaseURL(u)
		if err != nil {
			return err
		}
		s.baseURL, s.customURL, s.secrets = u, true, secrets
		return nil
	}
	if s.provider == ProviderClaude {
		// This adapter reaches Claude through Anthropic's OpenAI-compatible
		// endpoint; llm/anthropic speaks the Messages API.
		s.baseURL = "https://api.anthropic.com/v1/"
		return nil
	}
	e, err := s.profile.Endpoint(cfg.Endpoint)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s.baseURL = e.URL
	return nil
}

// resolveTransport applies the per-attempt timeout and the retry defaults.
func (s *settings) resolveTransport(cfg Config) error {
	switch {
	case cfg.Timeout < 0:
		return fmt.Errorf("%w: timeout %s is negative", ErrConfig, cfg.Timeout)
	case cfg.Timeout == 0:
		s.timeout = DefaultTimeout
	default:
		s.timeout = cfg.Timeout
	}
	switch {
	case cfg.MaxRetries < 0:
		s.maxRetries = 0
	case cfg.MaxRetries == 0:
		s.maxRetries = DefaultMaxRetries
	default:
		s.maxRetries = cfg.MaxRetries
	}
	return nil
}

// checkBaseURL accepts an absolute http(s) URL and returns the credentials
// it carries, which must never be printed.
func checkBaseURL(raw string) ([]string, error) {
	secrets, err := httpx.URLSecrets(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: LLM_BASE_URL must be an absolute http or https URL, e.g. http://localhost:11434/v1", ErrConfig)
	}
	return secrets, nil
}

// parseHeaders reads "Name: value" items, refusing those ops-skill and
// go-openai set (the key goes in LLM_API_KEY). Errors name the header,
// never its value.
func parseHeaders(items []string) (http.Header, error) {
	h := http.Header{}
	for _, item := range items {
		name, value, ok := strings.Cut(item, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok || name == "" || value == "":
			return nil, fmt.Errorf("%w: LLM_HEADERS: %q is not a header: write each as \"Name: value\"", ErrConfig, name+": ***")
		case strings.ContainsAny(name, " \t\r\n()<>@,;\\\"/[]?={}:") || strings.ContainsAny(value, "\r\n"):
			return nil, fmt.Errorf("%w: LLM_HEADERS: header %q has characters a header cannot carry", ErrConfig, name)
		}
		canonical := http.CanonicalHeaderKey(name)
		for _, r := range []string{"Authorization", "X-Api-Key", "Api-Key", "Content-Type", "Content-Length", "Host", "Accept"} {
			if canonical == http.CanonicalHeaderKey(r) {
				return nil, fmt.Errorf("%w: LLM_HEADERS: %s is set by ops-skill itself (the key goes in LLM_API_KEY)", ErrConfig, canonical)
			}
		}
		h.Add(canonical, value)
	}
	return h, nil
}

// httpClient is the client for the calls: a copy of the configured one (or
// a new one) with the per-attempt timeout and replies bounded.
func (s settings) httpClient(base *http.Client) *http.Client {
	var hc http.Client
	if base != nil {
		hc = *base
	}
	hc.Timeout = s.timeout
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = httpx.Bounded(rt, MaxReplyBytes)
	return &hc
}

// completionTokensField reports whether the token limit goes in
// max_completion_tokens: the provider's own field (OpenAI, whose reasoning
// models refuse max_tokens; the others take max_tokens), except that an
// OpenAI-compatible server at LLM_BASE_URL gets max_tokens unless the model
// is an OpenAI reasoning model (go-openai refuses max_tokens for those).
func (s settings) completionTokensField() bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(s.model, p) {
			return true
		}
	}
	if s.customURL && s.provider == ProviderOpenAI {
		return false
	}
	return s.profile.TokenLimit == provider.MaxCompletionTokens
}
