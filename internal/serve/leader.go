package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/clock"
)

// Callbacks are what an Elector tells the server.
type Callbacks struct {
	// Lead is called when this replica starts leading, with a context that
	// ends when it stops (lease lost, or the election stopped). It must
	// return promptly once ctx ends.
	Lead func(ctx context.Context)
	// Observed is called with each leader seen, this replica included.
	Observed func(identity string)
}

// Elector decides which replica acts.
type Elector interface {
	// Run takes part in the election until ctx ends, then gives up the
	// leadership (releasing a lease) and returns.
	Run(ctx context.Context, cb Callbacks)
	// Identity names this replica.
	Identity() string
	// Elected is true when replicas compete (a lease); false when this
	// replica leads alone.
	Elected() bool
	// Confirmed reports whether this replica's leadership is still backed
	// by a recent renewal. The server asks before queueing or starting any
	// work, so a replica that was paused (a long GC, SIGSTOP, a frozen VM)
	// does not act on its way out, before its leadership context ends.
	Confirmed() bool
}

// Solo is the elector of a single instance (no cluster, or --simulate): it
// leads at once, until its context ends.
type Solo struct{ ID string }

// Run leads until ctx ends.
func (s Solo) Run(ctx context.Context, cb Callbacks) {
	cb.Observed(s.ID)
	cb.Lead(ctx)
}

// Identity names this replica.
func (s Solo) Identity() string { return s.ID }

// Elected is false: nobody competes.
func (Solo) Elected() bool { return false }

// Confirmed is true: nobody else can lead.
func (Solo) Confirmed() bool { return true }

// LeaseTiming are the durations of a Kubernetes Lease election. A leader that
// cannot renew stops acting RenewDeadline after its last renewal, before any
// other replica may take the lease (LeaseDuration after it last saw it renewed).
type LeaseTiming struct {
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

// DefaultLeaseTiming returns client-go's usual values: 15s, 10s, 2s.
func DefaultLeaseTiming() LeaseTiming {
	return LeaseTiming{LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
}

// Validate checks that a leader always stops before another can start.
func (t LeaseTiming) Validate() error {
	if t.RetryPeriod <= 0 || t.RenewDeadline < 2*t.RetryPeriod {
		return fmt.Errorf("%w: the renew deadline (%s) must be at least twice the retry period (%s)", ErrConfig, t.RenewDeadline, t.RetryPeriod)
	}
	if t.RenewDeadline+t.RetryPeriod >= t.LeaseDuration {
		return fmt.Errorf("%w: the lease duration (%s) must exceed the renew deadline plus the retry period (%s + %s), so a leader that cannot renew stops before another replica may take over",
			ErrConfig, t.LeaseDuration, t.RenewDeadline, t.RetryPeriod)
	}
	return nil
}

// LeaseElector runs client-go's leader election on a coordination.k8s.io
// Lease. On top of client-go's own renew deadline, a watchdog checks every
// half retry period and ends the leadership context once no renewal has
// succeeded for RenewDeadline minus that half period, so work stops before
// the renew deadline even if the renew loop is stuck in a slow request.
type LeaseElector struct {
	lock   *watchedLock
	timing LeaseTiming
	clock  clock.WithTicker
	log    *slog.Logger
}

// NewLeaseElector builds an elector on the Lease namespace/name.
func NewLeaseElector(client coordinationv1.LeasesGetter, namespace, name, identity string, t LeaseTiming, clk clock.WithTicker, log *slog.Logger) (*LeaseElector, error) {
	switch {
	case namespace == "" || name == "":
		return nil, fmt.Errorf("%w: the lease needs a namespace and a name", ErrConfig)
	case identity == "":
		return nil, fmt.Errorf("%w: the replica needs an identity", ErrConfig)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: namespace, Name: name},
		Client:     client,
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	return &LeaseElector{lock: &watchedLock{Interface: lock, clock: clk}, timing: t, clock: clk, log: log}, nil
}

// Identity names this replica.
func (e *LeaseElector) Identity() string { return e.lock.Identity() }

// Elected is true.
func (e *LeaseElector) Elected() bool { return true }

// Confirmed reports whether the lease was renewed by this replica within
// the watchdog's threshold (the renew deadline less half a retry period).
func (e *LeaseElector) Confirmed() bool {
	last := e.lock.lastRenew()
	return !last.IsZero() && e.clock.Since(last) <= e.overdue()
}

// overdue is how old the last renewal may be while this replica acts.
func (e *LeaseElector) overdue() time.Duration {
	return e.timing.RenewDeadline - e.timing.RetryPeriod/2
}

// Run campaigns for the lease until ctx ends; after losing it, it campaigns
// again. When ctx ends while leading, the lease is released so that another
// replica takes over at once.
func (e *LeaseElector) Run(ctx context.Context, cb Callbacks) {
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: e.lock, LeaseDuration: e.timing.LeaseDuration, RenewDeadline: e.timing.RenewDeadline,
			RetryPeriod: e.timing.RetryPeriod, ReleaseOnCancel: true, Name: e.lock.Describe(),
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					wctx, cancel := watchRenewals(ctx, e.clock, e.lock.lastRenew, e.overdue(), e.timing.RetryPeriod/2)
					defer cancel()
					cb.Lead(wctx)
				},
				OnStoppedLeading: func() {},
				OnNewLeader:      cb.Observed,
			},
		})
		if err != nil { // the timing was validated: this is a programming error
			e.log.Error("leader election cannot start", "error", err.Error())
			return
		}
		le.Run(ctx)
		if ctx.Err() == nil {
			e.log.Warn("leadership lost; campaigning again", "lease", e.lock.Describe())
			select {
			case <-ctx.Done():
			case <-e.clock.After(e.timing.RetryPeriod):
			}
		}
	}
}

// watchedLock remembers when this replica last wrote the lease (acquired or
// renewed it).
type watchedLock struct {
	resourcelock.Interface
	clock clock.PassiveClock

	mu   sync.Mutex
	last time.Time
}

// Create records an acquisition.
func (l *watchedLock) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	start := l.clock.Now()
	err := l.Interface.Create(ctx, ler)
	l.wrote(ler, start, err)
	return err
}

// Update records a renewal.
func (l *watchedLock) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	start := l.clock.Now()
	err := l.Interface.Update(ctx, ler)
	l.wrote(ler, start, err)
	return err
}

// wrote keeps the time a successful write of our own record was sent (not
// when it returned: the lease counts from the server's view, which is no
// later than the send).
func (l *watchedLock) wrote(ler resourcelock.LeaderElectionRecord, sent time.Time, err error) {
	if err != nil || ler.HolderIdentity != l.Identity() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = sent
}

func (l *watchedLock) lastRenew() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// errRenewalOverdue ends a leadership whose lease was not renewed in time.
var errRenewalOverdue = errors.New("lease renewal overdue")

// watchRenewals returns a context that ends with ctx, or when the last
// renewal is older than deadline (checked every tick).
func watchRenewals(ctx context.Context, clk clock.WithTicker, last func() time.Time, deadline, tick time.Duration) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancelCause(ctx)
	go func() {
		t := clk.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C():
				if l := last(); !l.IsZero() && clk.Since(l) > deadline {
					cancel(errRenewalOverdue)
					return
				}
			}
		}
	}()
	return wctx, func() { cancel(context.Canceled) }
}
