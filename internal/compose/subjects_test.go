package compose

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Two processes' Subjects (two values on one directory) take turns on a
// subject, and not on another one; a wait ends with its context.
func TestSubjectsTakeTurnsAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	a, b := NewSubjects(dir), NewSubjects(dir)
	ctx := context.Background()
	release, err := a.Lock(ctx, "shop/backend")
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.Lock(ctx, "shop/frontend")
	if err != nil {
		t.Fatalf("another subject must not wait: %v", err)
	}
	other()

	short, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Lock(short, "shop/backend"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait = %v, want context.Canceled", err)
	}

	got := make(chan func(), 1)
	go func() {
		r, err := b.Lock(ctx, "shop/backend")
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("the second process got the subject while the first held it")
	case <-time.After(50 * time.Millisecond): // only a check that it waits; no outcome depends on this time
	}
	release()
	(<-got)()
}
