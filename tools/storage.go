package tools

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
)

const (
	growthWindow     = 30 * 24 * time.Hour
	maxPartitionList = 20
	day              = 24 * time.Hour
)

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

type checkStorageArgs struct {
	Database string `json:"database,omitempty"`
	Table    string `json:"table,omitempty"`
}

func (a checkStorageArgs) Validate() error { return checkIdents(a.Database, a.Table, false) }
func (a checkStorageArgs) target() string  { return tableTarget(a.Database, a.Table) }

func checkIdents(db, table string, required bool) error {
	var errs []error
	for _, f := range []struct{ name, v string }{{"database", db}, {"table", table}} {
		switch {
		case f.v == "" && required:
			errs = append(errs, fmt.Errorf("field %q is required", f.name))
		case f.v != "" && !identifier.MatchString(f.v):
			errs = append(errs, fmt.Errorf("field %q = %q is not a plain identifier (letters, digits, _)", f.name, text.Clip(f.v, 60)))
		}
	}
	return errors.Join(errs...)
}

func tableTarget(db, table string) string {
	if db == "" && table == "" {
		return "clickhouse"
	}
	return firstNonEmpty(db, "*") + "." + firstNonEmpty(table, "*")
}

// StorageReport is the disk picture of the database.
type StorageReport struct {
	Disks        []DiskUsage     `json:"disks"`
	Partitions   int             `json:"partitions"`
	Oldest       string          `json:"oldest,omitempty"`
	GrowthPerDay string          `json:"growthPerDay"`
	DaysToFull   float64         `json:"daysToFull,omitempty"`
	Retention    string          `json:"retention"`
	Eligible     []PartitionInfo `json:"olderThanRetention,omitempty"`
	EligibleSize string          `json:"olderThanRetentionBytes,omitempty"`
	// EligibleCount counts every partition past the retention; Eligible lists at most 20.
	EligibleCount int `json:"olderThanRetentionCount,omitempty"`

	growthBytesPerDay float64
}

// DiskUsage is one volume.
type DiskUsage struct {
	Path     string  `json:"path"`
	Used     string  `json:"used"`
	Total    string  `json:"total"`
	UsagePct float64 `json:"usagePct"`
}

// PartitionInfo is one partition as shown to a planner.
type PartitionInfo struct {
	Table  string `json:"table"`
	ID     string `json:"id"`
	Bytes  string `json:"bytes"`
	Newest string `json:"newestRow"` // age of the newest row, e.g. "108d"
}

// storage reads and drops partitions with the backends it uses.
type storage struct {
	db     platform.Storage
	clock  clock.PassiveClock
	policy guard.PartitionPolicy
}

// NewCheckStorage builds checkStorage: it reads disks and partitions through
// s and judges them against the retention of pol. Without s its calls fail
// (not configured).
func NewCheckStorage(s platform.Storage, clk clock.PassiveClock, pol guard.PartitionPolicy) Tool {
	t := reader[checkStorageArgs]{about: about{CheckStorage, RiskRead, "ClickHouse disk, growth, old partitions."},
		read: unavailable[checkStorageArgs](errNoClickHouse)}
	if s != nil {
		t.read = storage{s, realIfNil(clk), pol}.check
	}
	return t
}

func (s storage) check(ctx context.Context, _ *Run, a checkStorageArgs) (Answer, error) {
	rep, err := s.report(ctx, platform.PartitionFilter{Database: a.Database, Table: a.Table})
	if err != nil {
		return Answer{}, err
	}
	return Answer{rep, describeStorage(rep)}, nil
}

