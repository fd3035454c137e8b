package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"k8s.io/utils/clock"
)

const (
	pgMaxOpenConns = 8
	pgConnLifetime = 30 * time.Minute
)

// IsPostgresURL reports whether location names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgresURL(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// RedactURL returns location with the password of a URL replaced by "xxxxx",
// for messages and logs; a location that does not parse is hidden whole.
func RedactURL(location string) string {
	if !IsPostgresURL(location) {
		return location
	}
	u, err := url.Parse(location)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// openPostgres opens the PostgreSQL database at the URL dsn through pgx's
// database/sql driver.
func openPostgres(ctx context.Context, dsn string, clk clock.PassiveClock) (*Store, error) {
	name := RedactURL(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the connection string: say only which.
		return nil, fmt.Errorf("open %s: %w: the URL does not parse", name, ErrInvalid)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgMaxOpenConns)
	db.SetMaxIdleConns(pgMaxOpenConns)
	db.SetConnMaxLifetime(pgConnLifetime)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil || !schema.Valid {
		_ = db.Close()
		if err == nil {
			err = fmt.Errorf("%w: no schema of the search_path exists: create it first", ErrInvalid)
		}
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return start(ctx, conn{db: db, d: postgresDialect{}}, clk, name)
}
