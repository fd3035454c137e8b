// Package sim is the simulated platform that `ops-skill --simulate` and the eval
// suite run against: an in-process model of the namespace ai-data-labs (backend,
// frontend, clickhouse, postgresql, redis) behind the same backend ports as the
// real adapters (platform.Cluster, Metrics, Storage, Health, Notifier).
//
// A scenario (internal/sim/scenarios/NAME.yaml, see Scenario) gives the initial
// state and the model's numbers. Time is virtual: it starts at the time given to
// New and moves only through Advance, Wait or the clock's Sleep. Every state is
// computed from append-only records (pod lifetimes, pod template revisions,
// dropped partitions) and the scenario's signals, so a query about the past
// returns what was true then and a write at time t changes only the future.
package sim

import (
	"context"
	"strconv"
	"sync"
	"time"

	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Platform is one simulated platform. All methods are safe for concurrent use.
type Platform struct {
	mu       sync.RWMutex
	clock    *testingclock.FakeClock
	sc       Scenario
	start    time.Time
	services []*service
	byName   map[string]*service
	storage  *storage
	volumes  map[string]*volume // the StatefulSets' claims, by name
	notes    []platform.Notification
	rv       int64
}

// New builds the platform of a scenario (normally from LoadScenario) with its
// virtual clock at start. Omitted settings take their defaults.
func New(sc Scenario, start time.Time) *Platform {
	sc = sc.withDefaults()
	p := &Platform{
		clock:   testingclock.NewFakeClock(start),
		sc:      sc,
		start:   start,
		byName:  map[string]*service{},
		volumes: map[string]*volume{},
		rv:      1000,
	}
	for _, spec := range sc.Services {
		s := newService(spec, sc.Namespace, start)
		s.version = p.nextVersion()
		p.services = append(p.services, s)
		p.byName[spec.Name] = s
	}
	if sc.Storage != nil {
		if s := p.byName[sc.Storage.Service]; s != nil {
			p.storage = newStorage(*sc.Storage, s, start)
		}
	}
	for _, s := range p.services {
		p.claimVolumes(s, start, false)
	}
	return p
}

// Scenario returns the scenario the platform was built from.
func (p *Platform) Scenario() Scenario { return p.sc }

// Start returns the virtual time the platform started at.
func (p *Platform) Start() time.Time { return p.start }

// Clock returns the virtual clock. Its Sleep advances virtual time at once;
// its timers (After, NewTimer, Tick) fire only when Advance, Wait or Sleep move
// virtual time past them, so never block on one without advancing.
func (p *Platform) Clock() clock.Clock { return p.clock }

// Now returns the current virtual time.
func (p *Platform) Now() time.Time { return p.clock.Now() }

// Advance moves virtual time forward by d (nothing for d <= 0).
func (p *Platform) Advance(d time.Duration) {
	if d > 0 {
		p.clock.Step(d)
	}
}

// Wait advances virtual time by d at once, unless ctx is already done.
func (p *Platform) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.Advance(d)
	return nil
}

// Cluster returns the Kubernetes port.
func (p *Platform) Cluster() platform.Cluster { return clusterPort{p} }

// Resolver returns the port that resolves an alert's object to its workload.
func (p *Platform) Resolver() platform.Resolver { return clusterPort{p} }

// Volumes returns the port of the StatefulSets' PersistentVolumeClaims.
func (p *Platform) Volumes() platform.Volumes { return volumesPort{p} }

// Metrics returns the Prometheus port.
func (p *Platform) Metrics() platform.Metrics { return metricsPort{p} }

// Storage returns the ClickHouse port.
func (p *Platform) Storage() platform.Storage { return storagePort{p} }

// Health returns the health-check port.
func (p *Platform) Health() platform.Health { return healthPort{p} }

// Notifier returns the notification port; see Notifications.
func (p *Platform) Notifier() platform.Notifier { return notifierPort{p} }

// Notifications returns what the simulated channel received, oldest first.
func (p *Platform) Notifications() []platform.Notification {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]platform.Notification(nil), p.notes...)
}

func (p *Platform) nextVersion() int64 {
	p.rv++
	return p.rv
}

func (s *service) resourceVersion() string { return strconv.FormatInt(s.version, 10) }

type notifierPort struct{ p *Platform }

// Notify records the notification, or fails with platform.ErrUnavailable when
// the scenario says the channel is down.
func (n notifierPort) Notify(ctx context.Context, note platform.Notification) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n.p.sc.NotifierDown {
		return errorf(platform.ErrUnavailable, "notification channel: webhook answered 503")
	}
	n.p.mu.Lock()
	defer n.p.mu.Unlock()
	note.Fields = copyMap(note.Fields)
	note.Links = copyMap(note.Links)
	n.p.notes = append(n.p.notes, note)
	return nil
}
