package planner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/planner"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

const gib = int64(1) << 30

// redisDisk are the facts of KubePersistentVolumeFillingUp on Redis's claim.
func redisDisk() plan.Facts {
	return plan.Facts{Source: alert.SourceAlertmanager, Service: "redis", Namespace: "ai-data-labs", Kind: alert.KindDisk, Mode: guard.ModeAuto,
		Subject: &platform.Resolution{Object: platform.ObjectRef{Kind: platform.ObjectPVC, Namespace: "ai-data-labs", Name: "data-redis-0"},
			Workload: platform.WorkloadRef{Namespace: "ai-data-labs", Name: "redis"}, Kind: "StatefulSet",
			Via: []string{"pvc/ai-data-labs/data-redis-0", "pod/ai-data-labs/redis-0", "statefulset/ai-data-labs/redis"}}}
}

func volume(usage float64, mut func(*tools.VolumeStatus)) tools.Outcome {
	u := usage
	v := tools.VolumeStatus{Target: "ai-data-labs/data-redis-0", StorageClass: "standard-rwo", AllowExpansion: true, Phase: platform.VolumeBound,
		Requested: "10Gi", Capacity: "10Gi", Expansion: tools.ExpansionComplete, UsagePct: &u, GrowthPerDay: "1Gi", DaysToFull: 0.8,
		RequestedBytes: 10 * gib, CapacityBytes: 10 * gib, GrowthBytesPerDay: float64(gib)}
	if mut != nil {
		mut(&v)
	}
	o := ok("getVolume", v)
	o.Target = v.Target
	return o
}

func askVolume(t *testing.T, c *conversation) plan.Turn {
	t.Helper()
	p := policy()
	p.StorageWorkload, p.Volumes = "clickhouse", guard.DefaultVolumePolicy()
	turn, err := planner.NewRules(p).Next(context.Background(), c.sit)
	if err != nil {
		t.Fatal(err)
	}
	return turn
}

func TestAFullVolumeIsExpandedByThePolicysStep(t *testing.T) {
	turn := askVolume(t, start(redisDisk(), volume(92, nil)))
	want := `expandVolume {"name":"data-redis-0","namespace":"ai-data-labs","reason":"volume 92% full","size":"15Gi"}`
	if got := callsOf(turn); len(got) != 1 || got[0] != want {
		t.Fatalf("calls %v, want %s", got, want)
	}
	rep := turn.Report.String()
	for _, s := range []string{"92% of 10Gi, growing 1Gi/day, full in 0.8 days", "not ClickHouse's", "from 10Gi to 15Gi (×1.5"} {
		if !strings.Contains(rep, s) {
			t.Errorf("report lacks %q:\n%s", s, rep)
		}
	}
}

func TestTheVolumeIsReadFirst(t *testing.T) {
	if got := callsOf(askVolume(t, start(redisDisk()))); len(got) != 1 || got[0] != `getVolume {"name":"data-redis-0","namespace":"ai-data-labs"}` {
		t.Errorf("calls %v, want the claim read", got)
	}
	failed := tools.Outcome{Tool: tools.GetVolume, Status: tools.StatusFailed, Error: "persistentvolumeclaims is forbidden"}
	turn := askVolume(t, start(redisDisk(), failed))
	if len(turn.Calls) != 0 || !strings.Contains(turn.Report.String(), "could not be read: persistentvolumeclaims is forbidden") {
		t.Errorf("after a failed read: %v %s", callsOf(turn), turn.Report)
	}
}

// The volume is not expanded, and the answer says why, with the usage.
func TestAVolumeIsNotExpandedWhenNothingJustifiesIt(t *testing.T) {
	cases := []struct {
		name string
		vol  tools.Outcome
		want string
	}{
		{"below the target", volume(60, nil), "no expansion: ai-data-labs/data-redis-0 is 60% full, below the 75% target"},
		{"usage unknown", volume(0, func(v *tools.VolumeStatus) { v.UsagePct, v.UsageNote = nil, "usage unknown: prometheus down" }),
			"cannot be read, so nothing shows it needs more space"},
		{"class does not allow it", volume(92, func(v *tools.VolumeStatus) { v.AllowExpansion = false }), "StorageClass standard-rwo does not allow expansion"},
		{"class unreadable", volume(92, func(v *tools.VolumeStatus) { v.AllowExpansion, v.ClassProblem = false, "may not get storageclasses" }),
			"cannot expand ai-data-labs/data-redis-0: may not get storageclasses"},
		{"already resizing", volume(92, func(v *tools.VolumeStatus) { v.Expansion = tools.ExpansionFileSystem }), "already under way (file_system_resize_pending)"},
		{"at the ceiling", volume(92, func(v *tools.VolumeStatus) { v.Requested, v.RequestedBytes = "1Ti", 1<<40 }), "the volume ceiling"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			turn := askVolume(t, start(redisDisk(), c.vol))
			if len(turn.Calls) != 0 || !strings.Contains(turn.Report.Decision, c.want) {
				t.Errorf("calls %v, decision %q; want none and %q", callsOf(turn), turn.Report.Decision, c.want)
			}
		})
	}
}

func TestAfterAnExpansionThePlannerSaysWhatHappened(t *testing.T) {
	executed := tools.Outcome{Tool: tools.ExpandVolume, Status: tools.StatusExecuted, Summary: "expand volume ai-data-labs/data-redis-0 from 10Gi to 15Gi",
		Result: tools.ExpandResult{Note: "the claim now requests 15Gi; its capacity is still 10Gi (resizing)"}}
	refused := tools.Outcome{Tool: tools.ExpandVolume, Status: tools.StatusRefused, Rule: guard.RuleVolumeGrowth, Reason: "already 15.0 GiB"}
	cases := map[string]struct {
		o    tools.Outcome
		want string
	}{
		"executed": {executed, "from 10Gi to 15Gi; the claim now requests 15Gi; its capacity is still 10Gi"},
		"refused":  {refused, "refused by the guard (volume.growth): already 15.0 GiB. Escalated: usage 92% of 10Gi, growing 1Gi/day, full in 0.8 days"},
		"dry run":  {tools.Outcome{Tool: tools.ExpandVolume, Status: tools.StatusDryRun, Summary: "would expand volume"}, "observe mode: would expand volume"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			turn := askVolume(t, start(redisDisk(), volume(92, nil)).turn(c.o))
			if len(turn.Calls) != 0 || !strings.Contains(turn.Report.Decision, c.want) {
				t.Errorf("calls %v, decision %q; want none and %q", callsOf(turn), turn.Report.Decision, c.want)
			}
		})
	}
}

// Without a claim in the alert, another workload's disk alert is diagnosed
// and escalated as before; ClickHouse's claim keeps its own playbook.
func TestOnlyANamedClaimOfAnotherWorkloadIsExpanded(t *testing.T) {
	f := redisDisk()
	f.Subject = nil
	if got := callsOf(askVolume(t, start(f))); len(got) != 1 || !strings.HasPrefix(got[0], "getServiceStatus") {
		t.Errorf("no claim named: calls %v, want the service read as before", got)
	}
	ch := redisDisk()
	ch.Service, ch.Subject.Object.Name = "clickhouse", "data-clickhouse-0"
	if got := callsOf(askVolume(t, start(ch))); len(got) != 1 || got[0] != "checkStorage {}" {
		t.Errorf("ClickHouse's claim: calls %v, want its storage checked", got)
	}
}
