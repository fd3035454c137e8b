package tools_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/tools"
)

const (
	gi          = int64(1) << 30
	redisClaim  = `{"namespace":"ai-data-labs","name":"data-redis-0"}`
	expandRedis = `{"namespace":"ai-data-labs","name":"data-redis-0","size":"%s","reason":"92% full"}`
)

func expandTo(size string) string { return strings.Replace(expandRedis, "%s", size, 1) }

var redisRef = platform.VolumeRef{Namespace: ns, Name: "data-redis-0"}

func TestGetVolumeReadsTheClaimItsClassAndItsGrowth(t *testing.T) {
	e := newEnv(t, "redis-volume-full")
	o := e.call(autoRun(), "getVolume", redisClaim)
	mustStatus(t, o, tools.StatusOK)
	v := result[tools.VolumeStatus](t, o)
	if v.StorageClass != "standard-rwo" || !v.AllowExpansion || v.Phase != platform.VolumeBound || v.Requested != "10Gi" ||
		v.Capacity != "10Gi" || v.Expansion != tools.ExpansionComplete || v.RequestedBytes != 10*gi {
		t.Errorf("volume %+v", v)
	}
	if !v.UsageKnown() || v.Usage() != 92 || v.GrowthPerDay != "1Gi" || v.DaysToFull < 0.75 || v.DaysToFull > 0.85 {
		t.Errorf("usage %v, growth %q, days to full %v; want 92%%, 1Gi/day, about 0.8", v.Usage(), v.GrowthPerDay, v.DaysToFull)
	}
	if !strings.Contains(o.Summary, "92% of 10Gi used (+1Gi/day, full in 0.8 days)") || !strings.Contains(o.Summary, "allows expansion") {
		t.Errorf("summary %q", o.Summary)
	}
}

func TestGetVolumeWithoutMetricsSaysTheUsageIsUnknown(t *testing.T) {
	e := newEnv(t, "redis-volume-full", withMetrics(failingMetrics{platform.ErrUnavailable}))
	v := result[tools.VolumeStatus](t, e.call(autoRun(), "getVolume", redisClaim))
	if v.UsageKnown() || !strings.Contains(v.UsageNote, "usage unknown") || v.Capacity != "10Gi" {
		t.Errorf("volume %+v", v)
	}
}

// An expansion asks for a new size: the guard clamps it to +50%, the claim
// requests it at once, and its capacity grows only once the controller and
// the kubelet have resized it, which the result says honestly.
func TestExpandVolumeIsClampedAndTheCapacityGrowsLater(t *testing.T) {
	e := newEnv(t, "redis-volume-full")
	o := e.call(autoRun(), "expandVolume", expandTo("20Gi"))
	mustStatus(t, o, tools.StatusExecuted)
	res := result[tools.ExpandResult](t, o)
	if o.Rule != guard.RuleVolumeGrowth || o.Decision.Verdict != guard.Clamp || res.From != "10Gi" || res.To != "15Gi" || res.Capacity != "10Gi" ||
		res.Expansion != tools.ExpansionResizing || !strings.Contains(res.Note, "has not grown yet") {
		t.Fatalf("rule %s, result %+v", o.Rule, res)
	}
	if o.Summary != "expand volume ai-data-labs/data-redis-0 from 10Gi to 15Gi" || o.Params["from"] != "10Gi" || o.Params["to"] != "15Gi" {
		t.Errorf("summary %q params %v", o.Summary, o.Params)
	}
	st, _ := e.state.Load(context.Background(), tools.VolumeStateKey(redisRef))
	if st.VolumeBaseline != 10*gi || !st.VolumeBaselineAt.Equal(t0) {
		t.Errorf("stored state %+v, want the baseline 10Gi at %s", st, t0)
	}
	v, _ := e.p.Volumes().GetVolume(context.Background(), redisRef)
	if v.Requested != 15*gi || !strings.Contains(v.Annotations[guard.StateAnnotation], `"volBase":10737418240`) {
		t.Errorf("claim %+v: want 15Gi requested and the baseline annotated", v)
	}
	if evs := e.p.Snapshot().Volumes[redisRef.Name].Events; len(evs) != 1 || evs[0].Reason != "SuccessfulExpansion" ||
		!strings.HasPrefix(evs[0].Message, "ops-skill: new size 15Gi (was 10Gi); reason: ") {
		t.Errorf("events of the claim %+v, want one SuccessfulExpansion naming 15Gi and 10Gi", evs)
	}
	e.p.Advance(25 * time.Second)
	if v := result[tools.VolumeStatus](t, e.call(autoRun(), "getVolume", redisClaim)); v.Expansion != tools.ExpansionFileSystem || v.Capacity != "10Gi" {
		t.Errorf("after 25s: expansion %s, capacity %s; want the file system resize pending", v.Expansion, v.Capacity)
	}
	e.p.Advance(20 * time.Second)
	v2 := result[tools.VolumeStatus](t, e.call(autoRun(), "getVolume", redisClaim))
	if v2.Expansion != tools.ExpansionComplete || v2.Capacity != "15Gi" || v2.Usage() > 62 {
		t.Errorf("after 45s: expansion %s, capacity %s, usage %v; want complete, 15Gi, about 61%%", v2.Expansion, v2.Capacity, v2.Usage())
	}
}

