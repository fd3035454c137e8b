package prom

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/api"
)

// TLSConfig holds the TLS settings for an https Prometheus.
type TLSConfig struct {
	// CAFile is a PEM bundle of the CAs to trust instead of the system's.
	CAFile string
	// CertFile and KeyFile are a client certificate (mutual TLS).
	CertFile string
	KeyFile  string
	// ServerName overrides the name checked in the server certificate.
	ServerName string
	// InsecureSkipVerify disables certificate checks (tests only).
	InsecureSkipVerify bool
}

// build returns the tls.Config, or nil when nothing is set.
func (t TLSConfig) build() (*tls.Config, error) {
	if t == (TLSConfig{}) {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in for tests
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("prometheus tls ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("prometheus tls ca file %s: no PEM certificate found", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("prometheus tls: cert file and key file must be set together")
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("prometheus tls client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// authTransport adds credentials and counts requests.
type authTransport struct {
	next     http.RoundTripper
	bearer   string
	user     string
	password string
	requests *atomic.Int64
}

func (t *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	if t.bearer == "" && t.user == "" {
		return t.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	if t.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+t.bearer)
	} else {
		r.SetBasicAuth(t.user, t.password)
	}
	return t.next.RoundTrip(r)
}

// newTransport builds the HTTP transport of the client.
func newTransport(tlsCfg *tls.Config, dialTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: dialTimeout,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
}

// splitURL removes credentials from the address, returning them apart.
func splitURL(raw string) (addr, user, password string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", "", fmt.Errorf("parse prometheus url: %w", errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", "", "", fmt.Errorf("prometheus url must be http(s)://host[:port][/path], got scheme %q", u.Scheme)
	}
	if u.User != nil {
		user = u.User.Username()
		password, _ = u.User.Password()
		u.User = nil
	}
	return u.String(), user, password, nil
}

// statusClient remembers the status of the last response of one call.
type statusClient struct {
	next   api.Client
	status int
}

func (c *statusClient) URL(ep string, args map[string]string) *url.URL { return c.next.URL(ep, args) }

func (c *statusClient) Do(ctx context.Context, r *http.Request) (*http.Response, []byte, error) {
	resp, body, err := c.next.Do(ctx, r)
	if resp != nil {
		c.status = resp.StatusCode
	}
	return resp, body, err
}
