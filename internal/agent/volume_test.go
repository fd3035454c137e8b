package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/tools"
)

const gib = int64(1) << 30

// pvcAlert is KubePersistentVolumeFillingUp as its rule classifies it: about
// the claim, not the kubelet that exported the series.
func pvcAlert(t *testing.T, claim string) func(alert.Parser) alert.Alert {
	return func(p alert.Parser) alert.Alert {
		a, err := p.ParseText("PersistentVolume "+claim+" in ai-data-labs is 92% full", fixedStart)
		if err != nil {
			t.Fatal(err)
		}
		a.Service, a.Kind = "kubelet", alert.KindDisk
		a.Classification = alert.Classification{Alertname: "KubePersistentVolumeFillingUp", Family: alert.FamilyStorage, Kind: alert.KindDisk,
			Subject: alert.SubjectRef{Kind: alert.SubjectPVC, Namespace: namespace, Name: claim}, Action: alert.ActionPlaybook, Known: true}
		return a
	}
}

// Redis's full volume is expanded once, by the most one incident allows
// (+50%: 10Gi → 15Gi), and the expansion is verified from the claim's
// status after the settle time: capacity reached, usage back under the
// target.
func TestAFullVolumeIsExpandedByHalfAndVerifiedFromItsClaim(t *testing.T) {
	h := newHarness(t, setup{scenario: "redis-volume-full", parse: pvcAlert(t, "data-redis-0")})
	sum := h.run()
	if len(sum.Actions) != 1 || sum.Actions[0].Tool != tools.ExpandVolume || sum.Actions[0].Target != namespace+"/data-redis-0" ||
		sum.Actions[0].Params["from"] != "10Gi" || sum.Actions[0].Params["to"] != "15Gi" || sum.Actions[0].Status != string(tools.StatusExecuted) {
		t.Fatalf("actions %+v, want one expansion of data-redis-0 from 10Gi to 15Gi", sum.Actions)
	}
	v := sum.Verification
	if sum.Resolution != agent.Resolved || v == nil || v.Signal != "Volume" || v.Result != platform.VerifyResolved ||
		!strings.Contains(v.Before, "92% of 10Gi") || !strings.Contains(v.After, "of 15Gi") {
		t.Fatalf("resolution %s, verification %+v; want resolved from the claim", sum.Resolution, v)
	}
	for _, c := range of[agent.ToolCalled](h.events) {
		if c.Tool == tools.CheckStorage || c.Tool == tools.DropPartitions {
			t.Errorf("%s called for redis's volume", c.Tool)
		}
	}
	verified := false
	for _, c := range of[agent.ToolCalled](h.events) {
		verified = verified || (c.Phase == agent.PhaseVerify && c.Tool == tools.GetVolume && c.By == "code")
	}
	if !verified {
		t.Error("the expansion was not verified by code reading the claim")
	}
	if !strings.Contains(sum.Explanation, "growing 1Gi/day, full in 0.8 days") || !strings.Contains(sum.Explanation, "not ClickHouse's") {
		t.Errorf("explanation %q; want the usage, growth and days to full", sum.Explanation)
	}
	after := h.after()
	if s := after.Services["redis"]; s.VolumeCapacity != 15*gib || s.VolumeUsage > 62 {
		t.Errorf("redis volume %d bytes at %v%%, want 15Gi at about 61%%", s.VolumeCapacity, s.VolumeUsage)
	}
	if err := h.p.Scenario().Expect.CheckState(after); err != nil {
		t.Errorf("scenario expectations: %v", err)
	}
}

// A second alert in the same incident (the volume filled again within the
// day) cannot grow it past +50% of its size before the first expansion:
// the guard refuses, and the run escalates with the usage and the growth.
func TestASecondAlertInTheIncidentCannotGrowTheVolumePastHalf(t *testing.T) {
	sc := loadScenario(t, "redis-volume-full")
	for i := range sc.Services {
		if sc.Services[i].Name == "redis" {
			sc.Services[i].Volume.Used.Steps = []sim.Step[sim.Bytes]{{At: 6 * time.Hour, Value: 138 * sim.Bytes(gib) / 10}}
		}
	}
	p, state := sim.New(sc, fixedStart), tools.NewMemoryState()
	first := newHarness(t, setup{platform: p, state: state, parse: pvcAlert(t, "data-redis-0")}).run()
	if first.Resolution != agent.Resolved || len(first.Actions) != 1 {
		t.Fatalf("first alert: %s, actions %+v", first.Resolution, first.Actions)
	}
	p.Advance(6 * time.Hour)
	h := newHarness(t, setup{platform: p, state: state, parse: pvcAlert(t, "data-redis-0")})
	sum := h.run()
	if len(sum.Actions) != 0 || len(sum.Refusals) != 1 || sum.Refusals[0].Rule != guard.RuleVolumeGrowth ||
		!strings.Contains(sum.Refusals[0].Reason, "(10.0 GiB)") {
		t.Fatalf("actions %+v, refusals %+v; want the expansion refused at +50%% of 10Gi", sum.Actions, sum.Refusals)
	}
	if sum.Resolution != agent.Escalated || !strings.Contains(sum.Explanation, "Escalated: usage 94% of 15Gi") || !strings.Contains(sum.Explanation, "full in") {
		t.Errorf("resolution %s, explanation %q; want escalated with the usage and days to full", sum.Resolution, sum.Explanation)
	}
	if s := h.after().Services["redis"]; s.VolumeCapacity != 15*gib {
		t.Errorf("capacity %d, want still 15Gi", s.VolumeCapacity)
	}
}

// In observe mode the expansion is a server-side dry run and the run says
// so; nothing changes.
func TestAVolumeExpansionInObserveModeChangesNothing(t *testing.T) {
	h := newHarness(t, setup{scenario: "redis-volume-full", parse: pvcAlert(t, "data-redis-0"),
		conf: func(c *config.Config) { c.Agent.Mode = config.ModeObserve }})
	sum := h.run()
	if len(sum.Actions) != 1 || sum.Actions[0].Status != string(tools.StatusDryRun) || h.after().Services["redis"].VolumeCapacity != 10*gib {
		t.Errorf("actions %+v, capacity %d; want a dry run and 10Gi kept", sum.Actions, h.after().Services["redis"].VolumeCapacity)
	}
}
