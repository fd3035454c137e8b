package agent_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/compose"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// stuckRollout never completes.
type stuckRollout struct{}

func (stuckRollout) RolloutProgress(context.Context, platform.WorkloadRef) (platform.RolloutProgress, error) {
	return platform.RolloutProgress{Message: "3 of 4 updated replicas are available"}, nil
}

// brokenRollout cannot be read.
type brokenRollout struct{}

func (brokenRollout) RolloutProgress(context.Context, platform.WorkloadRef) (platform.RolloutProgress, error) {
	return platform.RolloutProgress{}, errors.New("the API server is unreachable")
}

// noSamples never has a fresh sample (a scrape that stopped).
type noSamples struct{}

func (noSamples) FreshSamples(context.Context, platform.MetricQuery) (int, error) { return 0, nil }

// brokenSamples cannot be counted.
type brokenSamples struct{}

func (brokenSamples) FreshSamples(context.Context, platform.MetricQuery) (int, error) {
	return 0, errors.New("Prometheus is unreachable")
}

// TestVerificationWaitsForTheEvidence: the high-CPU scale on the simulated
// platform (new pods ready 30s after they start, a sample every 15s) waits
// for its rollout and four fresh samples, not the fixed two minutes; what
// cannot be watched falls back to the settle maximum, and the verification
// says what it waited for.
func TestVerificationWaitsForTheEvidence(t *testing.T) {
	tests := []struct {
		name     string
		scenario string // default high-cpu
		ports    func(*compose.Platform)
		waited   time.Duration
		evidence string
		since    bool // the verification read CPU from the samples after the rollout
	}{
		{"rollout and samples", "", nil, 90 * time.Second,
			"the rollout of ai-data-labs/backend completed after 30s, then 4 fresh CPU samples", true},
		{"no Prometheus freshness: the rollout alone", "", func(p *compose.Platform) { p.Fresh = nil }, 30 * time.Second,
			"the rollout of ai-data-labs/backend completed after 30s", false},
		{"rollouts cannot be read", "", func(p *compose.Platform) { p.Rollouts = nil }, 2 * time.Minute,
			"the settle maximum of 2m (rollouts cannot be read here)", false},
		{"a rollout that does not complete", "", func(p *compose.Platform) { p.Rollouts = stuckRollout{} }, 2 * time.Minute,
			"the rollout of ai-data-labs/backend did not complete: 3 of 4 updated replicas are available", false},
		{"a rollout that cannot be read", "", func(p *compose.Platform) { p.Rollouts = brokenRollout{} }, 2 * time.Minute,
			"the settle maximum of 2m (the rollout of ai-data-labs/backend could not be read: the API server is unreachable)", false},
		{"samples that do not come", "", func(p *compose.Platform) { p.Fresh = noSamples{} }, 2 * time.Minute,
			"the rollout of ai-data-labs/backend completed after 30s, only 0 fresh CPU samples by the settle maximum", false},
		{"samples that cannot be counted", "", func(p *compose.Platform) { p.Fresh = brokenSamples{} }, 2 * time.Minute,
			"the settle maximum of 2m (the rollout of ai-data-labs/backend completed after 30s, fresh CPU samples could not be counted: Prometheus is unreachable)", false},
		{"a health signal needs no samples when they cannot be counted", "health-check-failing", func(p *compose.Platform) { p.Fresh = brokenSamples{} }, 30 * time.Second,
			"the rollout of ai-data-labs/frontend completed after 30s, fresh memory samples could not be counted (Prometheus is unreachable), the rollout is the evidence", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := tt.scenario
			if sc == "" {
				sc = "high-cpu"
			}
			h := newHarness(t, setup{scenario: sc, ports: tt.ports})
			start := h.p.Now()
			sum := h.run()
			v := sum.Verification
			if v == nil {
				t.Fatalf("no verification: %+v", sum)
			}
			if v.Waited.Duration() != tt.waited || v.Evidence != tt.evidence {
				t.Errorf("waited %s for %q, want %s for %q", v.Waited, v.Evidence, tt.waited, tt.evidence)
			}
			if got := v.At.Sub(start); got < tt.waited {
				t.Errorf("verified %s after the start, before the %s wait ended", got, tt.waited)
			}
			var since string
			for _, c := range of[agent.ToolCalled](h.events) {
				if c.Phase == agent.PhaseVerify && c.Tool == tools.QueryMetrics {
					since = string(c.Args)
				}
			}
			if got := strings.Contains(since, `"since"`); got != tt.since {
				t.Errorf("the verification's queryMetrics %s: reads from the rollout %v, want %v", since, got, tt.since)
			}
		})
	}
}

