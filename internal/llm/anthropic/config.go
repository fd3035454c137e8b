package anthropic

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/llm/httpx"
	"github.com/duet-company/ops-skill/internal/llm/provider"
)

// Defaults for the transport.
const (
	// DefaultTimeout bounds one HTTP attempt when Config.Timeout is zero.
	DefaultTimeout = 120 * time.Second
	// DefaultMaxRetries is the number of retries when Config.MaxRetries is zero.
	DefaultMaxRetries = 2
	// defaultMaxTokens is sent when a request sets none: the Messages API
	// requires max_tokens.
	defaultMaxTokens = 4096
)

// ErrConfig means the configuration cannot make a client, or the provider
// refused a setting (the key, the model) that only the operator can fix.
var ErrConfig = errors.New("invalid llm configuration")

// Config selects and reaches a Claude model through Anthropic's Messages API.
type Config struct {
	// Model is the model id (LLM_MODEL); empty means the provider table's
	// default for claude.
	Model string
	// APIKey is the Anthropic API key (LLM_API_KEY). Required unless BaseURL
	// is set (a proxy that adds its own). Never printed.
	APIKey string
	// BaseURL overrides the endpoint (LLM_BASE_URL), e.g. a gateway that
	// speaks the Messages API; "" means the provider table's.
	BaseURL string
	// Headers are extra request headers, each "Name: value" (LLM_HEADERS),
	// e.g. "anthropic-beta: context-1m" or "anthropic-workspace-id: wrkspc_…".
	// Values are treated as secrets. The key, version and content headers
	// cannot be set this way.
	Headers []string
	// ReasoningEffort is "", none, minimal, low, medium or high
	// (LLM_REASONING_EFFORT); see reasoningFor for what each sends.
	ReasoningEffort string
	// Timeout bounds each HTTP attempt (LLM_ATTEMPT_TIMEOUT); 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times a 408, 429, 5xx (529 overloaded
	// included) or transport failure is retried; 0 means
	// DefaultMaxRetries, negative means never.
	MaxRetries int
	// HTTPClient is used for the calls (copied; its Timeout is replaced by
	// Timeout and its transport bounded). Nil means a new client.
	HTTPClient *http.Client
	// Now is the clock that decides whether a model is retired yet; nil:
	// the wall clock.
	Now func() time.Time
}

// settings is a validated Config with every default applied.
type settings struct {
	model      string
	baseURL    string
	customURL  bool
	headers    []header
	effort     Effort
	timeout    time.Duration
	maxRetries int
	secrets    []string
}

type header struct{ name, value string }

// resolve validates cfg and applies the defaults.
func resolve(cfg Config) (settings, error) {
	p, err := provider.Lookup(string(provider.Claude))
	if err != nil {
		return settings{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := settings{model: strings.TrimSpace(cfg.Model), baseURL: p.Endpoints[0].URL}
	if s.model == "" {
		s.model = p.DefaultModel
	}
	if u := strings.TrimSpace(cfg.BaseURL); u != "" {
		secrets, err := checkBaseURL(u)
		if err != nil {
			return settings{}, err
		}
		s.baseURL, s.customURL, s.secrets = u, true, secrets
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	// A gateway at LLM_BASE_URL still serves Anthropic's model ids, so a
	// retired one is refused there too.
	if err := provider.CheckRetired(provider.Claude, s.model, now()); err != nil {
		return settings{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.APIKey == "" && !s.customURL {
		return settings{}, fmt.Errorf("%w: provider claude needs an API key: set LLM_API_KEY (or LLM_BASE_URL for a gateway that adds its own)", ErrConfig)
	}
	if cfg.APIKey != "" {
		s.secrets = append(s.secrets, cfg.APIKey)
	}
	if s.headers, err = parseHeaders(cfg.Headers); err != nil {
		return settings{}, err
	}
	for _, h := range s.headers {
		s.secrets = append(s.secrets, h.value)
	}
	if s.effort, err = ParseEffort(cfg.ReasoningEffort); err != nil {
		return settings{}, err
	}
	if s.timeout, err = attemptTimeout(cfg.Timeout); err != nil {
		return settings{}, err
	}
	s.maxRetries = retries(cfg.MaxRetries)
	return s, nil
}

func attemptTimeout(d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("%w: attempt timeout %s is negative: set LLM_ATTEMPT_TIMEOUT to a positive duration", ErrConfig, d)
	case d == 0:
		return DefaultTimeout, nil
	}
	return d, nil
}

func retries(n int) int {
	switch {
	case n < 0:
		return 0
	case n == 0:
		return DefaultMaxRetries
	}
	return n
}

// checkBaseURL accepts an absolute http(s) URL and returns the credentials
// it carries, which must never be printed.
func checkBaseURL(raw string) ([]string, error) {
	secrets, err := httpx.URLSecrets(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: LLM_BASE_URL must be an absolute http or https URL, e.g. https://api.anthropic.com", ErrConfig)
	}
	return secrets, nil
}

// reservedHeaders are set by the adapter and the SDK; LLM_HEADERS may not
// replace them (a second key, another API version the types do not match).
var reservedHeaders = []string{"authorization", "x-api-key", "anthropic-version", "content-type", "content-length", "host"}

// parseHeaders reads "Name: value" items. A value is never quoted in an
// error: it may be a credential.
func parseHeaders(items []string) ([]header, error) {
	var out []header
	for i, item := range items {
		name, value, ok := strings.Cut(item, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok || name == "" || value == "":
			return nil, fmt.Errorf("%w: LLM_HEADERS item %d is not \"Name: value\", e.g. anthropic-beta: context-1m", ErrConfig, i+1)
		case !validHeaderName(name):
			return nil, fmt.Errorf("%w: LLM_HEADERS item %d: %q is not a header name", ErrConfig, i+1, name)
		case slices.Contains(reservedHeaders, strings.ToLower(name)):
			return nil, fmt.Errorf("%w: LLM_HEADERS item %d: %s is set by ops-skill (the key goes in LLM_API_KEY)", ErrConfig, i+1, name)
		case strings.ContainsAny(value, "\r\n"):
			return nil, fmt.Errorf("%w: LLM_HEADERS item %d (%s): the value has a line break", ErrConfig, i+1, name)
		}
		out = append(out, header{name: name, value: value})
	}
	return out, nil
}

func validHeaderName(name string) bool {
	for _, c := range name {
		ok := c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

// httpClient is the client for the calls: a copy of the configured one (or
// a new one) with the per-attempt timeout and bounded replies.
func (s settings) httpClient(base *http.Client) *http.Client {
	var hc http.Client
	if base != nil {
		hc = *base
	}
	hc.Timeout = s.timeout
	hc.Transport = httpx.Bounded(hc.Transport, httpx.MaxReplyBytes)
	return &hc
}
