package health

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/text"
)

// prober runs single probes. It is safe for concurrent use.
type prober struct {
	client *http.Client
	dialer net.Dialer
}

func newProber() *prober {
	return &prober{client: &http.Client{Transport: &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		DisableKeepAlives: true, // every check opens a fresh connection, like a kubelet probe
	}}}
}

// probe runs one check within its timeout; the error says what failed.
func (p *prober) probe(ctx context.Context, c Check) error {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var err error
	switch c.Type {
	case HTTP:
		err = p.http(ctx, c.Target)
	case TCP:
		err = p.tcp(ctx, c.Target, nil)
	case Redis:
		err = p.tcp(ctx, c.Target, redisPing)
	case Postgres:
		err = p.tcp(ctx, c.Target, postgresHandshake)
	default:
		err = fmt.Errorf("unknown check type %q", c.Type)
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s (timeout)", c.Timeout)
	}
	return err
}

func (p *prober) http(ctx context.Context, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "ops-skill-health")
	resp, err := p.client.Do(req)
	if err != nil {
		var uerr interface{ Unwrap() error }
		if errors.As(err, &uerr) && uerr.Unwrap() != nil {
			err = uerr.Unwrap() // drop the URL, keep the cause
		}
		return fmt.Errorf("GET %s: %w", req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		msg := fmt.Sprintf("HTTP %d from %s", resp.StatusCode, req.URL.Path)
		if b := strings.Join(strings.Fields(string(body)), " "); b != "" {
			msg += ": " + b
		}
		return errors.New(msg)
	}
	return nil
}

// tcp opens a connection and, when talk is set, runs it on the connection.
func (p *prober) tcp(ctx context.Context, target string, talk func(net.Conn) error) error {
	conn, err := p.dialer.DialContext(ctx, "tcp", target)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Err != nil {
			return fmt.Errorf("connect %s: %w", target, opErr.Err)
		}
		return fmt.Errorf("connect %s: %w", target, err)
	}
	defer conn.Close()
	if talk == nil {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	return talk(conn)
}

// redisPing sends PING; +PONG is healthy, and so is an authentication
// error (the server is alive and answering).
func redisPing(conn net.Conn) error {
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return fmt.Errorf("redis PING: %w", err)
	}
	line, err := bufio.NewReader(io.LimitReader(conn, 512)).ReadString('\n')
	if err != nil {
		return fmt.Errorf("redis PING: no reply: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case line == "+PONG", strings.HasPrefix(line, "-NOAUTH"), strings.HasPrefix(line, "-WRONGPASS"):
		return nil
	case strings.HasPrefix(line, "-"):
		return fmt.Errorf("redis PING: %s", strings.TrimPrefix(line, "-"))
	}
	return fmt.Errorf("redis PING: unexpected reply %q", text.Clip(line, 60))
}

// sslRequest is the PostgreSQL SSLRequest message: length 8, code 80877103.
var sslRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// postgresHandshake sends SSLRequest; the server answers one byte, S or N.
func postgresHandshake(conn net.Conn) error {
	if _, err := conn.Write(sslRequest); err != nil {
		return fmt.Errorf("postgres handshake: %w", err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(conn, b); err != nil {
		return fmt.Errorf("postgres handshake: no reply: %w", err)
	}
	if b[0] != 'S' && b[0] != 'N' {
		return fmt.Errorf("postgres handshake: unexpected reply %q", b)
	}
	return nil
}

// since is the latency of a probe; split out for the fake clock.
func since(start, end time.Time) time.Duration {
	if end.Before(start) {
		return 0
	}
	return end.Sub(start)
}
