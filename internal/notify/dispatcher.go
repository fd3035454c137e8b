package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// Defaults of DispatcherOptions.
const (
	// WebhookInterval is the pacing of chat webhooks: one message per second.
	WebhookInterval       = time.Second
	DefaultDeadline       = time.Minute
	DefaultAttemptTimeout = 10 * time.Second
	DefaultMinBackoff     = time.Second
	DefaultMaxBackoff     = 30 * time.Second
	DefaultQueueSize      = 256
)

// ErrPending means Notify's context ended while the notification was still
// queued: the dispatcher keeps trying until its deadline, Flush or Close.
var ErrPending = errors.New("notification still queued")

// DispatcherOptions tune a Dispatcher. Zero values take the defaults above,
// except Interval (zero: no pacing) and MaxBatch (zero: one per post).
type DispatcherOptions struct {
	// Clock times pacing, backoff, deadlines and attempt timeouts; nil means the real clock.
	Clock clock.WithDelayedExecution
	// Logger receives delivery, retry and failure records (never a secret); nil discards.
	Logger *slog.Logger
	// Interval is the least time between two posts (WebhookInterval for chat webhooks).
	Interval time.Duration
	// MaxBatch is how many queued notifications one post may carry (coalescing).
	MaxBatch int
	// Deadline bounds the delivery of each notification from the time it was queued.
	Deadline time.Duration
	// AttemptTimeout bounds one post.
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential backoff after 5xx and
	// network errors (and 429 without Retry-After).
	MinBackoff, MaxBackoff time.Duration
	// QueueSize bounds the queue; Notify fails with ErrQueueFull beyond it.
	QueueSize int
}

func (o DispatcherOptions) withDefaults() DispatcherOptions {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.MaxBatch = max(o.MaxBatch, 1)
	o.Interval = max(o.Interval, 0)
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Deadline, DefaultDeadline)
	def(&o.AttemptTimeout, DefaultAttemptTimeout)
	def(&o.MinBackoff, DefaultMinBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	return o
}

// Stats counts a dispatcher's work.
type Stats struct {
	Posts     int // HTTP attempts
	Messages  int // successful posts (one message each, coalesced or not)
	Delivered int // notifications delivered
	Failed    int // notifications that failed for good
	Retries   int // attempts that were retried
}

// Dispatcher queues notifications for one Sender (one webhook) and delivers
// them in order from a single goroutine: paced by Interval, coalesced up to
// MaxBatch per post, 429 retried after Retry-After, 5xx and network errors
// retried with backoff until each notification's deadline, 4xx final. A
// coalesced post rejected with 400 is split and retried one by one; 404 and
// 410 (the webhook or channel is gone) fail everything queued and everything
// after. It implements platform.Notifier.
type Dispatcher struct {
	sender Sender
	o      DispatcherOptions
	ctx    context.Context
	cancel context.CancelCauseFunc
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	mu           sync.Mutex
	queue        []*item
	closed       bool
	gone         *DeliveryError
	inflight     bool
	parked       bool // the worker is blocked on the queue or the clock
	sleeping     bool
	sleepUntil   time.Time
	attemptUntil time.Time
	nextPost     time.Time
	failures     int
	unreported   []error
	idleWaiters  []chan struct{}
	stats        Stats
}

// item is one queued notification.
type item struct {
	n        platform.Notification
	deadline time.Time
	attempts int
	solo     bool
	done     chan struct{}
	err      error
	finished bool
	waited   bool
}

