package guard

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

const gb = uint64(1) << 30

// monthly returns n monthly partitions of analytics.events, the newest ending
// now, each of the given size; IDs are YYYYMM.
func monthly(n int, size uint64) []platform.Partition {
	now := testNow()
	out := make([]platform.Partition, n)
	for i := range n {
		end := now.AddDate(0, -(n - 1 - i), 0)
		out[i] = platform.Partition{Database: "analytics", Table: "events", Partition: end.Format("200601"), PartitionID: end.Format("200601"),
			Rows: 1000, Bytes: size, MinTime: end.AddDate(0, -1, 0), MaxTime: end}
	}
	return out
}

func ids(ps []platform.Partition) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.PartitionID)
	}
	return out
}

func refusalRules(rs []PartitionRefusal) map[string]string {
	out := map[string]string{}
	for _, r := range rs {
		out[r.PartitionID] = r.Rule
	}
	return out
}

func TestPartitionDecide(t *testing.T) {
	now := testNow()
	twelve := monthly(12, 20*gb) // 202503 … 202602; older than 90 days: 202503 … 202511
	big := monthly(12, 20*gb)
	big[1].Bytes = 60 * gb // 202504
	epoch := monthly(6, gb)
	epoch[0].MaxTime, epoch[0].MinTime = time.Unix(0, 0), time.Unix(0, 0)
	boundary := monthly(6, gb)
	boundary[2].MaxTime = now.Add(-90 * 24 * time.Hour)
	stale := monthly(4, gb) // a table no longer written: every partition is old
	for i := range stale {
		stale[i].MaxTime = stale[i].MaxTime.AddDate(-1, 0, 0)
	}
	mixed := append(monthly(4, gb), platform.Partition{Database: "analytics", Table: "other", PartitionID: "202401", MaxTime: now.AddDate(-2, 0, 0)})
	tests := []struct {
		name    string
		pol     func(*PartitionPolicy)
		in      DropInput
		allowed []string
		refused map[string]string
		freed   uint64
	}{
		{name: "only partitions older than the retention go, oldest first",
			in:      DropInput{Partitions: twelve},
			allowed: []string{"202503", "202504", "202505", "202506", "202507", "202508", "202509", "202510", "202511"},
			refused: map[string]string{}, freed: 180 * gb},
		{name: "a requested partition inside the retention is refused",
			in:      DropInput{Partitions: twelve, Requested: []string{"202512", "202503"}},
			allowed: []string{"202503"}, refused: map[string]string{"202512": RulePartitionRetention}, freed: 20 * gb},
		{name: "a partition whose newest row is exactly at the retention is kept",
			in:      DropInput{Partitions: boundary, Requested: []string{ids(boundary)[2]}},
			allowed: []string{}, refused: map[string]string{ids(boundary)[2]: RulePartitionRetention}},
		{name: "the newest partition is never dropped, even when old",
			in:      DropInput{Partitions: stale},
			allowed: []string{ids(stale)[0]}, refused: map[string]string{ids(stale)[1]: RulePartitionMinCount, ids(stale)[2]: RulePartitionMinCount, ids(stale)[3]: RulePartitionNewest},
			freed: gb},
		{name: "the minimum count is kept", pol: func(p *PartitionPolicy) { p.MinKeep = 10 },
			in:      DropInput{Partitions: twelve},
			allowed: []string{"202503", "202504"}, freed: 40 * gb,
			refused: map[string]string{"202505": RulePartitionMinCount, "202506": RulePartitionMinCount, "202507": RulePartitionMinCount,
				"202508": RulePartitionMinCount, "202509": RulePartitionMinCount, "202510": RulePartitionMinCount, "202511": RulePartitionMinCount}},
		{name: "at most N partitions per run", pol: func(p *PartitionPolicy) { p.MaxPerRun = 3 },
			in:      DropInput{Partitions: twelve, Requested: []string{"202507", "202503", "202505", "202504"}},
			allowed: []string{"202503", "202504", "202505"}, refused: map[string]string{"202507": RulePartitionMaxCount}, freed: 60 * gb},
		{name: "at most B bytes per run; a later smaller partition may still fit", pol: func(p *PartitionPolicy) { p.MaxBytesPerRun = 50 * gb },
			in:      DropInput{Partitions: big, Requested: []string{"202503", "202504", "202505", "202506"}},
			allowed: []string{"202503", "202505"}, freed: 40 * gb,
			refused: map[string]string{"202504": RulePartitionMaxBytes, "202506": RulePartitionMaxBytes}},
		{name: "a partition larger than the server limit is refused",
			in:      DropInput{Partitions: big, Requested: []string{"202503", "202504"}, ServerLimit: 50 * gb},
			allowed: []string{"202503"}, refused: map[string]string{"202504": RulePartitionServerLimit}, freed: 20 * gb},
		{name: "a server limit of zero means no limit",
			in:      DropInput{Partitions: big, Requested: []string{"202504"}},
			allowed: []string{"202504"}, refused: map[string]string{}, freed: 60 * gb},
		{name: "a requested partition that does not exist is refused",
			in:      DropInput{Partitions: twelve, Requested: []string{"199901", "202503"}},
			allowed: []string{"202503"}, refused: map[string]string{"199901": RulePartitionUnknown}, freed: 20 * gb},
		{name: "a partition with no time range is never judged old",
			in:      DropInput{Partitions: epoch, Requested: []string{ids(epoch)[0]}},
			allowed: []string{}, refused: map[string]string{ids(epoch)[0]: RulePartitionRetention}},
		{name: "requesting the newest and every partition drops only the old ones",
			in:      DropInput{Partitions: twelve, Requested: ids(twelve)},
			allowed: ids(twelve)[:9], freed: 180 * gb,
			refused: map[string]string{"202512": RulePartitionRetention, "202601": RulePartitionRetention, "202602": RulePartitionNewest}},
		{name: "a partition requested twice is judged once",
			in:      DropInput{Partitions: twelve, Requested: []string{"202503", "202503"}},
			allowed: []string{"202503"}, refused: map[string]string{}, freed: 20 * gb},
		{name: "partitions of several tables are all refused",
			in:      DropInput{Partitions: mixed, Requested: []string{"202401"}},
			allowed: []string{}, refused: map[string]string{"202401": RulePartitionMixedTables}},
		{name: "an invalid policy refuses every candidate", pol: func(p *PartitionPolicy) { p.MinKeep = 0 },
			in:      DropInput{Partitions: twelve, Requested: []string{"202503"}},
			allowed: []string{}, refused: map[string]string{"202503": RulePolicyInvalid}},
		{name: "an empty table drops nothing", in: DropInput{}, allowed: []string{}, refused: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPartitionPolicy()
			if tc.pol != nil {
				tc.pol(&p)
			}
			tc.in.Now = now
			d := p.Decide(tc.in)
			if got := ids(d.Allowed); !slices.Equal(got, tc.allowed) {
				t.Errorf("allowed = %v, want %v (refused %v)", got, tc.allowed, d.Refused)
			}
			if got := refusalRules(d.Refused); fmt.Sprint(got) != fmt.Sprint(tc.refused) {
				t.Errorf("refused = %v, want %v", got, tc.refused)
			}
			if d.FreedBytes != tc.freed {
				t.Errorf("freed = %d, want %d", d.FreedBytes, tc.freed)
			}
			for _, r := range d.Refused {
				if r.Reason == "" {
					t.Errorf("refusal of %s has no reason", r.PartitionID)
				}
			}
		})
	}
}

