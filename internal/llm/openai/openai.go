// Package openai is the llm.Client for OpenAI-compatible chat-completions
// endpoints, built on github.com/sashabaranov/go-openai: OpenAI itself, Z.ai
// GLM, Ollama, vLLM, Anthropic's Claude through its OpenAI-compatible
// endpoint, and any server at a configured base URL (a proxy).
//
// What differs between them comes from the provider's profile
// (internal/llm/provider): how the forced last turn is asked (tool_choice
// "none", or no tools for Z.ai and Ollama), which tool_choice values are
// sent, the token limit field, how a reasoning effort is sent, the 429 codes
// no retry lifts and the replies that mean the server is not set up for tool
// calling.
//
// Failures are *Error values matching llm.ErrProvider (HTTP errors,
// timeouts, rate limits and server errors after bounded retries) or
// llm.ErrInvalidResponse (a reply that is not a usable chat completion).
// No error text ever contains the API key or a header's value.
package openai

import (
	"context"
	"sync/atomic"
	"time"

	goopenai "github.com/sashabaranov/go-openai"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/httpx"
	"github.com/duet-company/ops-skill/internal/llm/provider"
)

// Client talks to one model of one provider. It is safe for concurrent use.
type Client struct {
	profile             provider.Profile
	provider            string
	model               string
	apiKey              string
	baseURL             string
	useCompletionTokens bool
	timeout             time.Duration // per attempt
	wire                wireOptions
	secrets             []string
	newDoer             func() (*httpx.Retrier, wireDoer)
	seq                 atomic.Int64
}

var _ llm.Client = (*Client)(nil)

// Option adjusts a Client.
type Option func(*options)

type options struct {
	clock   clock.Clock
	backoff Backoff
}

// WithClock sets the clock retries wait on (default: the real clock).
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithBackoff sets the wait before each retry (default: DefaultBackoff).
// A Retry-After header from the provider takes precedence.
func WithBackoff(b Backoff) Option { return func(o *options) { o.backoff = b } }

// New validates cfg and returns a client. Errors match ErrConfig and name
// the environment variable to fix.
func New(cfg Config, opts ...Option) (*Client, error) {
	s, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	o := options{clock: clock.RealClock{}, backoff: DefaultBackoff}
	for _, opt := range opts {
		opt(&o)
	}
	hc := s.httpClient(cfg.HTTPClient)
	final := func(code string) bool { _, ok := s.profile.FinalRateLimit(code); return ok }
	return &Client{
		profile:             s.profile,
		provider:            s.provider,
		model:               s.model,
		apiKey:              cfg.APIKey,
		baseURL:             s.baseURL,
		useCompletionTokens: s.completionTokensField(),
		timeout:             s.timeout,
		wire:                s.wire,
		secrets:             s.secrets,
		newDoer: func() (*httpx.Retrier, wireDoer) {
			d := &httpx.Retrier{Client: hc, Clock: o.clock, Backoff: o.backoff, MaxRetries: s.maxRetries, Final: finalRateLimit(final)}
			return d, wireDoer{next: d, headers: s.headers, extra: s.wire.extra}
		},
	}, nil
}

// Name identifies the model in transcripts: "llm:<provider>/<model>".
func (c *Client) Name() string { return "llm:" + c.provider + "/" + c.model }

// Chat sends one chat completion request and returns the model's reply.
func (c *Client) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	creq, err := c.chatRequest(req)
	if err != nil {
		return llm.Response{}, err
	}
	doer, wire := c.newDoer()
	cfg := goopenai.DefaultConfig(c.apiKey)
	cfg.BaseURL = c.baseURL
	cfg.HTTPClient = wire
	resp, err := goopenai.NewClientWithConfig(cfg).CreateChatCompletion(ctx, creq)
	if err != nil {
		e := c.classify(ctx, err)
		e.Attempts = doer.Attempts()
		return llm.Response{}, e
	}
	return c.response(resp)
}
