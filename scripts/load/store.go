package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/duet-company/ops-skill/internal/store"
)

// storeURLEnv is where serve reads its store; the load passes it to every
// replica in the environment, never on a command line (a password would
// show in ps).
const storeURLEnv = "OPS_SKILL_STORE_URL"

// runStore is the history every serve replica of one run shares.
type runStore struct {
	location string // a SQLite file or a postgres:// URL with the run's own search_path
	engine   string // "sqlite" or "postgres"
	label    string // for the report: the password masked
	drop     func() // removes what the run created in the database
}

// prepareStore gives the run its store: with base empty, a SQLite file in
// dir; with a postgres:// URL, a new schema of that database (dropped by
// drop), so that the storm's alert never meets a previous run's history.
func prepareStore(ctx context.Context, base, dir string) (runStore, error) {
	if base == "" {
		path := filepath.Join(dir, "history.db")
		return runStore{location: path, engine: "sqlite", label: "SQLite file in the run's temp dir", drop: func() {}}, nil
	}
	if !store.IsPostgresURL(base) {
		return runStore{}, fmt.Errorf("-store %s: want a postgres:// URL (empty: a SQLite file)", store.RedactURL(base))
	}
	u, err := url.Parse(base)
	if err != nil {
		return runStore{}, fmt.Errorf("-store %s: %w", store.RedactURL(base), err)
	}
	schema, err := schemaName()
	if err != nil {
		return runStore{}, err
	}
	if err := execPG(ctx, base, "CREATE SCHEMA "+schema); err != nil {
		return runStore{}, fmt.Errorf("create schema %s in %s: %w", schema, store.RedactURL(base), err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() { _ = execPG(context.Background(), base, "DROP SCHEMA "+schema+" CASCADE") }
	return runStore{location: u.String(), engine: "postgres", label: store.RedactURL(u.String()), drop: drop}, nil
}

func schemaName() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "load_" + hex.EncodeToString(b), nil
}

// randomToken is the run's bearer token: 48 random hex digits.
func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func execPG(ctx context.Context, dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}
