//go:build integration

package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create schemas
)

// The test stack's PostgreSQL (scripts/testenv/postgres.sh publishes these).
const (
	pgAddrEnv = "POSTGRES_ADDR"
	pgUserEnv = "POSTGRES_USER"
)

// newLocation is where a test's new database lives. With the integration tag
// the store tests run on the test stack's PostgreSQL: each test gets a schema
// of its own, dropped at its end, so runs never collide. The tests of
// SQLite's own behaviour open SQLite files directly and still run.
func newLocation(t testing.TB, _ string) string {
	t.Helper()
	base := pgBaseURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := "t_" + randomHex(t)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// pgBaseURL is the URL of the test stack's database; the test skips when the
// stack's PostgreSQL is not published.
func pgBaseURL(t testing.TB) string {
	t.Helper()
	addr, user := os.Getenv(pgAddrEnv), os.Getenv(pgUserEnv)
	if addr == "" {
		t.Skipf("%s is not set: start PostgreSQL with `bash scripts/testenv/postgres.sh up` and source .testenv/env.d/postgres.env (CI sets it)", pgAddrEnv)
	}
	if user == "" {
		user = "postgres"
	}
	return (&url.URL{Scheme: "postgres", User: url.User(user), Host: addr, Path: "/postgres",
		RawQuery: "sslmode=disable"}).String()
}

func randomHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
