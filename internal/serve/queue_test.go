package serve

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func popNow(t *testing.T, q *queue) *job {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // only what is ready now
	j, ok := q.pop(ctx)
	if !ok {
		return nil
	}
	return j
}

func TestQueueRunsOneJobPerWorkloadAtATime(t *testing.T) {
	q := newQueue(10, nil)
	if err := q.push(&job{lane: "ns/backend", key: "b1"}, &job{lane: "ns/backend", key: "b2"}, &job{lane: "ns/frontend", key: "f1"}); err != nil {
		t.Fatal(err)
	}
	first, second := popNow(t, q), popNow(t, q)
	if first.key != "b1" || second.key != "f1" {
		t.Fatalf("popped %s then %s, want b1 then f1 (backend's second job waits)", first.key, second.key)
	}
	if j := popNow(t, q); j != nil {
		t.Fatalf("popped %s while backend's first job runs", j.key)
	}
	q.done(first)
	if j := popNow(t, q); j == nil || j.key != "b2" {
		t.Fatalf("after b1 is done popped %v, want b2", j)
	}
}

func TestQueueTakesAllOrNothing(t *testing.T) {
	q := newQueue(3, nil)
	if err := q.push(&job{lane: "a"}, &job{lane: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := q.push(&job{lane: "c"}, &job{lane: "d"}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("push past capacity: %v, want ErrQueueFull", err)
	}
	if q.len() != 2 {
		t.Fatalf("len %d after a refused push, want 2", q.len())
	}
	if err := q.push(&job{lane: "c"}); err != nil {
		t.Fatalf("push up to capacity: %v", err)
	}
}

func TestQueueRemovesQueuedJobsOnly(t *testing.T) {
	q := newQueue(10, nil)
	_ = q.push(&job{lane: "x", key: "x1"}, &job{lane: "x", key: "x2"}, &job{lane: "y", key: "y1"})
	running := popNow(t, q) // x1
	got := q.remove(func(j *job) bool { return j.lane == "x" })
	if len(got) != 1 || got[0].key != "x2" {
		t.Fatalf("removed %v, want x2 only (x1 is running)", got)
	}
	if j := popNow(t, q); j == nil || j.key != "y1" {
		t.Fatalf("popped %v, want y1", j)
	}
	q.done(running)
	if j := popNow(t, q); j != nil {
		t.Fatalf("popped %s, nothing should be left", j.key)
	}
}

func TestClosedQueueDrainsThenStops(t *testing.T) {
	var depth []int
	q := newQueue(10, func(n int) { depth = append(depth, n) })
	_ = q.push(&job{lane: "a", key: "a1"})
	q.close()
	if err := q.push(&job{lane: "b"}); !errors.Is(err, ErrQueueClosed) {
		t.Fatalf("push after close: %v, want ErrQueueClosed", err)
	}
	j, ok := q.pop(context.Background())
	if !ok || j.key != "a1" {
		t.Fatalf("pop after close: %v %v, want a1", j, ok)
	}
	q.done(j)
	if _, ok := q.pop(context.Background()); ok {
		t.Fatal("pop on a closed, empty queue returned a job")
	}
	if fmt.Sprint(depth[len(depth)-1]) != "0" {
		t.Errorf("depth reported last %v, want 0", depth)
	}
}

func TestPopWakesWhenAJobArrives(t *testing.T) {
	q := newQueue(10, nil)
	got := make(chan *job)
	go func() {
		j, _ := q.pop(context.Background())
		got <- j
	}()
	_ = q.push(&job{lane: "a", key: "late"})
	if j := waitFor(t, got, "the waiting worker"); j.key != "late" {
		t.Fatalf("woke with %s", j.key)
	}
}

func TestSeenForgetsTheOldestPastItsBound(t *testing.T) {
	s := newSeen(2)
	if got := s.addAll([]string{"a", "b", "a"}); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("fresh %v, want [a b]", got)
	}
	s.addAll([]string{"c"}) // evicts a
	if got := s.addAll([]string{"a", "c"}); fmt.Sprint(got) != "[a]" {
		t.Fatalf("fresh %v, want [a] (a was evicted, c is known)", got)
	}
	s.forget([]string{"a"})
	s.reset()
	if got := s.addAll([]string{"b", "c"}); len(got) != 2 {
		t.Fatalf("after reset fresh %v, want both", got)
	}
}