func (s storage) report(ctx context.Context, f platform.PartitionFilter) (StorageReport, error) {
	disks, err := s.db.Disks(ctx)
	if err != nil {
		return StorageReport{}, fmt.Errorf("read disks: %w", err)
	}
	parts, err := s.db.Partitions(ctx, f)
	if err != nil {
		return StorageReport{}, fmt.Errorf("read partitions: %w", err)
	}
	now, ret := s.clock.Now(), s.policy.Retention
	rep := StorageReport{Partitions: len(parts), Retention: retentionText(ret)}
	var free uint64
	for _, d := range disks {
		used := d.TotalBytes - d.FreeBytes
		rep.Disks = append(rep.Disks, DiskUsage{Path: d.Path, Used: units.Bytes(used), Total: units.Bytes(d.TotalBytes), UsagePct: pct(used, d.TotalBytes)})
		free += d.FreeBytes
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].MaxTime.Before(parts[j].MaxTime) })
	if len(parts) > 0 {
		rep.Oldest = units.Duration(now.Sub(parts[0].MinTime))
	}
	rep.growthBytesPerDay = GrowthPerDay(parts, now)
	rep.GrowthPerDay = units.Bytes(uint64(rep.growthBytesPerDay))
	if rep.growthBytesPerDay > 0 {
		rep.DaysToFull = round2(float64(free) / rep.growthBytesPerDay)
	}
	var eligible uint64
	for _, p := range parts {
		if now.Sub(p.MaxTime) <= ret {
			continue
		}
		rep.EligibleCount++
		eligible += p.Bytes
		if len(rep.Eligible) < maxPartitionList {
			rep.Eligible = append(rep.Eligible, partitionInfo(p, now))
		}
	}
	if eligible > 0 {
		rep.EligibleSize = units.Bytes(eligible)
	}
	return rep, nil
}

