package tools_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

const (
	gb  = 1_000_000_000
	day = 24 * time.Hour
)

func TestCheckStorageOnTheFullDisk(t *testing.T) {
	e := newEnv(t, "disk-space")
	o := e.call(autoRun(), "checkStorage", `{}`)
	mustStatus(t, o, tools.StatusOK)
	rep := result[tools.StorageReport](t, o)
	if len(rep.Disks) != 1 || rep.Disks[0].UsagePct != 85 || rep.Disks[0].Used != "850 GB" || rep.Disks[0].Total != "1 TB" {
		t.Errorf("disks %+v", rep.Disks)
	}
	if rep.GrowthPerDay != "10 GB" || math.Abs(rep.DaysToFull-15) > 0.5 {
		t.Errorf("growth %s/day, %v days to full; want 10 GB and about 15", rep.GrowthPerDay, rep.DaysToFull)
	}
	var ids []string
	for _, p := range rep.Eligible {
		ids = append(ids, p.ID)
	}
	if want := []string{"202603", "202604", "202605", "202606", "202607"}; !slices.Equal(ids, want) || rep.EligibleSize != "200 GB" {
		t.Errorf("older than 90d: %v (%s), want %v (200 GB)", ids, rep.EligibleSize, want)
	}
	if rep.Partitions != 8 || rep.Retention != "90 days" || rep.Oldest != "248d" {
		t.Errorf("partitions %d retention %s oldest %s", rep.Partitions, rep.Retention, rep.Oldest)
	}
	if o.Summary != "/var/lib/clickhouse 850 GB / 1 TB (85%); 8 partitions, growth 10 GB/day, full in 15 days" {
		t.Errorf("summary %q", o.Summary)
	}
}

func TestCheckStorageFilters(t *testing.T) {
	cases := []struct {
		args       string
		partitions int
		target     string
	}{
		{`{"database":"analytics"}`, 8, "analytics.*"},
		{`{"database":"analytics","table":"events"}`, 8, "analytics.events"},
		{`{"database":"analytics","table":"sessions"}`, 0, "analytics.sessions"},
		{`{"database":"system"}`, 0, "system.*"},
	}
	for _, c := range cases {
		e := newEnv(t, "disk-space")
		o := e.call(autoRun(), "checkStorage", c.args)
		mustStatus(t, o, tools.StatusOK)
		if rep := result[tools.StorageReport](t, o); rep.Partitions != c.partitions || o.Target != c.target {
			t.Errorf("%s: %d partitions, target %q", c.args, rep.Partitions, o.Target)
		}
	}
}

func TestCheckStorageWithoutClickHouse(t *testing.T) {
	e := newEnv(t, "disk-space", func(d *tools.Deps) { d.Storage = nil })
	o := e.call(autoRun(), "checkStorage", `{}`)
	mustStatus(t, o, tools.StatusFailed)
	if !strings.Contains(o.Error, "clickhouse is not configured: set CLICKHOUSE_URL or use --simulate") {
		t.Errorf("error %q", o.Error)
	}
}

// part is a partition whose rows span ages from..to days before now.
func part(now time.Time, toDays, fromDays float64, bytes uint64) platform.Partition {
	return platform.Partition{Database: "analytics", Table: "events", PartitionID: "p", Bytes: bytes,
		MinTime: now.Add(-time.Duration(fromDays * float64(day))), MaxTime: now.Add(-time.Duration(toDays * float64(day)))}
}

func TestGrowthPerDay(t *testing.T) {
	now := t0
	cases := []struct {
		name  string
		parts []platform.Partition
		want  float64 // bytes per day
	}{
		{"none", nil, 0},
		{"monthly partitions: only the window counts", []platform.Partition{
			part(now, 0, 31, 310*gb), part(now, 31, 62, 190*gb), part(now, 62, 93, 120*gb)}, 10 * gb},
		{"daily partitions inside the window", []platform.Partition{
			part(now, 0, 1, 4*gb), part(now, 1, 2, 4*gb), part(now, 2, 3, 4*gb), part(now, 40, 41, 100*gb)}, 12 * gb / 30.0},
		{"all older than the window", []platform.Partition{part(now, 31, 62, 300*gb)}, 0},
		{"a young table is averaged over its age", []platform.Partition{part(now, 0, 10, 100*gb)}, 10 * gb},
		{"a table younger than a day counts as one day", []platform.Partition{part(now, 0, 0.25, 3*gb)}, 3 * gb},
		{"rows at one instant count whole", []platform.Partition{part(now, 40, 60, 1), {Bytes: 6 * gb, MinTime: now.Add(-2 * day), MaxTime: now.Add(-2 * day)}}, 6 * gb / 30.0},
		{"rows in the future are clipped to now", []platform.Partition{{Bytes: 20 * gb, MinTime: now.Add(-40 * day), MaxTime: now.Add(40 * day)}}, 20 * gb * 30 / 40 / 30}, // the span is clipped too
		{"a time range upside down is ignored", []platform.Partition{part(now, 40, 60, 1), {Bytes: 99 * gb, MinTime: now.Add(day), MaxTime: now.Add(2 * day)}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tools.GrowthPerDay(c.parts, now)
			if math.Abs(got-c.want) > 1e-6*math.Max(1, c.want) {
				t.Errorf("GrowthPerDay = %.0f, want %.0f", got, c.want)
			}
		})
	}
}

