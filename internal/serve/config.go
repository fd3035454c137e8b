package serve

import (
	"errors"
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
)

// ErrConfig marks an invalid server configuration.
var ErrConfig = errors.New("invalid serve configuration")

// Config is how the server listens, authenticates, queues and loops.
type Config struct {
	// Listen is the address of the HTTP server, e.g. ":9095" or "127.0.0.1:9095".
	Listen string
	// Auth says who may post alerts.
	Auth Auth
	// MaxBodyBytes bounds a webhook body; larger requests get 413. At most
	// alert.MaxPayloadBytes.
	MaxBodyBytes int64
	// QueueSize bounds the jobs waiting to run; a delivery that does not fit
	// gets 503 with Retry-After, so Alertmanager retries it.
	QueueSize int
	// Workers is how many jobs run at once (never two on the same workload).
	Workers int
	// RetryAfter is what 503 answers ask the sender to wait.
	RetryAfter time.Duration
	// ShutdownGrace is how long in-flight and queued work may continue after
	// the stop signal; then it is cancelled and the cancellation recorded.
	ShutdownGrace time.Duration
	// HealthInterval is the period of the health-check loop
	// (HEALTH_CHECK_INTERVAL); zero switches the loop off.
	HealthInterval time.Duration
	// ScalePeriod is the period of the scaling loop; zero, or no
	// ScaleWorkloads, switches it off.
	ScalePeriod    time.Duration
	ScaleWorkloads []platform.WorkloadRef
	// EscalationPeriod is how often firing alerts are checked against
	// ESCALATION_HOURS; zero switches the timers off.
	EscalationPeriod time.Duration
	// DedupMemory bounds the delivery keys remembered in memory; older keys
	// are still found in the shared ledger.
	DedupMemory int
	// ClaimTimeout is how long a run claimed by a replica that stopped
	// (killed mid-run, it may have acted) is honoured before a new delivery
	// of the alert may run it again. Longer than any run.
	ClaimTimeout time.Duration
	// FiringTTL drops a firing alert from the escalation timers when no
	// resolution arrived this long after it started (send_resolved off, or
	// the alert was silenced).
	FiringTTL time.Duration
	// LedgerTTL is how long the delivery ledger remembers a delivery after
	// its run ended (or, for a run that never finished, after its claim);
	// the deliveries of alerts still firing are kept whatever their age.
	// A repeat or a late retry of a delivery within it is recognised as
	// handled; after it the delivery would run again. Longer than
	// Alertmanager's repeat_interval (4h by default) and than ClaimTimeout.
	LedgerTTL time.Duration
	// PrunePeriod is how often the leader deletes the ledger's expired
	// deliveries; zero switches pruning off.
	PrunePeriod time.Duration
}

// DefaultLedgerTTL is the default of Config.LedgerTTL: a day, six times
// Alertmanager's default repeat_interval (4h) and twice the 12h many teams
// set, so a repeat of a delivery whose alert is no longer tracked as firing
// (its resolution lost, or past FiringTTL) still finds it handled; a day of
// deliveries is a few thousand small rows at most.
const DefaultLedgerTTL = 24 * time.Hour

// DefaultConfig returns the defaults: loopback port 9095, 1 MiB bodies, a
// queue of 256, 2 workers, 30 s grace, the spec's 30 s health interval, a
// one-minute scaling period (off until workloads are named) and escalation
// check.
func DefaultConfig() Config {
	return Config{
		Listen: "127.0.0.1:9095", MaxBodyBytes: alert.MaxPayloadBytes, QueueSize: 256, Workers: 2,
		RetryAfter: 5 * time.Second, ShutdownGrace: 30 * time.Second, HealthInterval: 30 * time.Second,
		ScalePeriod: time.Minute, EscalationPeriod: time.Minute, DedupMemory: 1 << 16, ClaimTimeout: 15 * time.Minute, FiringTTL: 7 * 24 * time.Hour,
		LedgerTTL: DefaultLedgerTTL, PrunePeriod: time.Hour,
	}
}

// Validate reports every invalid value, each naming the setting and the fix.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
		}
	}
	check(c.Listen != "", "the listen address is empty: give host:port, e.g. :9095")
	check(c.MaxBodyBytes > 0 && c.MaxBodyBytes <= alert.MaxPayloadBytes,
		"the body limit %d must be between 1 and %d bytes", c.MaxBodyBytes, alert.MaxPayloadBytes)
	check(c.QueueSize >= 1, "the queue size %d must be at least 1", c.QueueSize)
	check(c.Workers >= 1 && c.Workers <= 64, "the workers %d must be between 1 and 64", c.Workers)
	check(c.RetryAfter >= time.Second, "Retry-After %s must be at least 1s", c.RetryAfter)
	check(c.ShutdownGrace >= 0, "the shutdown grace %s must not be negative", c.ShutdownGrace)
	check(c.HealthInterval == 0 || c.HealthInterval >= time.Second, "the health interval %s must be 0 (off) or at least 1s", c.HealthInterval)
	check(c.ScalePeriod == 0 || c.ScalePeriod >= time.Second, "the scaling period %s must be 0 (off) or at least 1s", c.ScalePeriod)
	check(c.EscalationPeriod == 0 || c.EscalationPeriod >= time.Second, "the escalation period %s must be 0 (off) or at least 1s", c.EscalationPeriod)
	check(c.DedupMemory >= 1, "the in-memory dedup size %d must be at least 1", c.DedupMemory)
	check(c.ClaimTimeout >= time.Minute, "the claim timeout %s must be at least 1m (longer than a run)", c.ClaimTimeout)
	check(c.FiringTTL >= time.Hour, "the firing TTL %s must be at least 1h", c.FiringTTL)
	check(c.LedgerTTL >= time.Hour && c.LedgerTTL >= c.ClaimTimeout,
		"the ledger TTL %s must be at least 1h and the claim timeout %s (longer than Alertmanager's repeat_interval)", c.LedgerTTL, c.ClaimTimeout)
	check(c.PrunePeriod == 0 || c.PrunePeriod >= time.Second, "the prune period %s must be 0 (off) or at least 1s", c.PrunePeriod)
	for _, w := range c.ScaleWorkloads {
		check(w.Namespace != "" && w.Name != "", "scaling workload %q must be namespace/name", w.String())
	}
	if err := c.Auth.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
