// Package anthropic is the llm.Client for Claude through Anthropic's own
// Messages API (platform.claude.com/docs/en/api/messages), built on the
// official SDK github.com/anthropics/anthropic-sdk-go/v2. Unlike the
// OpenAI-compatible endpoint (which Anthropic documents for trying models,
// not production), it returns the model's thinking blocks and replays them,
// with their signatures, in a tool-use loop; it marks the fixed prompt for
// prompt caching and reports cache reads and writes.
//
// The SDK reads no environment (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL…) and
// does not retry: this adapter retries 408, 429, 5xx (529 overloaded
// included) and transport failures itself, boundedly, honouring
// retry-after, on an injected clock. Failures are *Error values matching
// llm.ErrProvider or llm.ErrInvalidResponse (and ErrConfig when a setting
// must change); no error text ever contains the API key.
package anthropic

import (
	"context"
	"net/http"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/httpx"
	"github.com/duet-company/ops-skill/internal/llm/provider"
)

// Client talks to one Claude model. It is safe for concurrent use.
type Client struct {
	model      string
	apiKey     string
	baseURL    string
	customURL  bool
	headers    []header
	effort     Effort
	timeout    time.Duration
	maxRetries int
	secrets    []string
	hc         *http.Client
	clock      clock.Clock
	backoff    httpx.Backoff
}

var _ llm.Client = (*Client)(nil)

// Option adjusts a Client.
type Option func(*options)

type options struct {
	clock   clock.Clock
	backoff httpx.Backoff
}

// WithClock sets the clock retries wait on (default: the real clock).
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithBackoff sets the wait before each retry (default:
// httpx.DefaultBackoff). A retry-after header from the API takes precedence.
func WithBackoff(b httpx.Backoff) Option { return func(o *options) { o.backoff = b } }

// New validates cfg and returns a client. Errors match ErrConfig and name
// the environment variable to fix.
func New(cfg Config, opts ...Option) (*Client, error) {
	s, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	o := options{clock: clock.RealClock{}, backoff: httpx.DefaultBackoff}
	for _, opt := range opts {
		opt(&o)
	}
	return &Client{
		model: s.model, apiKey: cfg.APIKey, baseURL: s.baseURL, customURL: s.customURL,
		headers: s.headers, effort: s.effort, timeout: s.timeout, maxRetries: s.maxRetries,
		secrets: s.secrets, hc: s.httpClient(cfg.HTTPClient), clock: o.clock, backoff: o.backoff,
	}, nil
}

// Name identifies the model in transcripts: "llm:claude/<model>".
func (c *Client) Name() string { return "llm:" + string(provider.Claude) + "/" + c.model }

// Chat sends one Messages API request and returns the model's reply.
func (c *Client) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	params, err := c.params(req)
	if err != nil {
		return llm.Response{}, err
	}
	doer := &httpx.Retrier{Client: c.hc, Clock: c.clock, Backoff: c.backoff, MaxRetries: c.maxRetries}
	api := sdk.NewClient(c.options(doer)...)
	msg, err := api.Messages.New(ctx, params)
	if err != nil {
		e := c.classify(ctx, err)
		e.Attempts = doer.Attempts()
		return llm.Response{}, e
	}
	return c.response(msg)
}

// options configure the SDK for one call: no environment, no SDK retries,
// our transport, base URL, key and headers.
func (c *Client) options(doer *httpx.Retrier) []option.RequestOption {
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithBaseURL(c.baseURL),
		option.WithHTTPClient(doer),
		option.WithMaxRetries(0),
	}
	if c.apiKey != "" {
		opts = append(opts, option.WithAPIKey(c.apiKey))
	}
	for _, h := range c.headers {
		opts = append(opts, option.WithHeaderAdd(h.name, h.value))
	}
	return opts
}