func TestDropPartitionsDropsExactlyThoseOlderThanTheRetention(t *testing.T) {
	e := newEnv(t, "disk-space")
	o := e.call(autoRun(), "dropPartitions", `{"database":"analytics","table":"events"}`)
	mustStatus(t, o, tools.StatusExecuted)
	res := result[tools.DropResult](t, o)
	var ids []string
	for _, p := range res.Dropped {
		ids = append(ids, p.ID)
	}
	if want := []string{"202603", "202604", "202605", "202606", "202607"}; !slices.Equal(ids, want) {
		t.Errorf("dropped %v, want %v", ids, want)
	}
	if res.Freed != "200 GB" || res.UsageAfter != 65 || res.DryRun || len(res.Refused) != 0 || len(res.NotTried) != 0 {
		t.Errorf("result %+v", res)
	}
	snap := e.p.Snapshot().Storage
	if snap.UsagePct != 65 || snap.Partitions != 3 || snap.UsedBytes != 650*gb {
		t.Errorf("storage after the drop %+v, want 65%% and 3 partitions", snap)
	}
	if o.Rule != guard.RulePartitionRetention || o.Params["partitions"] != 5 || o.Params["bytes"] != "200 GB" {
		t.Errorf("rule %q params %v", o.Rule, o.Params)
	}
	// Nothing is left to drop: the next run is refused by the guard.
	again := e.call(autoRun(), "dropPartitions", `{"database":"analytics","table":"events"}`)
	mustStatus(t, again, tools.StatusRefused)
	if again.Rule != "partition.none_eligible" {
		t.Errorf("second run: %s %s", again.Rule, again.Reason)
	}
}

func TestDropPartitionsGuardrails(t *testing.T) {
	cases := []struct {
		name, args string
		policy     func(*tools.Policy)
		status     tools.Status
		rule       string
		dropped    []string
		usage      float64
	}{
		{"named old partitions only", `{"database":"analytics","table":"events","partitions":["202603","202604"]}`, nil,
			tools.StatusExecuted, guard.RulePartitionRetention, []string{"202603", "202604"}, 80},
		{"the newest partition is refused", `{"database":"analytics","table":"events","partitions":["202610"]}`, nil,
			tools.StatusRefused, guard.RulePartitionNewest, nil, 85},
		{"every partition: only the old ones go", `{"database":"analytics","table":"events","partitions":["202603","202604","202605","202606","202607","202608","202609","202610"]}`, nil,
			tools.StatusExecuted, guard.RulePartitionRetention, []string{"202603", "202604", "202605", "202606", "202607"}, 65},
		{"inside the retention is refused", `{"database":"analytics","table":"events","partitions":["202609"]}`, nil,
			tools.StatusRefused, guard.RulePartitionRetention, nil, 85},
		{"unknown partition is refused", `{"database":"analytics","table":"events","partitions":["199901"]}`, nil,
			tools.StatusRefused, guard.RulePartitionUnknown, nil, 85},
		{"a stricter age drops fewer", `{"database":"analytics","table":"events","olderThanDays":150}`, nil,
			tools.StatusExecuted, guard.RulePartitionRetention, []string{"202603", "202604", "202605"}, 76},
		{"a looser age cannot go below the retention", `{"database":"analytics","table":"events","olderThanDays":1}`, nil,
			tools.StatusExecuted, guard.RulePartitionRetention, []string{"202603", "202604", "202605", "202606", "202607"}, 65},
		{"count budget", `{"database":"analytics","table":"events"}`, func(p *tools.Policy) { p.Partitions.MaxPerRun = 2 },
			tools.StatusExecuted, guard.RulePartitionRetention, []string{"202603", "202604"}, 80},
		{"byte budget", `{"database":"analytics","table":"events"}`, func(p *tools.Policy) { p.Partitions.MaxBytesPerRun = 100 * gb },
			tools.StatusExecuted, guard.RulePartitionRetention, []string{"202603", "202604", "202605"}, 76},
		{"minimum kept", `{"database":"analytics","table":"events"}`, func(p *tools.Policy) { p.Partitions.MinKeep = 6 },
			tools.StatusExecuted, guard.RulePartitionRetention, []string{"202603", "202604"}, 80},
		{"unknown table", `{"database":"analytics","table":"sessions"}`, nil, tools.StatusFailed, "", nil, 85},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []option
			if c.policy != nil {
				opts = append(opts, withPolicy(c.policy))
			}
			e := newEnv(t, "disk-space", opts...)
			o := e.call(autoRun(), "dropPartitions", c.args)
			mustStatus(t, o, c.status)
			if o.Rule != c.rule {
				t.Errorf("rule %q (%s), want %q", o.Rule, o.Reason, c.rule)
			}
			var ids []string
			if res, ok := o.Result.(tools.DropResult); ok {
				for _, p := range res.Dropped {
					ids = append(ids, p.ID)
				}
			}
			if !slices.Equal(ids, c.dropped) {
				t.Errorf("dropped %v, want %v", ids, c.dropped)
			}
			if got := e.p.Snapshot().Storage.UsagePct; got != c.usage {
				t.Errorf("usage %v%%, want %v%%", got, c.usage)
			}
		})
	}
}