// Two expansions in one incident (two runs, one state store) together grow
// the volume by at most half its size before the first.
func TestASecondExpansionInTheIncidentCannotPassTheFirstSizeByHalf(t *testing.T) {
	e := newEnv(t, "redis-volume-full")
	mustStatus(t, e.call(autoRun(), "expandVolume", expandTo("12Gi")), tools.StatusExecuted)
	e.p.Advance(time.Hour)
	o := e.call(autoRun(), "expandVolume", expandTo("18Gi"))
	if o.Status != tools.StatusExecuted || o.Rule != guard.RuleVolumeGrowth || result[tools.ExpandResult](t, o).To != "15Gi" {
		t.Fatalf("second: %s %s %+v, want clamped to 15Gi", o.Status, o.Rule, o.Result)
	}
	o = e.call(autoRun(), "expandVolume", expandTo("20Gi"))
	if o.Status != tools.StatusRefused || o.Rule != guard.RuleVolumeGrowth || !strings.Contains(o.Reason, "already 15.0 GiB") {
		t.Errorf("third: %s %s %q, want refused at +50%% of 10Gi", o.Status, o.Rule, o.Reason)
	}
	// The baseline lives on the claim too: another agent without this
	// state store is held to it.
	other := newEnvOn(t, e.p)
	if o := other.call(autoRun(), "expandVolume", expandTo("20Gi")); o.Rule != guard.RuleVolumeGrowth || o.Status != tools.StatusRefused {
		t.Errorf("another agent: %s %s, want refused by the annotated baseline", o.Status, o.Rule)
	}
}

func TestExpandVolumeInObserveModeIsAServerSideDryRun(t *testing.T) {
	e := newEnv(t, "redis-volume-full")
	o := e.call(tools.NewRun(7, guard.ModeObserve, nil, guard.DefaultMaxWrites), "expandVolume", expandTo("15Gi"))
	mustStatus(t, o, tools.StatusDryRun)
	if res := result[tools.ExpandResult](t, o); !res.DryRun || res.To != "15Gi" || !strings.Contains(res.Note, "dry run") {
		t.Errorf("result %+v", res)
	}
	v, _ := e.p.Volumes().GetVolume(context.Background(), redisRef)
	st, _ := e.state.Load(context.Background(), tools.VolumeStateKey(redisRef))
	if v.Requested != 10*gi || v.Annotations[guard.StateAnnotation] != "" || st.VolumeBaseline != 0 {
		t.Errorf("a dry run changed the claim %+v or the state %+v", v, st)
	}
	if evs := e.p.Snapshot().Volumes[redisRef.Name].Events; len(evs) != 0 {
		t.Errorf("a dry run recorded events %+v", evs)
	}
}

