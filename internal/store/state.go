package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ThresholdChange is one change of a policy threshold (--update-threshold).
type ThresholdChange struct {
	ID  int64     `json:"id"`
	At  time.Time `json:"at"`            // the clock's time when zero
	Key string    `json:"key,omitempty"` // e.g. "scale_up.cpu"
	Old string    `json:"old,omitempty"`
	New string    `json:"new,omitempty"`
	Who string    `json:"who,omitempty"`
}

// LoadState returns the guard state stored under (env, key), such as
// ("simulated", "ai-data-labs/backend"); nil and no error when there is none.
func (s *Store) LoadState(ctx context.Context, env, key string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM guard_state WHERE env = ? AND key = ?`, env, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state %s %s: %w", env, key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// UpdateState reads the state under (env, key) (nil when absent), passes it to
// fn and stores what fn returns, all in one IMMEDIATE transaction: a second
// writer, in this process or another, waits until it commits, so updates
// never interleave. fn returning nil deletes the state; fn returning an error
// leaves it unchanged and UpdateState returns that error wrapped. fn runs
// while the database is locked for writing: it must be quick and must not use
// the Store.
func (s *Store) UpdateState(ctx context.Context, env, key string, fn func(old []byte) ([]byte, error)) error {
	err := s.writeTx(ctx, func(tx *txn) error {
		old, err := s.lockState(ctx, tx, env, key)
		if err != nil {
			return err
		}
		v, err := fn(old)
		if err != nil {
			return err
		}
		return s.writeState(ctx, tx, env, key, v)
	})
	if err != nil {
		return fmt.Errorf("update state %s %s: %w", env, key, err)
	}
	return nil
}

// ClaimState is a compare-and-set of the state under (env, key): claim sees
// the value (nil when absent) and returns the value to store and whether to
// store it at all. Reading and storing are one IMMEDIATE transaction, so of
// writers racing for the same claim — in this process or another — each sees
// what the one before it stored: one of them claims a free slot, the others
// see it taken. A claimed nil value deletes the state. It reports whether the
// value was stored. claim runs while the database is locked for writing: it
// must be quick and must not use the Store.
func (s *Store) ClaimState(ctx context.Context, env, key string, claim func(old []byte) ([]byte, bool)) (bool, error) {
	claimed := false
	err := s.writeTx(ctx, func(tx *txn) error {
		old, err := s.lockState(ctx, tx, env, key)
		if err != nil {
			return err
		}
		v, ok := claim(old)
		if !ok {
			return nil
		}
		claimed = true
		return s.writeState(ctx, tx, env, key, v)
	})
	if err != nil {
		return false, fmt.Errorf("claim state %s %s: %w", env, key, err)
	}
	return claimed, nil
}

// lockState takes the lock of (env, key) for the rest of tx and reads its
// state (see readState).
func (s *Store) lockState(ctx context.Context, tx *txn, env, key string) ([]byte, error) {
	if err := s.db.d.lock(ctx, tx, "guard_state\x1f"+env+"\x1f"+key); err != nil {
		return nil, err
	}
	return readState(ctx, tx, env, key)
}

// readState reads the state under (env, key) within tx: nil when absent,
// never nil when present.
func readState(ctx context.Context, tx *txn, env, key string) ([]byte, error) {
	var old []byte
	err := tx.QueryRowContext(ctx, `SELECT value FROM guard_state WHERE env = ? AND key = ?`, env, key).Scan(&old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	case old == nil:
		old = []byte{}
	}
	return old, nil
}

// writeState stores v under (env, key) within tx; nil deletes it.
func (s *Store) writeState(ctx context.Context, tx *txn, env, key string, v []byte) error {
	if v == nil {
		_, err := tx.ExecContext(ctx, `DELETE FROM guard_state WHERE env = ? AND key = ?`, env, key)
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO guard_state(env, key, value, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(env, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		env, key, v, nanos(s.now()))
	return err
}

// RecordThresholdChange writes a threshold change.
func (s *Store) RecordThresholdChange(ctx context.Context, c ThresholdChange) error {
	if c.Key == "" {
		return fmt.Errorf("record threshold change: %w: empty key", ErrInvalid)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO threshold_changes(at, key, old, new, who) VALUES (?, ?, ?, ?, ?)`,
		nanos(s.orNow(c.At)), c.Key, c.Old, c.New, c.Who)
	if err != nil {
		return fmt.Errorf("record threshold change: %w", err)
	}
	return nil
}

const listThresholdChangesQuery = `SELECT id, at, key, old, new, who FROM threshold_changes
	ORDER BY at DESC, id DESC LIMIT ?`

// ListThresholdChanges returns threshold changes newest first; limit: default
// 50, at most 10000.
func (s *Store) ListThresholdChanges(ctx context.Context, limit int) ([]ThresholdChange, error) {
	rows, err := s.db.QueryContext(ctx, listThresholdChangesQuery, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list threshold changes: %w", err)
	}
	defer rows.Close()
	var out []ThresholdChange
	for rows.Next() {
		var c ThresholdChange
		var at int64
		if err := rows.Scan(&c.ID, &at, &c.Key, &c.Old, &c.New, &c.Who); err != nil {
			return nil, fmt.Errorf("list threshold changes: %w", err)
		}
		c.At = fromNanos(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list threshold changes: %w", err)
	}
	return out, nil
}

// PruneState deletes the states under env whose key starts with prefix and
// that expired judges expired, and returns how many it deleted. Each
// candidate is judged again on its current value under the key's lock (as in
// UpdateState) before it goes, so a state another writer changed meanwhile
// is judged on what it holds now, never deleted on what it held. expired
// runs while the database is locked for writing: it must be quick and must
// not use the Store.
func (s *Store) PruneState(ctx context.Context, env, prefix string, expired func(key string, value []byte) bool) (int, error) {
	candidates, err := s.stateCandidates(ctx, env, prefix, expired)
	if err != nil {
		return 0, fmt.Errorf("prune state %s %s*: %w", env, prefix, err)
	}
	n := 0
	for _, key := range candidates {
		err := s.writeTx(ctx, func(tx *txn) error {
			old, err := s.lockState(ctx, tx, env, key)
			if err != nil || old == nil || !expired(key, old) {
				return err
			}
			n++
			return s.writeState(ctx, tx, env, key, nil)
		})
		if err != nil {
			return n, fmt.Errorf("prune state %s %s: %w", env, key, err)
		}
	}
	return n, nil
}

// stateCandidates lists the keys under env starting with prefix whose value,
// read without a lock, expired judges expired.
func (s *Store) stateCandidates(ctx context.Context, env, prefix string, expired func(string, []byte) bool) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM guard_state WHERE env = ? AND substr(key, 1, ?) = ? ORDER BY key`,
		env, len([]rune(prefix)), prefix)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var key string
		var v []byte
		if err := rows.Scan(&key, &v); err != nil {
			return nil, err
		}
		if expired(key, v) {
			keys = append(keys, key)
		}
	}
	return keys, rows.Err()
}
