package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// KeepConversations is how many conversations are kept for each environment;
// saving a new one forgets the oldest beyond it.
const KeepConversations = 20

// ConversationRecord is one chat conversation, saved after each of its turns
// so that `ops-skill chat --resume` can continue it. The store keeps the
// transcript as given (the agent's versioned JSON) and never reads it.
type ConversationRecord struct {
	ID         int64     `json:"id"`
	Env        string    `json:"env"`
	StartedAt  time.Time `json:"startedAt"` // the clock's time when zero
	UpdatedAt  time.Time `json:"updatedAt"` // set by SaveConversation
	Turns      int       `json:"turns"`
	Transcript []byte    `json:"transcript"`
}

// SaveConversation writes a conversation and returns its ID: a new one when
// c.ID is 0 (forgetting the oldest of its environment beyond
// KeepConversations), else the update of c.ID, which must exist.
func (s *Store) SaveConversation(ctx context.Context, c ConversationRecord) (int64, error) {
	if c.Env == "" || len(c.Transcript) == 0 || c.Turns < 0 {
		return 0, fmt.Errorf("save conversation: %w: env, transcript and turns are required", ErrInvalid)
	}
	id := c.ID
	err := s.writeTx(ctx, func(tx *txn) error {
		if id != 0 {
			return mustAffect(tx.ExecContext(ctx, `UPDATE conversations SET turns = ?, transcript = ?, updated_at = ?
				WHERE id = ? AND env = ?`, c.Turns, string(c.Transcript), nanos(s.now()), id, c.Env))
		}
		var err error
		id, err = insertID(ctx, tx, `INSERT INTO conversations(env, started_at, updated_at, turns, transcript)
			VALUES (?, ?, ?, ?, ?)`, c.Env, nanos(s.orNow(c.StartedAt)), nanos(s.now()), c.Turns, string(c.Transcript))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM conversations WHERE env = ? AND id NOT IN
			(SELECT id FROM conversations WHERE env = ? ORDER BY updated_at DESC, id DESC LIMIT ?)`, c.Env, c.Env, KeepConversations)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save conversation: %w", err)
	}
	return id, nil
}

const lastConversationQuery = `SELECT id, started_at, updated_at, turns, transcript FROM conversations
	WHERE env = ? ORDER BY updated_at DESC, id DESC LIMIT 1`

// LastConversation returns the conversation of env saved last; ErrNotFound
// when there is none.
func (s *Store) LastConversation(ctx context.Context, env string) (ConversationRecord, error) {
	c := ConversationRecord{Env: env}
	var started, updated int64
	var transcript string
	err := s.db.QueryRowContext(ctx, lastConversationQuery, env).Scan(&c.ID, &started, &updated, &c.Turns, &transcript)
	if errors.Is(err, sql.ErrNoRows) {
		return ConversationRecord{}, fmt.Errorf("last conversation in %s: %w", env, ErrNotFound)
	}
	if err != nil {
		return ConversationRecord{}, fmt.Errorf("last conversation in %s: %w", env, err)
	}
	c.StartedAt, c.UpdatedAt, c.Transcript = fromNanos(started), fromNanos(updated), []byte(transcript)
	return c, nil
}
