package guard

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// PartitionPolicy bounds partition drops: only partitions whose newest row is
// older than Retention, never the newest partition, never fewer than MinKeep
// left, at most MaxPerRun partitions and MaxBytesPerRun bytes per run.
type PartitionPolicy struct {
	// Workload is the workload whose volume is ClickHouse's: the only one
	// whose disk alerts drop partitions.
	Workload       string        `json:"workload"`
	Retention      time.Duration `json:"retention"`
	MinKeep        int           `json:"minKeep"`
	MaxPerRun      int           `json:"maxPerRun"`
	MaxBytesPerRun uint64        `json:"maxBytesPerRun"`
}

// DefaultPartitionPolicy returns a 90-day retention, keeping at least 3
// partitions, dropping at most 30 partitions and 512 GiB per run.
func DefaultPartitionPolicy() PartitionPolicy {
	return PartitionPolicy{Workload: "clickhouse", Retention: 90 * 24 * time.Hour, MinKeep: 3, MaxPerRun: 30, MaxBytesPerRun: 512 << 30}
}

// Validate reports every invalid value as a *PolicyError joined into one
// error, or nil.
func (p PartitionPolicy) Validate() error {
	var ps problems
	ps.check(p.Retention > 0, "partitions.retention", "must be positive, got %s", p.Retention)
	ps.check(p.MinKeep >= 1, "partitions.min_keep", "must be at least 1, got %d", p.MinKeep)
	ps.check(p.MaxPerRun >= 1, "partitions.max_per_run", "must be at least 1, got %d", p.MaxPerRun)
	ps.check(p.MaxBytesPerRun >= 1, "partitions.max_bytes_per_run", "must be positive, got %d", p.MaxBytesPerRun)
	return ps.err()
}

// DropInput is one proposed partition drop.
type DropInput struct {
	// Partitions lists every partition of one table.
	Partitions []platform.Partition
	// Requested names partition IDs to drop; empty means every partition old
	// enough.
	Requested []string
	// ServerLimit is the server's max_partition_size_to_drop; 0 means none.
	ServerLimit uint64
	Now         time.Time
}

// PartitionRefusal says why one partition is kept.
type PartitionRefusal struct {
	PartitionID string `json:"partitionId"`
	Rule        string `json:"rule"`
	Reason      string `json:"reason"`
}

// DropDecision lists what may be dropped (oldest first) and what is kept.
type DropDecision struct {
	Allowed    []platform.Partition `json:"allowed"`
	Refused    []PartitionRefusal   `json:"refused,omitempty"`
	FreedBytes uint64               `json:"freedBytes"`
}

// Summary folds the drop decision into one Decision: allow when every
// candidate may go, clamp when only some may, refuse when none may (the rule
// of the first refusal).
func (d DropDecision) Summary() Decision {
	ids := make([]string, 0, len(d.Allowed))
	for _, p := range d.Allowed {
		ids = append(ids, p.PartitionID)
	}
	out := Decision{Verdict: Allow, Rule: RulePartitionAllowed,
		From: int64(len(d.Allowed) + len(d.Refused)), To: int64(len(d.Allowed)), Requested: int64(len(d.Allowed) + len(d.Refused)),
		Inputs: map[string]string{"allowed": strings.Join(ids, ","), "freed_bytes": strconv.FormatUint(d.FreedBytes, 10)}}
	out.Reason = fmt.Sprintf("drop %d partition(s), freeing %s", len(d.Allowed), fmtBytes(d.FreedBytes))
	if len(d.Refused) == 0 {
		return out
	}
	first := d.Refused[0]
	out.Verdict, out.Rule = Clamp, first.Rule
	if len(d.Allowed) == 0 {
		out.Verdict = Refuse
		out.Reason = "no partition may be dropped"
	}
	out.Reason += fmt.Sprintf("; %d kept, first: %s: %s", len(d.Refused), first.PartitionID, first.Reason)
	return out
}

// Decide judges a partition drop. Candidates are taken oldest first (by newest
// row, then partition ID); each is refused when it is the newest partition,
// has no known time range, is not older than the retention, is larger than
// the server limit, would leave fewer than MinKeep partitions, or exceeds the
// count or byte budget of the run (later, smaller candidates may still fit the
// byte budget). Requested IDs that do not exist are refused as unknown; with
// no request, partitions inside the retention are not listed at all.
func (p PartitionPolicy) Decide(in DropInput) DropDecision {
	var out DropDecision
	cands := p.candidates(in, &out)
	if reason := p.blockAll(in); reason != "" {
		rule := RulePolicyInvalid
		if p.Validate() == nil {
			rule = RulePartitionMixedTables
		}
		for _, c := range cands {
			out.Refused = append(out.Refused, PartitionRefusal{c.PartitionID, rule, reason})
		}
		return out
	}
	newest := newestTime(in.Partitions)
	for _, c := range cands {
		rule, reason := p.check(in, c, newest, &out)
		if rule != "" {
			out.Refused = append(out.Refused, PartitionRefusal{c.PartitionID, rule, reason})
			continue
		}
		out.Allowed = append(out.Allowed, c)
		out.FreedBytes += c.Bytes
	}
	return out
}

