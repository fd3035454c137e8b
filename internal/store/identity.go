package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// identityKey is the store_meta row of the store's identity.
const identityKey = "identity"

// Identity is the identity of the database behind s: a random UUID written
// once, when a database is first opened, and the same for every handle,
// process and replica that opens that database afterwards. Two databases
// (two replicas with their own SQLite files, two clusters with their own
// PostgreSQL) have different identities even though their incident counters
// give the same IDs.
func (s *Store) Identity() string { return s.id }

// loadIdentity reads the identity of the database, writing a new one when it
// has none. An existing identity is only read; two processes opening a new
// database at once both insert, the first wins and both read its value.
func (s *Store) loadIdentity(ctx context.Context) error {
	id, err := s.readIdentity(ctx, s.db)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.writeTx(ctx, func(tx *txn) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO store_meta(key, value, created_at) VALUES (?, ?, ?)
				ON CONFLICT (key) DO NOTHING`, identityKey, uuid.NewString(), nanos(s.now())); err != nil {
				return err
			}
			id, err = s.readIdentity(ctx, tx)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("store identity: %w", err)
	}
	s.id = id
	return nil
}

func (s *Store) readIdentity(ctx context.Context, q querier) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT value FROM store_meta WHERE key = ?`, identityKey).Scan(&id)
	return id, err
}
