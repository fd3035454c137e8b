// Package health runs the service health matrix of ops-skill (the spec's
// "Service Health Matrix"): HTTP /health checks (2xx is healthy) for the
// backend and frontend, TCP checks for ClickHouse (8123, plus its HTTP /ping),
// PostgreSQL (5432) and Redis (6379), each with a timeout, every interval.
// The matrix is configuration (Matrix); protocol-level probes for Redis (RESP
// PING) and PostgreSQL (SSLRequest handshake) are available as check types.
//
// The Checker implements platform.Health and counts consecutive failures per
// service itself, in memory, on an injected clock: a failure counts once per
// interval (checks repeated sooner do not advance the count, so a caller that
// checks in a loop cannot rush the restart ladder), a run broken by a missed
// interval starts again at one, and any success resets it.
package health

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Type is the kind of probe a check runs.
type Type string

// The check types.
const (
	// HTTP: GET the target URL; any 2xx status is healthy.
	HTTP Type = "http"
	// TCP: open a connection to host:port.
	TCP Type = "tcp"
	// Redis: send PING over RESP; +PONG (or an authentication error, which
	// proves a live server) is healthy.
	Redis Type = "redis"
	// Postgres: send the protocol's SSLRequest; a one-byte answer (S or N)
	// proves a live server without credentials.
	Postgres Type = "postgres"
)

// Defaults of a check.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultInterval = 30 * time.Second // HEALTH_CHECK_INTERVAL
)

// Check is one row of the matrix. A service may have several rows (e.g.
// ClickHouse: TCP 8123 and HTTP /ping); it is healthy when all pass.
type Check struct {
	Service string `json:"service" yaml:"service" mapstructure:"service"`
	Type    Type   `json:"type" yaml:"type" mapstructure:"type"`
	// Target is a URL for http, host:port for the others.
	Target   string        `json:"target" yaml:"target" mapstructure:"target"`
	Timeout  time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty" mapstructure:"timeout"`
	Interval time.Duration `json:"interval,omitempty" yaml:"interval,omitempty" mapstructure:"interval"`
}

// Label names the check in results, e.g. "http /health" or "tcp 8123".
func (c Check) Label() string {
	if c.Type == HTTP {
		if u, err := url.Parse(c.Target); err == nil {
			return "http " + firstNonEmpty(u.EscapedPath(), "/")
		}
	}
	if _, port, err := net.SplitHostPort(c.Target); err == nil {
		return string(c.Type) + " " + port
	}
	return string(c.Type) + " " + c.Target
}

// Matrix is the list of checks.
type Matrix []Check

// DefaultMatrix is the spec's matrix for the services of a namespace, at
// in-cluster addresses, every interval (zero: DefaultInterval).
func DefaultMatrix(namespace string, interval time.Duration) Matrix {
	host := func(s string) string { return s + "." + namespace + ".svc" }
	return Matrix{
		{Service: "backend", Type: HTTP, Target: "http://" + host("backend") + "/health"},
		{Service: "frontend", Type: HTTP, Target: "http://" + host("frontend") + "/health"},
		{Service: "clickhouse", Type: TCP, Target: net.JoinHostPort(host("clickhouse"), "8123")},
		{Service: "clickhouse", Type: HTTP, Target: "http://" + net.JoinHostPort(host("clickhouse"), "8123") + "/ping"},
		{Service: "postgresql", Type: TCP, Target: net.JoinHostPort(host("postgresql"), "5432")},
		{Service: "redis", Type: TCP, Target: net.JoinHostPort(host("redis"), "6379")},
	}.WithDefaults(interval)
}

// WithDefaults fills unset timeouts (DefaultTimeout, at most the interval)
// and intervals (interval, or DefaultInterval when zero).
func (m Matrix) WithDefaults(interval time.Duration) Matrix {
	if interval <= 0 {
		interval = DefaultInterval
	}
	out := make(Matrix, len(m))
	for i, c := range m {
		if c.Interval <= 0 {
			c.Interval = interval
		}
		if c.Timeout <= 0 {
			c.Timeout = min(DefaultTimeout, c.Interval)
		}
		out[i] = c
	}
	return out
}

// Validate reports every invalid row, naming it (checks[i]) and the fix.
func (m Matrix) Validate() error {
	if len(m) == 0 {
		return errors.New("health matrix is empty: configure at least one check")
	}
	var errs []error
	intervals := map[string]time.Duration{}
	for i, c := range m {
		key := "health.checks[" + strconv.Itoa(i) + "]"
		if err := c.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", key, firstNonEmpty(c.Service, "?"), err))
		}
		if iv, ok := intervals[c.Service]; ok && iv != c.Interval {
			errs = append(errs, fmt.Errorf("%s (%s): interval %s differs from the service's other checks (%s); use one interval per service", key, c.Service, c.Interval, iv))
		}
		intervals[c.Service] = c.Interval
	}
	return errors.Join(errs...)
}

func (c Check) validate() error {
	var errs []error
	if strings.TrimSpace(c.Service) == "" {
		errs = append(errs, errors.New("service is empty"))
	}
	switch c.Type {
	case HTTP:
		u, err := url.Parse(c.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("target %q must be an http(s) URL such as http://backend:8080/health", c.Target))
		}
	case TCP, Redis, Postgres:
		if _, port, err := net.SplitHostPort(c.Target); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("target %q must be host:port such as redis:6379", c.Target))
		}
	default:
		errs = append(errs, fmt.Errorf("type %q must be one of http, tcp, redis, postgres", c.Type))
	}
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("interval %s must be positive", c.Interval))
	}
	if c.Timeout <= 0 || c.Timeout > c.Interval {
		errs = append(errs, fmt.Errorf("timeout %s must be positive and at most the interval (%s)", c.Timeout, c.Interval))
	}
	return errors.Join(errs...)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
