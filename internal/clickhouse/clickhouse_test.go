package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/duet-company/ops-skill/internal/platform"
)

// closedStorage is a Storage whose server does not exist.
func closedStorage(t *testing.T) *Storage {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := New(Config{URL: "http://user:s3cret@" + addr + "/", QueryTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestServerErrorsMapToPlatformKinds(t *testing.T) {
	s := &Storage{host: "ch:8123", protocol: "http", queryTimeout: time.Second}
	ex := func(code int32, msg string) error { return &ch.Exception{Code: code, Message: msg} }
	cases := []struct {
		name string
		err  error
		kind error
		code int32
		msg  string
	}{
		{"size limit", &ch.HTTPError{StatusCode: 500, Err: ex(359, "Table or Partition in db.t was not dropped.\nReason: size 4 MB")}, platform.ErrSizeLimit, 359, "was not dropped. Reason: size 4 MB"},
		{"size limit over native", ex(359, "too big"), platform.ErrSizeLimit, 359, "too big"},
		{"unknown table", ex(60, "Table db.x does not exist"), platform.ErrNotFound, 60, "does not exist"},
		{"unknown database", ex(81, "Database nope does not exist"), platform.ErrNotFound, 81, "nope"},
		{"overloaded", ex(202, "Too many simultaneous queries"), platform.ErrUnavailable, 202, "Too many"},
		{"wrong password", &ch.HTTPError{StatusCode: 516, Err: ex(516, "Authentication failed")}, ErrAccessDenied, 516, "Authentication"},
		{"proxy 503 without exception", &ch.HTTPError{StatusCode: 503, Err: errors.New(`response body: "upstream down"`)}, platform.ErrUnavailable, 0, "HTTP 503"},
		{"proxy 401", &ch.HTTPError{StatusCode: 401, Err: errors.New("no")}, ErrAccessDenied, 0, "HTTP 401"},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, platform.ErrUnavailable, 0, "cannot reach ch:8123"},
		{"timeout", fmt.Errorf("read: %w", context.DeadlineExceeded), platform.ErrUnavailable, 0, "within 1s (timeout)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.mapErr(context.Background(), "drop partition db.t 1", tc.err)
			var e *Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("err = %v, want kind %v code %d", err, tc.kind, tc.code)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "clickhouse drop partition db.t 1: ") {
				t.Fatalf("message %q, want %q after the operation", err, tc.msg)
			}
		})
	}
}

func TestUnclassifiedErrorsKeepTheirCodeWithoutAKind(t *testing.T) {
	s := &Storage{host: "ch", queryTimeout: time.Second}
	err := s.mapErr(context.Background(), "list partitions", &ch.Exception{Code: 62, Message: "Syntax error"})
	for _, k := range []error{platform.ErrUnavailable, platform.ErrNotFound, platform.ErrSizeLimit} {
		if errors.Is(err, k) {
			t.Fatalf("syntax error classified as %v", k)
		}
	}
	if !isCode(err, 62) {
		t.Fatalf("code lost: %v", err)
	}
}

func TestCallerCancellationIsNotUnavailable(t *testing.T) {
	s := &Storage{host: "ch", queryTimeout: time.Second}
	err := s.mapErr(context.Background(), "list disks", fmt.Errorf("send: %w", context.Canceled))
	if !errors.Is(err, context.Canceled) || errors.Is(err, platform.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func TestUnreachableServerIsUnavailableAndHidesTheURL(t *testing.T) {
	s := closedStorage(t)
	_, err := s.Partitions(context.Background(), platform.PartitionFilter{})
	if !errors.Is(err, platform.ErrUnavailable) {
		t.Fatalf("err = %v, want unavailable", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestInvalidNamesAreRefusedBeforeAnyStatement(t *testing.T) {
	s := closedStorage(t)
	cases := []struct {
		name        string
		db, table   string
		partitionID string
		field       string
	}{
		{"quote in database", "db'; DROP TABLE x; --", "t", "2024", "database"},
		{"backquote in table", "db", "t`", "2024", "table"},
		{"dot in table", "db", "a.b", "2024", "table"},
		{"quote in partition", "db", "t", "2024' OR 1=1", "partition id"},
		{"empty partition", "db", "t", "", "partition id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.DropPartition(context.Background(), tc.db, tc.table, tc.partitionID)
			var inv *InvalidNameError
			if !errors.As(err, &inv) || inv.Field != tc.field {
				t.Fatalf("err = %v, want an invalid %s", err, tc.field)
			}
		})
	}
	if _, err := s.Partitions(context.Background(), platform.PartitionFilter{Database: "x y"}); err == nil {
		t.Fatal("filter with a space accepted")
	}
	if n := s.Stats().Statements; n != 0 {
		t.Fatalf("%d statements sent, want none", n)
	}
}

func TestPartitionTimesFromDateTimeOrDateKeys(t *testing.T) {
	epoch := time.Unix(0, 0).UTC()
	berlin := time.FixedZone("CET", 3600)
	cases := []struct {
		name     string
		row      partRow
		min, max time.Time
	}{
		{"datetime key, server timezone converted to UTC",
			partRow{minTime: time.Date(2026, 1, 1, 1, 0, 0, 0, berlin), maxTime: time.Date(2026, 1, 2, 0, 59, 0, 0, berlin), minDate: epoch, maxDate: epoch},
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 23, 59, 0, 0, time.UTC)},
		{"date key ends at the end of its last day",
			partRow{minTime: epoch, maxTime: epoch, minDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), maxDate: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC)},
		{"no time in the key", partRow{minTime: epoch, maxTime: epoch, minDate: epoch, maxDate: epoch}, time.Time{}, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.row.toPartition()
			if !p.MinTime.Equal(tc.min) || !p.MaxTime.Equal(tc.max) {
				t.Fatalf("times %s .. %s, want %s .. %s", p.MinTime, p.MaxTime, tc.min, tc.max)
			}
		})
	}
}

func TestOptionsFromTheURL(t *testing.T) {
	cases := []struct {
		name, url string
		protocol  ch.Protocol
		tls       bool
		user, db  string
	}{
		{"native", "clickhouse://ops:pw@ch:9000/logs", ch.Native, false, "ops", "logs"},
		{"http", "http://ch:8123/", ch.HTTP, false, "default", ""},
		{"https implies secure", "https://ch:8443/", ch.HTTP, true, "default", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := options(Config{URL: tc.url})
			if err != nil {
				t.Fatal(err)
			}
			if o.Protocol != tc.protocol || (o.TLS != nil) != tc.tls || o.Auth.Database != tc.db {
				t.Fatalf("options %+v", o)
			}
			if tc.user != "default" && o.Auth.Username != tc.user {
				t.Fatalf("user %q, want %q", o.Auth.Username, tc.user)
			}
		})
	}
	o, err := options(Config{URL: "clickhouse://a:b@ch:9000", Username: "ops", Password: "env-secret"})
	if err != nil || o.Auth.Username != "ops" || o.Auth.Password != "env-secret" {
		t.Fatalf("credentials override: %+v %v", o.Auth, err)
	}
	if _, err := options(Config{}); err == nil || !strings.Contains(err.Error(), "CLICKHOUSE_URL") {
		t.Fatalf("empty url: %v", err)
	}
}
