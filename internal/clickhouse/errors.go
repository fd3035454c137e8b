package clickhouse

import (
	"context"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/duet-company/ops-skill/internal/platform"
)

// ErrAccessDenied means the server refused the credentials or the grant.
var ErrAccessDenied = errors.New("access denied")

// Server exception codes the adapter gives a meaning to.
const (
	CodeUnknownTable      = 60
	CodeUnknownDatabase   = 81
	CodeSizeLimitExceeded = 359 // TABLE_SIZE_EXCEEDS_MAX_DROP_SIZE_LIMIT
)

// kindOfCode maps server exception codes to platform sentinels.
var kindOfCode = map[int32]error{
	CodeUnknownTable:      platform.ErrNotFound,
	CodeUnknownDatabase:   platform.ErrNotFound,
	CodeSizeLimitExceeded: platform.ErrSizeLimit,
	159:                   platform.ErrUnavailable, // TIMEOUT_EXCEEDED
	160:                   platform.ErrUnavailable, // TOO_SLOW
	202:                   platform.ErrUnavailable, // TOO_MANY_SIMULTANEOUS_QUERIES
	209:                   platform.ErrUnavailable, // SOCKET_TIMEOUT
	210:                   platform.ErrUnavailable, // NETWORK_ERROR
	241:                   platform.ErrUnavailable, // MEMORY_LIMIT_EXCEEDED
	242:                   platform.ErrUnavailable, // TABLE_IS_READ_ONLY
	252:                   platform.ErrUnavailable, // TOO_MANY_PARTS
	425:                   platform.ErrUnavailable, // SYSTEM_ERROR
	473:                   platform.ErrUnavailable, // DEADLOCK_AVOIDED
	999:                   platform.ErrUnavailable, // KEEPER_EXCEPTION
	192:                   ErrAccessDenied,         // UNKNOWN_USER
	194:                   ErrAccessDenied,         // REQUIRED_PASSWORD
	195:                   ErrAccessDenied,         // IP_ADDRESS_NOT_ALLOWED
	497:                   ErrAccessDenied,         // ACCESS_DENIED
	516:                   ErrAccessDenied,         // AUTHENTICATION_FAILED
}

// Error is a failed call. Kind is the sentinel it maps to (platform.ErrSizeLimit,
// platform.ErrNotFound, platform.ErrUnavailable, ErrAccessDenied) or nil;
// errors.Is sees both Kind and the underlying error.
type Error struct {
	// Op says what the adapter was doing, e.g. "drop partition db.t 20240101".
	Op string
	// Code is the server's exception code, 0 when the server raised none.
	Code int32
	// Message is the server's or the transport's message, on one line.
	Message string
	Kind    error
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("clickhouse " + e.Op + ": ")
	if e.Kind != nil {
		b.WriteString(e.Kind.Error() + ": ")
	}
	b.WriteString(e.Message)
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	return b.String()
}

// Unwrap returns the sentinel and the underlying error.
func (e *Error) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// mapErr classifies err; ctx is the call's context (with the query timeout).
func (s *Storage) mapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Op: op, Err: err, Message: oneLine(err.Error(), 400)}
	var ex *ch.Exception
	var httpErr *ch.HTTPError
	switch {
	case errors.As(err, &ex):
		e.Code, e.Message, e.Kind = ex.Code, oneLine(ex.Message, 400), kindOfCode[ex.Code]
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		e.Kind, e.Message = platform.ErrUnavailable, fmt.Sprintf("no answer from %s within %s (timeout)", s.host, s.queryTimeout)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("clickhouse %s: %w", op, err)
	case errors.As(err, &httpErr):
		e.Kind = httpKind(httpErr.StatusCode)
		e.Message = fmt.Sprintf("HTTP %d from %s: %s", httpErr.StatusCode, s.host, oneLine(fmt.Sprint(httpErr.Err), 300))
	case transportFailure(err):
		e.Kind = platform.ErrUnavailable
		e.Message = fmt.Sprintf("cannot reach %s over %s: %s", s.host, s.protocol, oneLine(err.Error(), 300))
	}
	return e
}

func httpKind(status int) error {
	switch {
	case status == 401 || status == 403:
		return ErrAccessDenied
	case status == 404:
		return platform.ErrNotFound
	case status >= 500 || status == 429:
		return platform.ErrUnavailable
	}
	return nil
}

// transportFailure reports errors that mean the server could not be reached
// or dropped the connection.
func transportFailure(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, sqldriver.ErrBadConn) ||
		errors.Is(err, ch.ErrAcquireConnTimeout)
}

// oneLine collapses whitespace and clips s to n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