// lazyRelease is a ClickHouse that deletes a dropped partition's files
// `after` the drop (never, when negative): until then its disks show the
// space still used, as ClickHouse's outdated parts do.
type lazyRelease struct {
	platform.Storage
	clock   interface{ Now() time.Time }
	after   time.Duration
	broken  bool // the disks cannot be read once a partition was dropped
	dropped time.Time
	held    uint64 // bytes dropped whose files are still there
}

func (l *lazyRelease) DropPartition(ctx context.Context, db, table, id string) error {
	before, err := l.Storage.Disks(ctx)
	if err != nil {
		return err
	}
	if err := l.Storage.DropPartition(ctx, db, table, id); err != nil {
		return err
	}
	after, err := l.Storage.Disks(ctx)
	if err != nil {
		return err
	}
	l.held += tools.UsedBytes(before) - tools.UsedBytes(after)
	l.dropped = l.clock.Now()
	return nil
}

func (l *lazyRelease) Disks(ctx context.Context) ([]platform.Disk, error) {
	disks, err := l.Storage.Disks(ctx)
	if err != nil || l.dropped.IsZero() {
		return disks, err
	}
	if l.broken {
		return nil, errors.New("clickhouse: connection refused")
	}
	if l.after < 0 || l.clock.Now().Sub(l.dropped) < l.after {
		disks[0].FreeBytes -= l.held
	}
	return disks, nil
}

// TestAPartitionDropWaitsForItsSpace: the disk-space incident verifies once
// the disks show the space of the dropped partitions, however long
// ClickHouse takes to delete their files (up to 10 minutes, past the settle
// maximum); a disk that never gives it back, or cannot be read, is
// verified as it is.
func TestAPartitionDropWaitsForItsSpace(t *testing.T) {
	tests := []struct {
		name      string
		after     time.Duration
		broken    bool
		waited    time.Duration // at least; at most one poll more
		evidence  string
		resolved  bool
		untilWant time.Duration // the waiting event's bound
	}{
		{"released at once", 0, false, 0, "the space of the 5 dropped partitions (200 GB) released after 0s", true, 10 * time.Minute},
		{"released after 3m, past the settle maximum", 3 * time.Minute, false, 3 * time.Minute,
			"the space of the 5 dropped partitions (200 GB) released after 3m", true, 10 * time.Minute},
		{"never released", -1, false, 10 * time.Minute,
			"the space of the 5 dropped partitions (200 GB): only 0 B released after 10m", false, 10 * time.Minute},
		{"disks unreadable after the drop", 0, true, 2 * time.Minute,
			"the settle maximum of 2m (the disks could not be read after the drop: clickhouse: connection refused)", false, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, setup{scenario: "disk-space", ports: func(p *compose.Platform) {
				p.Storage = &lazyRelease{Storage: p.Storage, clock: p.Clock, after: tt.after, broken: tt.broken}
			}})
			start := h.p.Now()
			sum := h.run()
			v := sum.Verification
			if v == nil {
				t.Fatalf("no verification: %+v", sum)
			}
			if got := v.Waited.Duration(); got < tt.waited || got > tt.waited+2*time.Second || v.Evidence != tt.evidence {
				t.Errorf("waited %s for %q, want %s for %q", v.Waited, v.Evidence, tt.waited, tt.evidence)
			}
			if got := v.Result == "resolved"; got != tt.resolved {
				t.Errorf("verification %s (%s), want resolved %v", v.Result, v.Detail, tt.resolved)
			}
			w := of[agent.Waiting](h.events)
			if len(w) != 1 || w[0].Until.Sub(w[0].At) != tt.untilWant || w[0].Evidence != agent.WaitSpaceReleased {
				t.Errorf("waiting events %+v, want one for the space, bounded by %s", w, tt.untilWant)
			}
			if v.At.Sub(start) < tt.waited {
				t.Errorf("verified %s after the start, before the wait ended", v.At.Sub(start))
			}
		})
	}
}
