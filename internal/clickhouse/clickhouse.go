// Package clickhouse is the ClickHouse adapter of ops-skill: it implements
// platform.Storage on clickhouse-go v2, over the native protocol
// (clickhouse://, tcp://) or HTTP (http://, https://), from CLICKHOUSE_URL.
//
// It reads partitions from system.parts (active parts only, grouped per
// partition), disks from system.disks and the effective
// max_partition_size_to_drop, and drops partitions with
// ALTER TABLE db.t DROP PARTITION ID '…' after validating and quoting every
// identifier. Server errors are mapped onto the platform sentinels: the size
// limit (code 359) to platform.ErrSizeLimit, unknown databases, tables and
// partitions to platform.ErrNotFound, network failures, timeouts and server
// overload to platform.ErrUnavailable. Nothing is retried.
package clickhouse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Defaults of Config.
const (
	DefaultQueryTimeout = 15 * time.Second
	DefaultDialTimeout  = 5 * time.Second
)

// Config configures the adapter.
type Config struct {
	// URL is CLICKHOUSE_URL: clickhouse://user:pass@host:9000/db for the
	// native protocol, http(s)://user:pass@host:8123/db for HTTP. Query
	// parameters are clickhouse-go's DSN options (secure, skip_verify,
	// dial_timeout, …); others become query settings.
	URL string
	// Username and Password, when set, override the URL's credentials.
	Username string
	Password string
	// TLS, when set, is used for the connection (https or secure native).
	TLS *tls.Config
	// QueryTimeout bounds every call; zero means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// DialTimeout bounds connection set-up; zero means DefaultDialTimeout.
	DialTimeout time.Duration
	// FallbackMaxPartitionSizeToDrop is used when the server cannot report
	// its max_partition_size_to_drop (servers before system.server_settings).
	// Zero means no fallback: MaxPartitionSizeToDrop then fails with
	// platform.ErrUnsupported rather than guess.
	FallbackMaxPartitionSizeToDrop uint64
}

// Stats counts what the adapter sent.
type Stats struct {
	// Statements is the number of statements run (one per server round trip
	// of the adapter's own calls).
	Statements int64 `json:"statements"`
	// HTTPRequests is the number of HTTP requests made over the HTTP protocol,
	// including clickhouse-go's connection hello; 0 over the native protocol.
	HTTPRequests int64 `json:"httpRequests"`
}

// Storage implements platform.Storage on one clickhouse-go connection pool.
type Storage struct {
	conn         driver.Conn
	queryTimeout time.Duration
	fallback     uint64
	protocol     string
	host         string
	statements   atomic.Int64
	httpRequests atomic.Int64
}

var _ platform.Storage = (*Storage)(nil)

// New parses the configuration and prepares the connection pool; it does not
// contact the server (the first call does).
func New(cfg Config) (*Storage, error) {
	opts, err := options(cfg)
	if err != nil {
		return nil, err
	}
	s := &Storage{queryTimeout: cfg.QueryTimeout, fallback: cfg.FallbackMaxPartitionSizeToDrop,
		protocol: opts.Protocol.String(), host: strings.Join(opts.Addr, ",")}
	if s.queryTimeout <= 0 {
		s.queryTimeout = DefaultQueryTimeout
	}
	opts.TransportFunc = func(t *http.Transport) (http.RoundTripper, error) {
		return countingTransport{next: t, n: &s.httpRequests}, nil
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s://%s: %w", s.protocol, s.host, err)
	}
	s.conn = conn
	return s, nil
}

// options turns the configuration into clickhouse-go options.
func options(cfg Config) (*ch.Options, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, errors.New("clickhouse url is empty: set CLICKHOUSE_URL")
	}
	raw := cfg.URL
	if u, err := url.Parse(raw); err == nil && u.Scheme == "https" && !u.Query().Has("secure") {
		q := u.Query()
		q.Set("secure", "true")
		u.RawQuery = q.Encode()
		raw = u.String()
	}
	opts, err := ch.ParseDSN(raw)
	if err != nil {
		return nil, fmt.Errorf("parse clickhouse url: %w", err)
	}
	if cfg.Username != "" {
		opts.Auth.Username = cfg.Username
	}
	if cfg.Password != "" {
		opts.Auth.Password = cfg.Password
	}
	if cfg.TLS != nil {
		opts.TLS = cfg.TLS
	}
	opts.DialTimeout = cfg.DialTimeout
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = max(cfg.QueryTimeout, DefaultQueryTimeout)
	}
	opts.MaxOpenConns, opts.MaxIdleConns = 4, 2
	return opts, nil
}

// Close releases the connection pool.
func (s *Storage) Close() error { return s.conn.Close() }

// Stats returns the counters since New.
func (s *Storage) Stats() Stats {
	return Stats{Statements: s.statements.Load(), HTTPRequests: s.httpRequests.Load()}
}

// Ping checks that the server answers.
func (s *Storage) Ping(ctx context.Context) error {
	ctx, cancel := s.callContext(ctx)
	defer cancel()
	s.statements.Add(1)
	return s.mapErr(ctx, "ping", s.conn.Ping(ctx))
}

// callContext bounds one call by the query timeout.
func (s *Storage) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.queryTimeout)
}

// query runs one statement that returns rows and hands each row to scan.
func (s *Storage) query(ctx context.Context, op, q string, scan func(driver.Rows) error, args ...any) error {
	ctx, cancel := s.callContext(ctx)
	defer cancel()
	s.statements.Add(1)
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return s.mapErr(ctx, op, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: read row: %w", op, err)
		}
	}
	return s.mapErr(ctx, op, rows.Err())
}

// exec runs one statement without rows.
func (s *Storage) exec(ctx context.Context, op, q string) error {
	ctx, cancel := s.callContext(ctx)
	defer cancel()
	s.statements.Add(1)
	return s.mapErr(ctx, op, s.conn.Exec(ctx, q))
}

// countingTransport counts HTTP requests.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}
