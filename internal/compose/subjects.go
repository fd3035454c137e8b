package compose

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Subjects makes the runs of one subject take turns: in this process (a
// channel per subject), and across processes sharing a state directory (an
// advisory file lock per subject). A run that waits then sees what the one
// before it did — the scale applied, the incident open, the notification
// sent — instead of acting on the same symptom at the same moment.
type Subjects struct {
	dir string // where the lock files are; "" for this process only

	mu    sync.Mutex
	turns map[string]chan struct{}
}

// NewSubjects takes turns in this process and, when dir is set, with every
// process that uses the same dir.
func NewSubjects(dir string) *Subjects {
	return &Subjects{dir: dir, turns: map[string]chan struct{}{}}
}

// Lock waits for the subject's turn (or ctx) and returns its release.
func (s *Subjects) Lock(ctx context.Context, subject string) (func(), error) {
	turn := s.turn(subject)
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the run of %s before this one: %w", subject, context.Cause(ctx))
	}
	release := func() { <-turn }
	if s.dir == "" {
		return release, nil
	}
	unlock, err := s.lockFile(ctx, subject)
	if err != nil {
		release()
		return nil, err
	}
	return func() { unlock(); release() }, nil
}

func (s *Subjects) turn(subject string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.turns[subject]
	if !ok {
		t = make(chan struct{}, 1)
		s.turns[subject] = t
	}
	return t
}

// lockFile takes the subject's file lock, waiting as long as ctx allows.
func (s *Subjects) lockFile(ctx context.Context, subject string) (func(), error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("runs of one subject take turns through %s: %w", s.dir, err)
	}
	sum := sha256.Sum256([]byte(subject))
	path := filepath.Join(s.dir, hex.EncodeToString(sum[:8])+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("runs of one subject take turns through %s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- flock(f) }()
	select {
	case err := <-done:
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s for %s: %w", path, subject, err)
		}
		return func() { _ = funlock(f); _ = f.Close() }, nil
	case <-ctx.Done():
		go func() { // the lock may still come: give it back at once
			if <-done == nil {
				_ = funlock(f)
			}
			_ = f.Close()
		}()
		return nil, fmt.Errorf("wait for another process's run of %s: %w", subject, context.Cause(ctx))
	}
}