// blockAll explains why no partition may be dropped at all, or returns "".
func (p PartitionPolicy) blockAll(in DropInput) string {
	if err := p.Validate(); err != nil {
		return invalidPolicy(err).Reason
	}
	for _, q := range in.Partitions {
		if q.Database != in.Partitions[0].Database || q.Table != in.Partitions[0].Table {
			return fmt.Sprintf("the partitions span tables %s.%s and %s.%s; decide one table at a time",
				in.Partitions[0].Database, in.Partitions[0].Table, q.Database, q.Table)
		}
	}
	return ""
}

// candidates returns the partitions to judge, oldest first, and refuses
// unknown requested IDs.
func (p PartitionPolicy) candidates(in DropInput, out *DropDecision) []platform.Partition {
	byID := make(map[string]platform.Partition, len(in.Partitions))
	for _, q := range in.Partitions {
		if _, dup := byID[q.PartitionID]; !dup {
			byID[q.PartitionID] = q
		}
	}
	var cands []platform.Partition
	if len(in.Requested) == 0 {
		cutoff := in.Now.Add(-p.Retention)
		for _, q := range byID {
			if q.MaxTime.Before(cutoff) {
				cands = append(cands, q)
			}
		}
	}
	seen := map[string]bool{}
	for _, id := range in.Requested {
		q, ok := byID[id]
		switch {
		case seen[id]:
			continue
		case !ok:
			out.Refused = append(out.Refused, PartitionRefusal{id, RulePartitionUnknown, fmt.Sprintf("partition %q does not exist in the table", id)})
		default:
			cands = append(cands, q)
		}
		seen[id] = true
	}
	slices.SortFunc(cands, func(a, b platform.Partition) int {
		if c := a.MaxTime.Compare(b.MaxTime); c != 0 {
			return c
		}
		return strings.Compare(a.PartitionID, b.PartitionID)
	})
	return cands
}

// check returns the rule and reason refusing one candidate, or "".
func (p PartitionPolicy) check(in DropInput, c platform.Partition, newest time.Time, out *DropDecision) (string, string) {
	table, age := c.Database+"."+c.Table, in.Now.Sub(c.MaxTime)
	switch {
	case c.MaxTime.Equal(newest):
		return RulePartitionNewest, fmt.Sprintf("%s is the newest partition of %s and is never dropped", c.PartitionID, table)
	case c.MaxTime.Unix() <= 0:
		return RulePartitionRetention, fmt.Sprintf("%s has no known time range (newest row at %s); its age cannot be judged",
			c.PartitionID, c.MaxTime.UTC().Format(time.DateOnly))
	case !c.MaxTime.Before(in.Now.Add(-p.Retention)):
		return RulePartitionRetention, fmt.Sprintf("the newest row of %s is %s old (%s), within the %s retention",
			c.PartitionID, fmtAge(age), c.MaxTime.UTC().Format(time.DateOnly), fmtAge(p.Retention))
	case in.ServerLimit > 0 && c.Bytes > in.ServerLimit:
		return RulePartitionServerLimit, fmt.Sprintf("%s holds %s, more than the server's max_partition_size_to_drop %s",
			c.PartitionID, fmtBytes(c.Bytes), fmtBytes(in.ServerLimit))
	case len(in.Partitions)-len(out.Allowed)-1 < p.MinKeep:
		return RulePartitionMinCount, fmt.Sprintf("dropping %s would leave %d partitions of %s, fewer than the minimum %d",
			c.PartitionID, len(in.Partitions)-len(out.Allowed)-1, table, p.MinKeep)
	case len(out.Allowed) >= p.MaxPerRun:
		return RulePartitionMaxCount, fmt.Sprintf("%d partitions are already dropped in this run, the most allowed", p.MaxPerRun)
	case c.Bytes > p.MaxBytesPerRun-out.FreedBytes:
		return RulePartitionMaxBytes, fmt.Sprintf("%s holds %s; with %s already freed this exceeds the %s allowed per run",
			c.PartitionID, fmtBytes(c.Bytes), fmtBytes(out.FreedBytes), fmtBytes(p.MaxBytesPerRun))
	}
	return "", ""
}

// newestTime is the latest MaxTime of the table.
func newestTime(ps []platform.Partition) time.Time {
	var newest time.Time
	for i, q := range ps {
		if i == 0 || q.MaxTime.After(newest) {
			newest = q.MaxTime
		}
	}
	return newest
}

// fmtAge renders a long duration in days (or hours below two days).
func fmtAge(d time.Duration) string {
	if d >= 48*time.Hour {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + " days"
	}
	return fmtDur(d.Truncate(time.Second))
}