// NewDispatcher starts a dispatcher for sender. Close it to stop its goroutine.
func NewDispatcher(sender Sender, o DispatcherOptions) *Dispatcher {
	o = o.withDefaults()
	ctx, cancel := context.WithCancelCause(context.Background())
	d := &Dispatcher{sender: sender, o: o, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

// String names the channel, never its address.
func (d *Dispatcher) String() string { return "dispatcher(" + d.sender.Channel() + ")" }

// Format renders every verb as String, so no rendering reaches a secret.
func (d *Dispatcher) Format(st fmt.State, _ rune) { _, _ = st.Write([]byte(d.String())) }

// Channel is the sender's channel name.
func (d *Dispatcher) Channel() string { return d.sender.Channel() }

// Notify queues n and waits until it is delivered (nil), fails for good (a
// *DeliveryError), or ctx ends (ErrPending: it stays queued).
func (d *Dispatcher) Notify(ctx context.Context, n platform.Notification) error {
	it, err := d.submit(n, true)
	if err != nil {
		return err
	}
	return d.wait(ctx, it)
}

// Enqueue queues n without waiting; its failure is reported by Flush or Close.
func (d *Dispatcher) Enqueue(n platform.Notification) error {
	_, err := d.submit(n, false)
	return err
}

func (d *Dispatcher) submit(n platform.Notification, waited bool) (*item, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return nil, &DeliveryError{Channel: d.sender.Channel(), Kind: ErrClosed, Final: true}
	case d.gone != nil:
		return nil, d.gone
	case len(d.queue) >= d.o.QueueSize:
		return nil, &DeliveryError{Channel: d.sender.Channel(), Kind: ErrQueueFull, Final: true}
	}
	it := &item{n: n, deadline: d.o.Clock.Now().Add(d.o.Deadline), done: make(chan struct{}), waited: waited}
	d.queue = append(d.queue, it)
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return it, nil
}

func (d *Dispatcher) wait(ctx context.Context, it *item) error {
	select {
	case <-it.done:
		return it.err
	case <-ctx.Done():
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if it.finished {
		return it.err
	}
	it.waited = false
	return fmt.Errorf("%s: %w (retried until the deadline or Close): %w", d.sender.Channel(), ErrPending, ctx.Err())
}

// Flush waits until the queue is empty and nothing is in flight, and returns
// the failures of notifications nobody waited for since the last Flush.
func (d *Dispatcher) Flush(ctx context.Context) error {
	d.mu.Lock()
	if len(d.queue) == 0 && !d.inflight {
		defer d.mu.Unlock()
		return d.takeUnreported()
	}
	ch := make(chan struct{})
	d.idleWaiters = append(d.idleWaiters, ch)
	d.mu.Unlock()
	select {
	case <-ch:
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.takeUnreported()
	case <-ctx.Done():
		d.mu.Lock()
		defer d.mu.Unlock()
		return fmt.Errorf("%s: %w: %d notification(s) still queued at flush: %w", d.sender.Channel(), ErrPending, len(d.queue), ctx.Err())
	}
}

func (d *Dispatcher) takeUnreported() error {
	err := errors.Join(d.unreported...)
	d.unreported = nil
	return err
}

// Close stops accepting notifications, delivers what is queued until ctx
// ends, then stops the dispatcher; what is left fails with ErrClosed.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	flushErr := d.Flush(ctx)
	d.once.Do(func() {
		close(d.stop)
		d.cancel(&DeliveryError{Channel: d.sender.Channel(), Kind: ErrClosed, Final: true})
	})
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	left := d.queue
	d.queue = nil
	for _, it := range left {
		d.complete(it, &DeliveryError{Channel: d.sender.Channel(), Kind: ErrClosed, Final: true, Attempts: it.attempts})
	}
	return errors.Join(flushErr, d.takeUnreported())
}

// Stats returns the counters so far.
func (d *Dispatcher) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// complete finishes an item; d.mu must be held.
func (d *Dispatcher) complete(it *item, err error) {
	if it.finished {
		return
	}
	it.finished, it.err = true, err
	close(it.done)
	if err == nil {
		d.stats.Delivered++
		return
	}
	d.stats.Failed++
	if !it.waited {
		d.unreported = append(d.unreported, err)
	}
	d.o.Logger.Warn("notification not delivered", "channel", d.sender.Channel(), "title", text.ClipRunes(it.n.Title, 80), "error", err.Error())
}

// httpStatusGone reports answers meaning the webhook or its channel no longer exists.
func httpStatusGone(status int) bool {
	return status == http.StatusNotFound || status == http.StatusGone
}
