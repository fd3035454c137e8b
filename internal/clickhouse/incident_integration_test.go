//go:build integration

package clickhouse

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// TestDiskSpaceIncidentAgainstRealClickHouse plays the spec's "Database disk
// usage at 85%" incident through the real tools: checkStorage reports usage,
// growth, days to full and the partitions past the 90-day retention, then
// dropPartitions (mode auto, guarded) drops exactly those, and a second
// checkStorage finds nothing left to drop.
func TestDiskSpaceIncidentAgainstRealClickHouse(t *testing.T) {
	s, _ := sharedStorage(t)
	db := scratchDB(t, s)
	base, now := today()
	ids := dailyTable(t, s, db, base, 120, 300)
	reg := tools.NewRegistry(tools.Deps{Storage: s, Clock: clocktesting.NewFakePassiveClock(now),
		Policy: tools.Policy{Partitions: guard.DefaultPartitionPolicy()}})
	run := tools.NewRun(1, guard.ModeAuto, nil, 5)
	ctx := context.Background()
	start := s.Stats()

	check := invoke(t, reg, run, "checkStorage", map[string]any{"database": db, "table": "events"})
	rep := decode[tools.StorageReport](t, check)
	afterCheck := s.Stats()
	if rep.Partitions != 120 || len(rep.Eligible) != 20 || rep.DaysToFull <= 0 || rep.GrowthPerDay == "" || len(rep.Disks) == 0 {
		t.Fatalf("storage report %+v, want 120 partitions, growth, days to full and the first 20 of 30 expired", rep)
	}
	ps, err := s.Partitions(ctx, platform.PartitionFilter{Database: db, Table: "events"})
	if err != nil {
		t.Fatal(err)
	}
	growth := tools.GrowthPerDay(ps, now)
	var last30 uint64
	for _, p := range ps[len(ps)-30:] {
		last30 += p.Bytes
	}
	if !within(growth, float64(last30)/30, 0.05) {
		t.Fatalf("growth %.0f B/day, want about the last 30 days' %d B / 30", growth, last30)
	}
	beforeDrop := s.Stats()

	drop := invoke(t, reg, run, "dropPartitions", map[string]any{"database": db, "table": "events"})
	if drop.Status != tools.StatusExecuted {
		t.Fatalf("dropPartitions %s: %s %s", drop.Status, drop.Summary, drop.Error)
	}
	res := decode[tools.DropResult](t, drop)
	end := s.Stats()
	var dropped []string
	for _, p := range res.Dropped {
		dropped = append(dropped, p.ID)
	}
	if !slices.Equal(dropped, ids[:30]) || len(res.Refused) != 0 || len(res.NotTried) != 0 {
		t.Fatalf("dropped %v (refused %v, not tried %v), want the 30 partitions past 90 days %v", dropped, res.Refused, res.NotTried, ids[:30])
	}
	left, err := s.Partitions(ctx, platform.PartitionFilter{Database: db, Table: "events"})
	if err != nil || !slices.Equal(partitionIDs(left), ids[30:]) {
		t.Fatalf("left %v (%v), want %v", partitionIDs(left), err, ids[30:])
	}

	again := decode[tools.StorageReport](t, invoke(t, reg, run, "checkStorage", map[string]any{"database": db, "table": "events"}))
	if again.Partitions != 90 || len(again.Eligible) != 0 {
		t.Fatalf("after the drop: %+v, want 90 partitions and none expired", again)
	}
	t.Logf("round trips: checkStorage %d statements (%d HTTP requests); dropPartitions of 30 partitions %d statements (%d HTTP requests)",
		afterCheck.Statements-start.Statements, afterCheck.HTTPRequests-start.HTTPRequests,
		end.Statements-beforeDrop.Statements, end.HTTPRequests-beforeDrop.HTTPRequests)
}

func invoke(t *testing.T, reg *tools.Registry, run *tools.Run, tool string, args map[string]any) tools.Outcome {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	out := reg.Invoke(context.Background(), run, tools.Call{ID: tool, Tool: tools.Name(tool), Args: raw})
	if out.Status != tools.StatusOK && out.Status != tools.StatusExecuted {
		t.Fatalf("%s: %s: %s %s", tool, out.Status, out.Summary, out.Error)
	}
	return out
}

func decode[T any](t *testing.T, out tools.Outcome) T {
	t.Helper()
	v, ok := out.Result.(T)
	if !ok {
		t.Fatalf("%s result is %T", out.Tool, out.Result)
	}
	return v
}