func TestExpandVolumeInApproveModeAsks(t *testing.T) {
	e := newEnv(t, "redis-volume-full")
	ap := &approver{interactive: true, answer: false}
	o := e.call(tools.NewRun(7, guard.ModeApprove, ap, guard.DefaultMaxWrites), "expandVolume", expandTo("15Gi"))
	if o.Status != tools.StatusRefused || o.Rule != guard.RuleApprovalDeclined || len(ap.asked) != 1 ||
		ap.asked[0].Summary != "expand volume ai-data-labs/data-redis-0 from 10Gi to 15Gi" {
		t.Errorf("%s %s, asked %d", o.Status, o.Rule, len(ap.asked))
	}
}

func TestExpandVolumeRefusals(t *testing.T) {
	cases := []struct {
		name   string
		vol    func(*platform.Volume)
		args   string
		status tools.Status
		rule   string
		reason string
	}{
		{"the class does not allow expansion", func(v *platform.Volume) { v.AllowExpansion = false }, expandTo("15Gi"),
			tools.StatusRefused, guard.RuleVolumeExpansionDisabled, "does not allow volume expansion"},
		{"the class cannot be read", func(v *platform.Volume) { v.AllowExpansion, v.ClassProblem = false, "may not get storageclasses" }, expandTo("15Gi"),
			tools.StatusRefused, guard.RuleVolumeClassUnknown, "may not get storageclasses"},
		{"a smaller size", nil, expandTo("8Gi"), tools.StatusRefused, guard.RuleVolumeShrink, "never shrunk"},
		{"an unreadable state annotation", func(v *platform.Volume) { v.Annotations = map[string]string{guard.StateAnnotation: "{"} }, expandTo("15Gi"),
			tools.StatusRefused, guard.RuleStateUnreadable, "cannot be read"},
		{"a size that is no quantity", nil, expandTo("lots"), tools.StatusInvalid, "", ""},
		{"another namespace", nil, `{"namespace":"kube-system","name":"data-redis-0","size":"15Gi"}`,
			tools.StatusRefused, guard.RuleNamespaceNotAllowed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeVolumes{v: redisVolume(c.vol)}
			e := newEnv(t, "redis-volume-full", withVolumes(f))
			o := e.call(autoRun(), "expandVolume", c.args)
			if o.Status != c.status || o.Rule != c.rule || !strings.Contains(o.Reason, c.reason) {
				t.Errorf("%s %s %q (error %q), want %s %s %q", o.Status, o.Rule, o.Reason, o.Error, c.status, c.rule, c.reason)
			}
			if f.resizes() != 0 {
				t.Errorf("%d resizes after a refusal", f.resizes())
			}
		})
	}
}

// A claim that changed between the read and the write is read again and
// judged again, once.
func TestExpandVolumeRereadsAfterAConflict(t *testing.T) {
	f := &fakeVolumes{v: redisVolume(nil), conflicts: 1}
	e := newEnv(t, "redis-volume-full", withVolumes(f))
	o := e.call(autoRun(), "expandVolume", expandTo("15Gi"))
	mustStatus(t, o, tools.StatusExecuted)
	if f.gets() != 2 || f.resizes() != 2 || f.v.Requested != 15*gi {
		t.Errorf("%d reads, %d writes, requested %d; want a re-read and one more write", f.gets(), f.resizes(), f.v.Requested)
	}
}

func TestExpandVolumeFailsWithoutKubernetes(t *testing.T) {
	reg := tools.NewRegistry(tools.Deps{Policy: testPolicy()})
	o := reg.Invoke(context.Background(), autoRun(), tools.Call{ID: "1", Tool: tools.ExpandVolume, Args: []byte(expandTo("15Gi"))})
	if o.Status != tools.StatusFailed || !strings.Contains(o.Error, "kubernetes is not configured") {
		t.Errorf("%s %q", o.Status, o.Error)
	}
}