// retentionText writes a retention as the spec does: "90 days".
func retentionText(d time.Duration) string {
	if d > 0 && d%day == 0 {
		n := int(d / day)
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return units.Duration(d)
}

func partitionInfo(p platform.Partition, now time.Time) PartitionInfo {
	return PartitionInfo{Table: p.Database + "." + p.Table, ID: p.PartitionID, Bytes: units.Bytes(p.Bytes), Newest: units.Duration(now.Sub(p.MaxTime).Truncate(day))}
}

func pct(used, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return round2(100 * float64(used) / float64(total))
}

// GrowthPerDay estimates bytes written per day over the last 30 days, counting
// each partition in proportion to how much of its time span falls in the
// window (a partition whose rows share one instant counts whole when it is in
// the window). A table younger than the window is averaged over its own age,
// at least one day, so a new table's growth is not diluted over 30 days.
func GrowthPerDay(parts []platform.Partition, now time.Time) float64 {
	from := now.Add(-growthWindow)
	earliest, total := now, 0.0
	for _, p := range parts {
		start, end := p.MinTime, p.MaxTime
		if end.After(now) {
			end = now
		}
		if start.After(end) {
			continue
		}
		if start.Before(earliest) {
			earliest = start
		}
		if end.Before(from) {
			continue
		}
		span := end.Sub(start)
		if span == 0 {
			total += float64(p.Bytes)
			continue
		}
		total += float64(p.Bytes) * float64(end.Sub(maxTime(start, from))) / float64(span)
	}
	window := min(max(now.Sub(earliest), day), growthWindow)
	return total / (float64(window) / float64(day))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func describeStorage(rep StorageReport) string {
	s := fmt.Sprintf("%d partitions, growth %s/day", rep.Partitions, rep.GrowthPerDay)
	for _, d := range rep.Disks {
		s = fmt.Sprintf("%s %s / %s (%.0f%%); ", d.Path, d.Used, d.Total, d.UsagePct) + s
	}
	if rep.DaysToFull > 0 {
		s += fmt.Sprintf(", full in %.0f days", rep.DaysToFull)
	}
	return s
}

type dropPartitionsArgs struct {
	Database      string   `json:"database"`
	Table         string   `json:"table"`
	Partitions    []string `json:"partitions,omitempty" desc:"IDs"`
	OlderThanDays int      `json:"olderThanDays,omitempty"`
	DryRun        bool     `json:"dryRun,omitempty"`
}

func (a dropPartitionsArgs) target() string { return tableTarget(a.Database, a.Table) }

func (a dropPartitionsArgs) Validate() error {
	errs := []error{checkIdents(a.Database, a.Table, true)}
	if len(a.Partitions) > 1000 {
		errs = append(errs, fmt.Errorf(`field "partitions" lists %d IDs, at most 1000 allowed`, len(a.Partitions)))
	}
	for _, id := range a.Partitions {
		if id == "" || len(id) > 128 {
			errs = append(errs, fmt.Errorf(`field "partitions" has an empty or over-long ID`))
			break
		}
	}
	if a.OlderThanDays < 0 || a.OlderThanDays > 36500 {
		errs = append(errs, fmt.Errorf(`field "olderThanDays" = %d must be between 1 and 36500`, a.OlderThanDays))
	}
	return errors.Join(errs...)
}

// DropResult says exactly what was and was not dropped.
type DropResult struct {
	Table      string             `json:"table"`
	Dropped    []PartitionInfo    `json:"dropped"`
	Refused    []PartitionRefusal `json:"refused,omitempty"`
	NotTried   []string           `json:"notTried,omitempty"`
	Freed      string             `json:"freed"`
	UsageAfter float64            `json:"usagePctAfter,omitempty"`
	DryRun     bool               `json:"dryRun,omitempty"`
	freedBytes uint64
	// usedBefore is the disks' used bytes read just before the first drop;
	// known says it could be read.
	usedBefore uint64
	known      bool
}

// FreedBytes is the on-disk size of the partitions dropped.
func (r DropResult) FreedBytes() uint64 { return r.freedBytes }

// UsedBefore is the disks' used bytes just before the first drop; ok is
// false when they could not be read (or nothing was dropped for real). A
// verification waits for the used bytes to fall by what was freed.
func (r DropResult) UsedBefore() (used uint64, ok bool) { return r.usedBefore, r.known }

// PartitionRefusal is a partition the guard or the server would not drop.
type PartitionRefusal struct {
	ID     string `json:"id"`
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// NewDropPartitions builds dropPartitions: it reads the partitions and the
// server's drop limit through s, judges them against pol and drops through s.
// Without s its calls fail (not configured).
func NewDropPartitions(s platform.Storage, clk clock.PassiveClock, pol guard.PartitionPolicy) Tool {
	t := writer[dropPartitionsArgs]{about: about{DropPartitions, RiskDestructive, "Drop ClickHouse partitions past retention."},
		plan: unplannable[dropPartitionsArgs](errNoClickHouse)}
	if s != nil {
		t.plan = storage{s, realIfNil(clk), pol}.planDrop
	}
	return t
}

func (s storage) planDrop(ctx context.Context, _ *Run, a dropPartitionsArgs) (Plan, error) {
	parts, err := s.db.Partitions(ctx, platform.PartitionFilter{Database: a.Database, Table: a.Table})
	if err != nil {
		return Plan{}, fmt.Errorf("read partitions: %w", err)
	}
	if len(parts) == 0 {
		return Plan{}, fmt.Errorf("table %s.%s: %w (no partitions)", a.Database, a.Table, platform.ErrNotFound)
	}
	limit, err := s.db.MaxPartitionSizeToDrop(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("read max_partition_size_to_drop: %w", err)
	}
	pol := s.policy
	if req := time.Duration(a.OlderThanDays) * day; req > pol.Retention {
		pol.Retention = req
	}
	now := s.clock.Now()
	dd := pol.Decide(guard.DropInput{Partitions: parts, Requested: a.Partitions, ServerLimit: limit, Now: now})
	return s.dropPlan(a, dd, pol, now), nil
}

func (s storage) dropPlan(a dropPartitionsArgs, dd guard.DropDecision, pol guard.PartitionPolicy, now time.Time) Plan {
	table := a.Database + "." + a.Table
	p := Plan{Target: table, Params: map[string]any{"partitions": len(dd.Allowed), "bytes": units.Bytes(dd.FreedBytes), "retention": retentionText(pol.Retention)}}
	p.Summary = fmt.Sprintf("drop %d partitions of %s older than %s (%s)", len(dd.Allowed), table, retentionText(pol.Retention), units.Bytes(dd.FreedBytes))
	for _, part := range dd.Allowed {
		p.Partitions = append(p.Partitions, part.PartitionID)
	}
	p.Decision = guard.Decision{Verdict: guard.Allow, Rule: guard.RulePartitionRetention, Reason: p.Summary}
	if len(dd.Allowed) == 0 {
		p.Decision = guard.Decision{Verdict: guard.Refuse, Rule: guard.RulePartitionNoneEligible, Reason: "no partition of " + table + " may be dropped"}
		if len(dd.Refused) > 0 {
			p.Decision.Rule, p.Decision.Reason = dd.Refused[0].Rule, dd.Refused[0].Reason
		}
	}
	refused := make([]PartitionRefusal, 0, len(dd.Refused))
	for _, x := range dd.Refused {
		refused = append(refused, PartitionRefusal{ID: x.PartitionID, Rule: x.Rule, Reason: x.Reason})
	}
	p.Apply = func(ctx context.Context, dryRun bool) (any, error) {
		return s.drop(ctx, a, dd, DropResult{Table: table, Refused: refused, DryRun: dryRun}, now)
	}
	p.DryRunOnly = a.DryRun
	return p
}

// drop drops the partitions the guard allowed, one by one, and says exactly
// what was and was not dropped.
func (s storage) drop(ctx context.Context, a dropPartitionsArgs, dd guard.DropDecision, res DropResult, now time.Time) (DropResult, error) {
	if !res.DryRun && len(dd.Allowed) > 0 {
		res.usedBefore, res.known = s.diskUsed(ctx)
	}
	for i, part := range dd.Allowed {
		if res.DryRun {
			res.Dropped = append(res.Dropped, partitionInfo(part, now))
			res.freedBytes += part.Bytes
			continue
		}
		err := s.db.DropPartition(ctx, a.Database, a.Table, part.PartitionID)
		switch {
		case errors.Is(err, platform.ErrSizeLimit):
			res.Refused = append(res.Refused, PartitionRefusal{ID: part.PartitionID, Rule: guard.RulePartitionServerLimit, Reason: err.Error()})
		case err != nil:
			for _, rest := range dd.Allowed[i:] {
				res.NotTried = append(res.NotTried, rest.PartitionID)
			}
			res.Freed = units.Bytes(res.freedBytes)
			return res, fmt.Errorf("drop partition %s of %s: %w (dropped %d before the failure)", part.PartitionID, res.Table, err, len(res.Dropped))
		default:
			res.Dropped = append(res.Dropped, partitionInfo(part, now))
			res.freedBytes += part.Bytes
		}
	}
	res.Freed = units.Bytes(res.freedBytes)
	if !res.DryRun {
		res.UsageAfter = s.diskUsagePct(ctx)
	}
	return res, nil
}

// diskUsed is the used bytes of every disk; ok is false when unreadable.
func (s storage) diskUsed(ctx context.Context) (uint64, bool) {
	disks, err := s.db.Disks(ctx)
	if err != nil || len(disks) == 0 {
		return 0, false
	}
	return UsedBytes(disks), true
}

// UsedBytes sums the used bytes of disks.
func UsedBytes(disks []platform.Disk) uint64 {
	var used uint64
	for _, d := range disks {
		used += d.TotalBytes - min(d.FreeBytes, d.TotalBytes)
	}
	return used
}

func (s storage) diskUsagePct(ctx context.Context) float64 {
	disks, err := s.db.Disks(ctx)
	if err != nil || len(disks) == 0 {
		return 0
	}
	var used, total uint64
	for _, d := range disks {
		used, total = used+d.TotalBytes-d.FreeBytes, total+d.TotalBytes
	}
	return pct(used, total)
}
