// Package pgtest gives tests a PostgreSQL database of their own on the test
// stack's server (scripts/testenv/postgres.sh): a fresh schema per test,
// dropped at its end, so that runs never collide. Only tests import it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// The variables the test stack publishes (.testenv/env.d/postgres.env).
const (
	AddrEnv = "POSTGRES_ADDR"
	UserEnv = "POSTGRES_USER"
)

// URL returns the postgres:// URL of a new, empty schema (its search_path)
// for this test. The test skips, saying why, when AddrEnv is not set.
func URL(t testing.TB) string {
	t.Helper()
	base := baseURL(t)
	schema := "t_" + randomHex(t)
	if err := exec(base, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := exec(base, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func baseURL(t testing.TB) string {
	t.Helper()
	addr, user := os.Getenv(AddrEnv), os.Getenv(UserEnv)
	if addr == "" {
		t.Skipf("%s is not set: start PostgreSQL with `bash scripts/testenv/postgres.sh up` and export .testenv/env.d/postgres.env (CI sets it)", AddrEnv)
	}
	if user == "" {
		user = "postgres"
	}
	return (&url.URL{Scheme: "postgres", User: url.User(user), Host: addr, Path: "/postgres",
		RawQuery: "sslmode=disable"}).String()
}

func exec(dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(context.Background(), stmt)
	return err
}

func randomHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