func TestExpansionIsReadFromTheClaimsStatus(t *testing.T) {
	v := redisVolume(nil)
	with := func(f func(*platform.Volume)) platform.Volume { c := v; f(&c); return c }
	cases := map[tools.Expansion]platform.Volume{
		tools.ExpansionComplete: v,
		tools.ExpansionPending:  with(func(c *platform.Volume) { c.Requested = 15 * gi }),
		tools.ExpansionResizing: with(func(c *platform.Volume) {
			c.Requested, c.Conditions = 15*gi, []platform.VolumeCondition{{Type: platform.VolumeResizing}}
		}),
		tools.ExpansionFileSystem: with(func(c *platform.Volume) {
			c.Requested, c.Conditions = 15*gi, []platform.VolumeCondition{{Type: platform.VolumeFileSystemResizePending}}
		}),
		tools.ExpansionFailed: with(func(c *platform.Volume) { c.Requested, c.ResizeStatus = 15*gi, "ControllerResizeInfeasible" }),
	}
	for want, vol := range cases {
		if got := tools.ExpansionOf(vol); got != want {
			t.Errorf("ExpansionOf(%+v) = %s, want %s", vol, got, want)
		}
	}
}

// newEnvOn is a second registry on the same platform, with a state store of
// its own: another agent.
func newEnvOn(t *testing.T, p *sim.Platform) *env {
	t.Helper()
	e := &env{p: p, rec: &recorder{}, state: tools.NewMemoryState(), inc: &incidents{}}
	e.reg = tools.NewRegistry(tools.Deps{Volumes: p.Volumes(), State: e.state, Clock: p.Clock(), Policy: testPolicy()})
	return e
}

func withVolumes(v platform.Volumes) option { return func(d *tools.Deps) { d.Volumes = v } }

func redisVolume(mut func(*platform.Volume)) platform.Volume {
	v := platform.Volume{Ref: redisRef, StorageClass: "standard-rwo", AllowExpansion: true, Phase: platform.VolumeBound,
		Requested: 10 * gi, Capacity: 10 * gi, ResourceVersion: "7"}
	if mut != nil {
		mut(&v)
	}
	return v
}

// fakeVolumes is one claim; the first conflicts writes fail as a stale
// resourceVersion does.
type fakeVolumes struct {
	mu        sync.Mutex
	v         platform.Volume
	conflicts int
	nGet, nRe int
	events    []platform.Event
}

func (f *fakeVolumes) GetVolume(_ context.Context, ref platform.VolumeRef) (platform.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nGet++
	if ref != f.v.Ref {
		return platform.Volume{}, platform.ErrNotFound
	}
	return f.v, nil
}

func (f *fakeVolumes) ResizeVolume(_ context.Context, _ platform.VolumeRef, req platform.ResizeRequest) (platform.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nRe++
	if f.conflicts > 0 {
		f.conflicts--
		f.v.ResourceVersion += "1"
		return platform.Volume{}, errors.Join(errors.New("update persistentvolumeclaims"), platform.ErrConflict)
	}
	if !req.DryRun {
		f.v.Requested = req.Size
	}
	return f.v, nil
}

func (f *fakeVolumes) RecordVolumeEvent(_ context.Context, ref platform.VolumeRef, ev platform.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ref != f.v.Ref {
		return platform.ErrNotFound
	}
	f.events = append(f.events, ev)
	return nil
}

func (f *fakeVolumes) gets() int    { f.mu.Lock(); defer f.mu.Unlock(); return f.nGet }
func (f *fakeVolumes) resizes() int { f.mu.Lock(); defer f.mu.Unlock(); return f.nRe }