func TestDropPartitionsServerLimitKeepsLargePartitions(t *testing.T) {
	// high-cpu's ClickHouse refuses to drop partitions over 50 GB; with a
	// 30-day retention its 130 and 115 GB partitions are old enough but too big.
	e := newEnv(t, "high-cpu", withPolicy(func(p *tools.Policy) { p.Partitions.Retention = 30 * day; p.Partitions.MinKeep = 1 }))
	o := e.call(autoRun(), "dropPartitions", `{"database":"analytics","table":"events"}`)
	mustStatus(t, o, tools.StatusRefused)
	if o.Rule != guard.RulePartitionServerLimit {
		t.Errorf("rule %q: %s", o.Rule, o.Reason)
	}
	if e.p.Snapshot().Storage.Partitions != 3 {
		t.Errorf("partitions dropped")
	}
}

func TestDropPartitionsWhileClickHouseIsDownFails(t *testing.T) {
	e := newEnv(t, "clickhouse-oom")
	o := e.call(autoRun(), "dropPartitions", `{"database":"analytics","table":"events"}`)
	mustStatus(t, o, tools.StatusFailed)
	if !strings.Contains(o.Error, "read partitions:") || !strings.Contains(o.Error, platform.ErrUnavailable.Error()) {
		t.Errorf("error %q", o.Error)
	}
}

func TestDropPartitionsDryRunShowsExactlyWhatWouldGo(t *testing.T) {
	e := newEnv(t, "disk-space")
	run := autoRun()
	before := e.p.Snapshot().Storage
	o := e.call(run, "dropPartitions", `{"database":"analytics","table":"events","dryRun":true}`)
	mustStatus(t, o, tools.StatusDryRun)
	res := result[tools.DropResult](t, o)
	if !res.DryRun || len(res.Dropped) != 5 || res.Freed != "200 GB" || res.UsageAfter != 0 {
		t.Errorf("dry run %+v", res)
	}
	if !strings.HasSuffix(o.Summary, "(dry run requested: nothing changed)") || o.Wrote() {
		t.Errorf("summary %q", o.Summary)
	}
	if after := e.p.Snapshot().Storage; after != before || run.Writes() != 0 {
		t.Errorf("dry run changed storage: %+v → %+v (%d writes)", before, after, run.Writes())
	}
	// The preview does not use up the write: the drop itself may follow in the same run.
	real := e.call(run, "dropPartitions", `{"database":"analytics","table":"events"}`)
	mustStatus(t, real, tools.StatusExecuted)
	if got := result[tools.DropResult](t, real); len(got.Dropped) != 5 || e.p.Snapshot().Storage.UsagePct != 65 {
		t.Errorf("drop after the preview: %+v", got)
	}
	if run.Writes() != 1 {
		t.Errorf("%d writes counted, want 1", run.Writes())
	}
	mustStatus(t, e.call(run, "dropPartitions", `{"database":"analytics","table":"events"}`), tools.StatusRefused)
}

func TestAnApprovalOfADropListsEachPartition(t *testing.T) {
	e := newEnv(t, "disk-space")
	a := &approver{interactive: true, answer: false}
	o := e.call(tools.NewRun(1, guard.ModeApprove, a, guard.DefaultMaxWrites), "dropPartitions", `{"database":"analytics","table":"events"}`)
	mustStatus(t, o, tools.StatusRefused)
	if len(a.asked) != 1 {
		t.Fatalf("asked %d times", len(a.asked))
	}
	if got, want := a.asked[0].Partitions, []string{"202603", "202604", "202605", "202606", "202607"}; !slices.Equal(got, want) {
		t.Errorf("the approval lists %v, want %v", got, want)
	}
}