func TestPartitionRefusalReasons(t *testing.T) {
	p := DefaultPartitionPolicy()
	d := p.Decide(DropInput{Partitions: monthly(12, 20*gb), Requested: []string{"202601"}, Now: testNow()})
	if len(d.Refused) != 1 {
		t.Fatalf("refused = %v", d.Refused)
	}
	want := "the newest row of 202601 is 31 days old (2026-01-16), within the 90 days retention"
	if d.Refused[0].Reason != want {
		t.Fatalf("reason = %q, want %q", d.Refused[0].Reason, want)
	}
}

func TestDropDecisionSummary(t *testing.T) {
	p := DefaultPartitionPolicy()
	now := testNow()
	all := p.Decide(DropInput{Partitions: monthly(12, 20*gb), Requested: []string{"202503", "202504"}, Now: now}).Summary()
	some := p.Decide(DropInput{Partitions: monthly(12, 20*gb), Requested: []string{"202503", "202602"}, Now: now}).Summary()
	none := p.Decide(DropInput{Partitions: monthly(12, 20*gb), Requested: []string{"202602"}, Now: now}).Summary()
	checkDecision(t, all, Allow, RulePartitionAllowed, 2, "40.0 GiB")
	checkDecision(t, some, Clamp, RulePartitionNewest, 1, "202602")
	checkDecision(t, none, Refuse, RulePartitionNewest, 0, "no partition may be dropped")
	if !errors.Is(none.Err(), ErrDenied) || some.Err() != nil {
		t.Fatalf("Err: none=%v some=%v", none.Err(), some.Err())
	}
}

func TestPartitionPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*PartitionPolicy)
		key  string
	}{
		{"a zero retention", func(p *PartitionPolicy) { p.Retention = 0 }, "partitions.retention"},
		{"keeping no partition", func(p *PartitionPolicy) { p.MinKeep = 0 }, "partitions.min_keep"},
		{"no partition per run", func(p *PartitionPolicy) { p.MaxPerRun = 0 }, "partitions.max_per_run"},
		{"no bytes per run", func(p *PartitionPolicy) { p.MaxBytesPerRun = 0 }, "partitions.max_bytes_per_run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPartitionPolicy()
			tc.mod(&p)
			var pe *PolicyError
			if err := p.Validate(); !errors.As(err, &pe) || pe.Key != tc.key {
				t.Fatalf("Validate() = %v, want key %q", err, tc.key)
			}
		})
	}
}
