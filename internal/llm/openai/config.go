package openai

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

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

// ErrConfig means the configuration cannot make a client.
var ErrConfig = errors.New("invalid llm configuration")

// Config selects and reaches a model.
type Config struct {
	// Provider is "openai", "claude" or "zai" (LLM_PROVIDER).
	Provider string
	// Model is the model name (LLM_MODEL); empty means the provider's
	// default: gpt-6-luna, claude-sonnet-5-5 or glm-5.
	Model string
	// APIKey is the bearer token (LLM_API_KEY). Required unless BaseURL is
	// set (a local Ollama or vLLM needs none). Never printed.
	APIKey string
	// Now is the clock that decides whether a model is retired yet; nil:
	// the wall clock.
	Now func() time.Time
	// BaseURL overrides the provider's endpoint (LLM_BASE_URL): any
	// OpenAI-compatible server, e.g. http://localhost:11434/v1.
	BaseURL string
	// Timeout bounds each HTTP attempt; 0 means DefaultTimeout.
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
	provider   string
	model      string
	baseURL    string
	customURL  bool
	timeout    time.Duration
	maxRetries int
	secrets    []string
}

// resolve validates cfg and applies the defaults.
func resolve(cfg Config) (settings, error) {
	s := settings{provider: strings.ToLower(strings.TrimSpace(cfg.Provider)), model: strings.TrimSpace(cfg.Model)}
	defURL, defModel, ok := providerDefaults(s.provider)
	if !ok {
		return settings{}, fmt.Errorf("%w: unknown provider %q: set LLM_PROVIDER to openai, claude or zai", ErrConfig, cfg.Provider)
	}
	if s.model == "" {
		s.model = defModel
	}
	s.baseURL = defURL
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
	if err := checkRetired(s, now()); err != nil {
		return settings{}, err
	}
	if cfg.APIKey == "" && !s.customURL {
		return settings{}, fmt.Errorf("%w: provider %s needs an API key: set LLM_API_KEY (or LLM_BASE_URL for a local server)", ErrConfig, s.provider)
	}
	if cfg.APIKey != "" {
		s.secrets = append(s.secrets, cfg.APIKey)
	}
	switch {
	case cfg.Timeout < 0:
		return settings{}, fmt.Errorf("%w: timeout %s is negative", ErrConfig, cfg.Timeout)
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
	return s, nil
}

// providerDefaults is the base URL and model a provider uses by default,
// from the provider table.
func providerDefaults(name string) (baseURL, model string, ok bool) {
	p, err := provider.Lookup(name)
	if err != nil {
		return "", "", false
	}
	if name == ProviderClaude {
		return "https://api.anthropic.com/v1/", p.DefaultModel, true
	}
	return p.Endpoints[0].URL, p.DefaultModel, true
}

// checkBaseURL accepts an absolute http(s) URL and returns the credentials
// it carries, which must never be printed.
func checkBaseURL(raw string) ([]string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: LLM_BASE_URL must be an absolute http or https URL, e.g. http://localhost:11434/v1", ErrConfig)
	}
	var secrets []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p)
		}
		if name := u.User.Username(); name != "" {
			secrets = append(secrets, name)
		}
	}
	return secrets, nil
}

// httpClient is the client for the calls: a copy of the configured one (or
// a new one) with the per-attempt timeout.
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
	hc.Transport = boundedReplies{next: rt, limit: MaxReplyBytes}
	return &hc
}

// MaxReplyBytes bounds the body of a provider's reply: a planner turn is a
// few KiB; a misbehaving model's megabytes would otherwise be read, kept and
// sent back in the next request.
const MaxReplyBytes = 1 << 20

// ErrReplyTooLarge is a reply body over MaxReplyBytes.
var ErrReplyTooLarge = errors.New("the provider's reply is larger than ops-skill reads")

// boundedReplies cuts every reply body at limit bytes: reading past it fails.
type boundedReplies struct {
	next  http.RoundTripper
	limit int64
}

func (b boundedReplies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &boundedBody{rc: resp.Body, left: b.limit}
	return resp, nil
}

type boundedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w (%d bytes at most)", ErrReplyTooLarge, MaxReplyBytes)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// completionTokensField reports whether the token limit goes in
// max_completion_tokens (OpenAI's own API, and reasoning models, which
// reject max_tokens) rather than max_tokens (Anthropic's and Z.ai's
// compatible endpoints, Ollama, vLLM).
func (s settings) completionTokensField() bool {
	if s.provider == ProviderOpenAI && !s.customURL {
		return true
	}
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(s.model, p) {
			return true
		}
	}
	return false
}
