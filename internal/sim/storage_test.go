package sim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

const retention = 90 * 24 * time.Hour

func TestDiskSpaceFiguresMatchTheSpecAtAnyStart(t *testing.T) {
	starts := []time.Time{t0, time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	for _, start := range starts {
		sc, err := sim.LoadScenario(scenarios, "disk-space")
		if err != nil {
			t.Fatal(err)
		}
		p := sim.New(sc, start)
		ctx := context.Background()
		disks, err := p.Storage().Disks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(disks) != 1 || disks[0].TotalBytes != 1e12 || disks[0].FreeBytes != 150e9 || disks[0].Path != "/var/lib/clickhouse" {
			t.Fatalf("start %s: disks %+v, want 850GB used of 1TB", start, disks)
		}
		parts, err := p.Storage().Partitions(ctx, platform.PartitionFilter{Database: "analytics", Table: "events"})
		if err != nil {
			t.Fatal(err)
		}
		old := olderThan(parts, p.Now().Add(-retention))
		var oldBytes uint64
		ids := map[string]bool{}
		for _, pt := range parts {
			ids[pt.PartitionID] = true
		}
		for _, pt := range old {
			oldBytes += pt.Bytes
		}
		if len(parts) != 8 || len(ids) != 8 || len(old) != 5 || oldBytes != 200e9 {
			t.Fatalf("start %s: %d partitions (%d ids), %d older than 90 days with %d bytes; want 8, 5, 200GB",
				start, len(parts), len(ids), len(old), oldBytes)
		}
		for _, pt := range old {
			if err := p.Storage().DropPartition(ctx, pt.Database, pt.Table, pt.PartitionID); err != nil {
				t.Fatal(err)
			}
		}
		st := p.Snapshot().Storage
		if st.UsedBytes != 650e9 || st.UsagePct != 65 || st.Partitions != 3 {
			t.Errorf("start %s: after dropping: %+v, want 650GB, 65%%, 3 partitions", start, st)
		}
	}
}

func olderThan(parts []platform.Partition, cutoff time.Time) []platform.Partition {
	var out []platform.Partition
	for _, pt := range parts {
		if pt.MaxTime.Before(cutoff) {
			out = append(out, pt)
		}
	}
	return out
}

func TestDiskGrowsTenGBPerDay(t *testing.T) {
	p := load(t, "disk-space")
	p.Advance(24 * time.Hour)
	if st := p.Snapshot().Storage; st.UsedBytes != 860e9 {
		t.Errorf("used after a day %d, want 860e9", st.UsedBytes)
	}
	parts, err := p.Storage().Partitions(context.Background(), platform.PartitionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	active := parts[len(parts)-1]
	if active.Bytes != 320e9 || !active.MaxTime.Equal(p.Now()) {
		t.Errorf("active partition %+v, want 320GB with newest row now", active)
	}
}

func TestDiskUsageMetricKeepsHistoryAfterDrop(t *testing.T) {
	p := load(t, "disk-space")
	ctx := context.Background()
	parts, err := p.Storage().Partitions(ctx, platform.PartitionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	oldest := parts[0]
	if err := p.Storage().DropPartition(ctx, oldest.Database, oldest.Table, oldest.PartitionID); err != nil {
		t.Fatal(err)
	}
	p.Advance(time.Minute)
	res, err := p.Metrics().Query(ctx, platform.MetricQuery{Metric: platform.MetricDiskUsage, Target: ref("clickhouse"),
		Start: t0.Add(-time.Minute), End: p.Now(), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Series[0].Samples
	if len(got) != 3 || got[0].V != 85 || got[1].V != 83 || got[2].V != 83 {
		t.Errorf("disk usage samples %+v, want 85 before the drop, then 83 (20GB dropped at the start)", got)
	}
}

func TestDropPartitionErrors(t *testing.T) {
	p := load(t, "disk-space")
	ctx := context.Background()
	parts, err := p.Storage().Partitions(ctx, platform.PartitionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	newest := parts[len(parts)-1] // 310 GB, above the 100 GB limit
	cases := []struct {
		name, db, table, id string
		want                error
	}{
		{"larger than max_partition_size_to_drop", "analytics", "events", newest.PartitionID, platform.ErrSizeLimit},
		{"unknown partition", "analytics", "events", "199901", platform.ErrNotFound},
		{"unknown table", "analytics", "nope", parts[0].PartitionID, platform.ErrNotFound},
	}
	for _, c := range cases {
		if err := p.Storage().DropPartition(ctx, c.db, c.table, c.id); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := p.Storage().DropPartition(ctx, "analytics", "events", parts[0].PartitionID); err != nil {
		t.Fatal(err)
	}
	if err := p.Storage().DropPartition(ctx, "analytics", "events", parts[0].PartitionID); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("dropping twice: %v, want ErrNotFound", err)
	}
	if max, err := p.Storage().MaxPartitionSizeToDrop(ctx); err != nil || max != 100e9 {
		t.Errorf("max partition size %d, %v; want 100e9", max, err)
	}
}
