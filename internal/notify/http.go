package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/text"
)

// maxReason bounds the receiver's explanation kept in an error.
const maxReason = 200

// NewHTTPClient returns the client the channels use by default: it never
// follows redirects (a redirect is reported as a final error, so a payload is
// never sent somewhere else) and leaves timeouts to the dispatcher's clock.
func NewHTTPClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// poster makes one JSON POST for a channel and classifies the answer.
type poster struct {
	channel string
	client  *http.Client
	scrub   scrubber
	clock   clock.PassiveClock
}

func newPoster(channel string, client *http.Client, clk clock.PassiveClock, secrets ...string) poster {
	if client == nil {
		client = NewHTTPClient()
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	return poster{channel: channel, client: client, scrub: newScrubber(secrets...), clock: clk}
}

// post sends body to endpoint and returns the answer's body on a 2xx status.
func (p poster) post(ctx context.Context, endpoint string, body []byte, header http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &DeliveryError{Channel: p.channel, Kind: ErrRejected, Final: true, Err: errors.New("the configured URL is not valid")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ops-skill")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, &DeliveryError{Channel: p.channel, Kind: ErrUnavailable, Err: p.cause(ctx, err)}
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return msg, nil
	}
	return nil, p.classify(resp, msg)
}

// classify turns a non-2xx answer into a DeliveryError.
func (p poster) classify(resp *http.Response, body []byte) error {
	e := &DeliveryError{Channel: p.channel, Status: resp.StatusCode, Reason: p.reason(body)}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
	case code >= 500 || code == http.StatusRequestTimeout:
		e.Kind = ErrUnavailable
	default:
		e.Kind, e.Final = ErrRejected, true
	}
	if !e.Final {
		h := resp.Header.Get("Retry-After")
		e.RetryAfter = retryAfter(h, p.clock.Now())
		if t, err := http.ParseTime(h); err == nil {
			e.retryAt = t
		}
	}
	return e
}

// cause reduces a client error to its cause without the request URL, which
// *url.Error would print. A cancelled attempt reports the dispatcher's cause.
func (p poster) cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errors.New(p.scrub.clean(err.Error()))
}

// reason extracts the receiver's explanation: Slack answers a bare word
// (invalid_payload), PagerDuty and Grafana answer JSON.
func (p poster) reason(body []byte) string {
	s := strings.TrimSpace(string(body))
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil && len(obj) > 0 {
		var parts []string
		for _, k := range sortedKeys(obj) {
			if k == "message" || k == "error" || k == "errors" || k == "status" {
				parts = append(parts, flatten(obj[k]))
			}
		}
		if len(parts) > 0 {
			s = strings.Join(parts, "; ")
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	return text.ClipRunes(p.scrub.clean(s), maxReason)
}

func flatten(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		parts := make([]string, 0, len(t))
		for _, x := range t {
			parts = append(parts, flatten(x))
		}
		return strings.Join(parts, ", ")
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil {
		return time.Duration(max(n, 0)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// marshal encodes v as JSON without HTML escaping (the receivers are not
// browsers, and "&" in a link must stay "&").
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
