package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// run is the dispatcher's single delivery goroutine.
func (d *Dispatcher) run() {
	defer close(d.done)
	for {
		select {
		case <-d.stop:
			return
		default:
		}
		if !d.waitForWork() {
			return
		}
		d.mu.Lock()
		next := d.nextPost
		d.mu.Unlock()
		if !d.sleep(next) {
			return
		}
		batch := d.takeBatch()
		if len(batch) == 0 {
			continue
		}
		start := d.o.Clock.Now()
		err := d.attempt(batch)
		d.settle(batch, start, err)
	}
}

// waitForWork blocks until something is queued; false when stopped. An empty
// queue releases Flush.
func (d *Dispatcher) waitForWork() bool {
	for {
		d.mu.Lock()
		if len(d.queue) > 0 {
			d.mu.Unlock()
			return true
		}
		for _, ch := range d.idleWaiters {
			close(ch)
		}
		d.idleWaiters = nil
		d.parked = true
		d.mu.Unlock()
		select {
		case <-d.wake:
		case <-d.stop:
			return false
		}
		d.setParked(false)
	}
}

// setParked records whether the worker is blocked (tests move the fake
// clock only while every worker is).
func (d *Dispatcher) setParked(p bool) {
	d.mu.Lock()
	d.parked = p
	if !p {
		d.sleeping = false
	}
	d.mu.Unlock()
}

// sleep waits on the clock until t; false when stopped.
func (d *Dispatcher) sleep(t time.Time) bool {
	now := d.o.Clock.Now()
	if !now.Before(t) {
		return true
	}
	timer := d.o.Clock.NewTimer(t.Sub(now))
	defer timer.Stop()
	d.mu.Lock()
	d.sleeping, d.sleepUntil, d.parked = true, t, true
	d.mu.Unlock()
	defer d.setParked(false)
	select {
	case <-timer.C():
		return true
	case <-d.stop:
		return false
	}
}

// takeBatch fails expired items and takes the next batch off the queue.
func (d *Dispatcher) takeBatch() []*item {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	live := d.queue[:0]
	for _, it := range d.queue {
		switch {
		case d.gone != nil:
			d.complete(it, d.gone)
		case now.After(it.deadline):
			d.complete(it, &DeliveryError{Channel: d.sender.Channel(), Kind: ErrGaveUp, Final: true, Attempts: it.attempts})
		default:
			live = append(live, it)
		}
	}
	d.queue = live
	n := min(len(d.queue), 1)
	if n == 1 && !d.queue[0].solo {
		for n < len(d.queue) && n < d.o.MaxBatch && !d.queue[n].solo {
			n++
		}
	}
	batch := append([]*item(nil), d.queue[:n]...)
	d.queue = d.queue[n:]
	d.inflight = len(batch) > 0
	return batch
}

// attempt posts the batch once, bounded by the attempt timeout and the
// earliest deadline in the batch, on the injected clock.
func (d *Dispatcher) attempt(batch []*item) error {
	now := d.o.Clock.Now()
	timeout := d.o.AttemptTimeout
	for _, it := range batch {
		timeout = min(timeout, it.deadline.Sub(now))
		it.attempts++
	}
	ctx, cancel := context.WithCancelCause(d.ctx)
	defer cancel(nil)
	timer := d.o.Clock.AfterFunc(max(timeout, 0), func() {
		cancel(fmt.Errorf("no answer within %s: %w", timeout, context.DeadlineExceeded))
	})
	defer timer.Stop()
	ns := make([]platform.Notification, len(batch))
	for i, it := range batch {
		ns[i] = it.n
	}
	d.mu.Lock()
	d.stats.Posts++
	d.attemptUntil = now.Add(max(timeout, 0))
	d.mu.Unlock()
	return d.sender.Send(ctx, ns)
}

// settle records the outcome of a post: delivered, final, or retried later.
func (d *Dispatcher) settle(batch []*item, start time.Time, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inflight = false
	d.nextPost = start.Add(d.o.Interval)
	var de *DeliveryError
	switch {
	case err == nil:
		d.failures = 0
		d.stats.Messages++
		for _, it := range batch {
			d.complete(it, nil)
		}
		d.o.Logger.Debug("notification delivered", "channel", d.sender.Channel(), "notifications", len(batch), "attempts", batch[0].attempts)
	case d.ctx.Err() != nil: // closing: Close fails what is left
		d.queue = append(batch, d.queue...)
	case !errors.As(err, &de):
		de = &DeliveryError{Channel: d.sender.Channel(), Kind: ErrUnavailable, Err: err}
		d.retry(batch, de)
	case !de.Final:
		d.retry(batch, de)
	case len(batch) > 1 && de.Status == 400:
		d.o.Logger.Warn("coalesced message rejected; sending one by one", "channel", d.sender.Channel(), "status", de.Status, "reason", de.Reason)
		for _, it := range batch {
			it.solo = true
		}
		d.queue = append(batch, d.queue...)
	default:
		if httpStatusGone(de.Status) {
			d.gone = de
		}
		for _, it := range batch {
			d.complete(it, de)
		}
	}
}

// retry puts the batch back at the head of the queue for the next attempt,
// after Retry-After when the receiver sent one, else after the backoff; an
// item whose deadline that passes fails with ErrGaveUp. d.mu must be held.
func (d *Dispatcher) retry(batch []*item, de *DeliveryError) {
	d.failures++
	d.stats.Retries++
	delay := de.RetryAfter
	if !de.retryAt.IsZero() {
		delay = max(de.retryAt.Sub(d.o.Clock.Now()), 0)
	}
	if delay <= 0 {
		delay = backoff(d.failures, d.o.MinBackoff, d.o.MaxBackoff)
	}
	next := d.o.Clock.Now().Add(delay)
	d.nextPost = later(d.nextPost, next)
	// Whatever cannot be posted before its deadline fails now, queued items too.
	var keep []*item
	for _, it := range append(batch, d.queue...) {
		if next.After(it.deadline) {
			d.complete(it, gaveUp(de, it.attempts))
			continue
		}
		keep = append(keep, it)
	}
	d.queue = keep
	d.o.Logger.Info("notification retry scheduled", "channel", d.sender.Channel(), "status", de.Status,
		"reason", de.Reason, "delay", delay.String(), "failures", d.failures)
}

// gaveUp is the final error of an item out of time, keeping the last failure.
func gaveUp(last *DeliveryError, attempts int) *DeliveryError {
	cause := last.Err
	if cause == nil {
		cause = last.Kind
	}
	return &DeliveryError{Channel: last.Channel, Status: last.Status, Reason: last.Reason, RetryAfter: last.RetryAfter,
		Final: true, Attempts: attempts, Kind: ErrGaveUp, Err: cause}
}

// backoff is min·2^(failures-1), capped at max.
func backoff(failures int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// snapshot is the dispatcher's state for tests that drive the fake clock.
type snapshot struct {
	inflight, sleeping, parked bool
	sleepUntil                 time.Time
	attemptUntil               time.Time
	queued                     int
}

func (d *Dispatcher) snapshot() snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return snapshot{inflight: d.inflight, parked: d.parked, sleeping: d.sleeping, sleepUntil: d.sleepUntil, attemptUntil: d.attemptUntil, queued: len(d.queue)}
}
