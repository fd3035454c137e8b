package sim

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

const day = 24 * time.Hour

// part is one partition; the active one grows and its newest row is always now.
type part struct {
	db, table, id string
	bytes         float64 // at the virtual start
	rows          float64
	growth        float64 // bytes per second, active partition only
	minT, maxT    time.Time
	active        bool
	dropped       time.Time // zero while present
}

func (pt *part) presentAt(t time.Time) bool { return pt.dropped.IsZero() || t.Before(pt.dropped) }

func (pt *part) bytesAt(t time.Time, start time.Time) float64 {
	return math.Max(0, pt.bytes+pt.growth*t.Sub(start).Seconds())
}

// storage is the ClickHouse model of the scenario's storage service.
type storage struct {
	spec    Storage
	service *service
	start   time.Time
	other   float64
	parts   []*part
	volume  *volume // the claim whose capacity is the disk's total; nil: disk.total
}

// totalAt is the disk's size at t: its claim's capacity.
func (st *storage) totalAt(t time.Time) float64 {
	if st.volume != nil {
		return float64(st.volume.capacityAt(t))
	}
	return float64(st.spec.Disk.Total)
}

func newStorage(spec Storage, svc *service, start time.Time) *storage {
	st := &storage{spec: spec, service: svc, start: start, other: float64(spec.Disk.Used)}
	for _, t := range spec.Tables {
		format := map[string]string{"month": "200601", "day": "20060102"}[t.PartitionBy]
		for _, ps := range t.Partitions {
			pt := &part{
				db: t.Database, table: t.Table,
				bytes: float64(ps.Bytes), rows: float64(ps.Rows),
				minT:   start.Add(-days(ps.MaxAgeDays)),
				maxT:   start.Add(-days(ps.MinAgeDays)),
				active: ps.MinAgeDays == 0,
			}
			pt.id = pt.minT.UTC().Format(format)
			if pt.active {
				pt.growth = float64(t.GrowthPerDay) / day.Seconds()
			}
			st.other -= pt.bytes
			st.parts = append(st.parts, pt)
		}
	}
	sort.Slice(st.parts, func(i, j int) bool {
		a, b := st.parts[i], st.parts[j]
		if a.db+"."+a.table != b.db+"."+b.table {
			return a.db+"."+a.table < b.db+"."+b.table
		}
		return a.minT.Before(b.minT)
	})
	st.other = math.Max(0, st.other)
	return st
}

func days(d float64) time.Duration { return time.Duration(d * float64(day)) }

func (st *storage) usedAt(t time.Time) float64 {
	used := st.other
	for _, pt := range st.parts {
		if pt.presentAt(t) {
			used += pt.bytesAt(t, st.start)
		}
	}
	return math.Min(used, st.totalAt(t))
}

func (st *storage) usagePct(t time.Time) float64 {
	return 100 * st.usedAt(t) / st.totalAt(t)
}

func (st *storage) partitionsAt(t time.Time) []platform.Partition {
	var out []platform.Partition
	for _, pt := range st.parts {
		if !pt.presentAt(t) || pt.minT.After(t) {
			continue
		}
		b := pt.bytesAt(t, st.start)
		rows := pt.rows
		if pt.bytes > 0 {
			rows = pt.rows * b / pt.bytes
		}
		maxT := pt.maxT
		if pt.active {
			maxT = t
		}
		out = append(out, platform.Partition{Database: pt.db, Table: pt.table, Partition: pt.id, PartitionID: pt.id,
			Rows: uint64(math.Round(rows)), Bytes: uint64(math.Round(b)), MinTime: pt.minT, MaxTime: maxT})
	}
	return out
}

type storagePort struct{ p *Platform }

// check returns the storage if its server answers now; callers hold the lock.
func (sp storagePort) check(ctx context.Context) (*storage, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, err
	}
	st, now := sp.p.storage, sp.p.clock.Now()
	if st == nil {
		return nil, now, errorf(platform.ErrUnavailable, "clickhouse: no server in this scenario")
	}
	if !st.service.serving(now) {
		return nil, now, errorf(platform.ErrUnavailable, "clickhouse %s: dial tcp :9000: connection refused", st.service.ref)
	}
	return st, now, nil
}

// Disks returns the data volume.
func (sp storagePort) Disks(ctx context.Context) ([]platform.Disk, error) {
	sp.p.mu.RLock()
	defer sp.p.mu.RUnlock()
	st, now, err := sp.check(ctx)
	if err != nil {
		return nil, err
	}
	total := uint64(st.totalAt(now))
	used := uint64(math.Round(st.usedAt(now)))
	return []platform.Disk{{Name: st.spec.Disk.Name, Path: st.spec.Disk.Path, TotalBytes: total,
		FreeBytes: total - used}}, nil
}

// Partitions lists the partitions present now, by table then age (oldest first).
func (sp storagePort) Partitions(ctx context.Context, f platform.PartitionFilter) ([]platform.Partition, error) {
	sp.p.mu.RLock()
	defer sp.p.mu.RUnlock()
	st, now, err := sp.check(ctx)
	if err != nil {
		return nil, err
	}
	var out []platform.Partition
	for _, pt := range st.partitionsAt(now) {
		if (f.Database == "" || f.Database == pt.Database) && (f.Table == "" || f.Table == pt.Table) {
			out = append(out, pt)
		}
	}
	return out, nil
}

// MaxPartitionSizeToDrop returns the server's limit (0: none).
func (sp storagePort) MaxPartitionSizeToDrop(ctx context.Context) (uint64, error) {
	sp.p.mu.RLock()
	defer sp.p.mu.RUnlock()
	st, _, err := sp.check(ctx)
	if err != nil {
		return 0, err
	}
	return uint64(st.spec.MaxPartitionSizeToDrop), nil
}

// DropPartition removes a partition at once, freeing its bytes.
func (sp storagePort) DropPartition(ctx context.Context, database, table, partitionID string) error {
	sp.p.mu.Lock()
	defer sp.p.mu.Unlock()
	st, now, err := sp.check(ctx)
	if err != nil {
		return err
	}
	tableFound := false
	for _, pt := range st.parts {
		if pt.db != database || pt.table != table {
			continue
		}
		tableFound = true
		if pt.id != partitionID || !pt.presentAt(now) || pt.minT.After(now) {
			continue
		}
		size := pt.bytesAt(now, st.start)
		if limit := float64(st.spec.MaxPartitionSizeToDrop); limit > 0 && size > limit {
			return errorf(platform.ErrSizeLimit, "drop partition %s of %s.%s: %.0f bytes, limit %.0f", partitionID, database, table, size, limit)
		}
		pt.dropped = now
		return nil
	}
	if !tableFound {
		return errorf(platform.ErrNotFound, "table %s.%s", database, table)
	}
	return errorf(platform.ErrNotFound, "partition %q of %s.%s", partitionID, database, table)
}
