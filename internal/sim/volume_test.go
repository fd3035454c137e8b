package sim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

const gi = int64(1) << 30

func claim(name string) platform.VolumeRef {
	return platform.VolumeRef{Namespace: "ai-data-labs", Name: name}
}

func getVolume(t *testing.T, p *sim.Platform, name string) platform.Volume {
	t.Helper()
	v, err := p.Volumes().GetVolume(context.Background(), claim(name))
	if err != nil {
		t.Fatalf("GetVolume(%s): %v", name, err)
	}
	return v
}

// volumeUsage is disk_usage of one claim now.
func volumeUsage(t *testing.T, p *sim.Platform, name string) float64 {
	t.Helper()
	res, err := p.Metrics().Query(context.Background(), platform.MetricQuery{Metric: platform.MetricDiskUsage,
		Target: platform.WorkloadRef{Namespace: "ai-data-labs", Name: name}, Volume: name})
	if err != nil || len(res.Series) != 1 || len(res.Series[0].Samples) != 1 {
		t.Fatalf("disk_usage of %s: %+v, %v", name, res, err)
	}
	return res.Series[0].Samples[0].V
}

// Every StatefulSet pod has its claim, named as the StatefulSet controller
// names it, with the defaults when the scenario gives none; ClickHouse's
// claims hold the ClickHouse disk.
func TestStatefulSetsHaveTheirClaims(t *testing.T) {
	p := load(t, "disk-space")
	for _, name := range []string{"data-clickhouse-0", "data-clickhouse-1", "data-postgresql-0", "data-redis-0"} {
		v := getVolume(t, p, name)
		if v.Phase != platform.VolumeBound || v.StorageClass != sim.DefaultStorageClass || !v.AllowExpansion || v.Requested != v.Capacity {
			t.Errorf("%s: %+v", name, v)
		}
	}
	if _, err := p.Volumes().GetVolume(context.Background(), claim("data-backend-0")); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("a Deployment's claim: %v, want ErrNotFound", err)
	}
	if v := getVolume(t, p, "data-redis-0"); v.Requested != 10*gi {
		t.Errorf("redis claim requests %d, want the default 10Gi", v.Requested)
	}
	if v := getVolume(t, p, "data-clickhouse-0"); v.Requested != 1e12 {
		t.Errorf("clickhouse claim requests %d, want the disk's 1TB", v.Requested)
	}
	if got := volumeUsage(t, p, "data-clickhouse-0"); got != 85 {
		t.Errorf("clickhouse claim usage %v, want the disk's 85%%", got)
	}
	if got := volumeUsage(t, p, "data-redis-0"); got != 50 {
		t.Errorf("redis claim usage %v, want the default 50%%", got)
	}
	if got := instant(t, p, "redis", platform.MetricDiskUsage); got != 50 {
		t.Errorf("redis disk_usage %v, want its claim's", got)
	}
}

// A resize is accepted at once; the controller then resizes (Resizing), the
// kubelet grows the file system (FileSystemResizePending), and only then
// does the capacity grow and the usage drop.
func TestAResizeTakesEffectAfterTheControllerAndTheKubelet(t *testing.T) {
	p := load(t, "redis-volume-full")
	ctx := context.Background()
	before := getVolume(t, p, "data-redis-0")
	if got := volumeUsage(t, p, "data-redis-0"); got != 92 {
		t.Fatalf("usage %v, want 92", got)
	}
	got, err := p.Volumes().ResizeVolume(ctx, claim("data-redis-0"), platform.ResizeRequest{Size: 15 * gi, ExpectedVersion: before.ResourceVersion,
		Annotations: map[string]string{"ops-skill/state": "{}"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Requested != 15*gi || got.Capacity != 10*gi || got.Conditions[0].Type != platform.VolumeResizing || got.ResourceVersion == before.ResourceVersion ||
		got.Annotations["ops-skill/state"] != "{}" {
		t.Errorf("right after: %+v", got)
	}
	steps := []struct {
		after    time.Duration
		cond     string
		capacity int64
	}{
		{19 * time.Second, platform.VolumeResizing, 10 * gi},
		{1 * time.Second, platform.VolumeFileSystemResizePending, 10 * gi},
		{20 * time.Second, "", 15 * gi},
	}
	for _, s := range steps {
		p.Advance(s.after)
		v := getVolume(t, p, "data-redis-0")
		cond := ""
		if len(v.Conditions) > 0 {
			cond = v.Conditions[0].Type
		}
		if cond != s.cond || v.Capacity != s.capacity {
			t.Errorf("at %s: condition %q, capacity %d; want %q, %d", p.Now().Sub(t0), cond, v.Capacity, s.cond, s.capacity)
		}
	}
	p.Advance(sim.DefaultStep) // the next scrape of the kubelet's volume stats
	if got := volumeUsage(t, p, "data-redis-0"); got > 62 || got < 61 {
		t.Errorf("usage after the resize %v, want about 61%%", got)
	}
	if st := p.Snapshot(); st.Services["redis"].VolumeCapacity != 15*gi || st.Volumes["data-redis-0"].Requested != 15*gi {
		t.Errorf("snapshot %+v %+v", st.Services["redis"], st.Volumes["data-redis-0"])
	}
}

func TestAResizeIsRefusedAsTheAPIServerRefusesIt(t *testing.T) {
	p := load(t, "redis-volume-full")
	ctx := context.Background()
	rv := getVolume(t, p, "data-redis-0").ResourceVersion
	if _, err := p.Volumes().ResizeVolume(ctx, claim("data-redis-0"), platform.ResizeRequest{Size: 8 * gi}); !errors.Is(err, platform.ErrUnsupported) {
		t.Errorf("shrink: %v, want ErrUnsupported", err)
	}
	if _, err := p.Volumes().ResizeVolume(ctx, claim("data-redis-0"), platform.ResizeRequest{Size: 15 * gi, ExpectedVersion: "1"}); !errors.Is(err, platform.ErrConflict) {
		t.Errorf("stale version: %v, want ErrConflict", err)
	}
	v, err := p.Volumes().ResizeVolume(ctx, claim("data-redis-0"), platform.ResizeRequest{Size: 15 * gi, DryRun: true})
	if err != nil || v.Requested != 15*gi {
		t.Fatalf("dry run: %+v, %v", v, err)
	}
	if after := getVolume(t, p, "data-redis-0"); after.Requested != 10*gi || after.ResourceVersion != rv {
		t.Errorf("a dry run changed the claim: %+v", after)
	}
	sc, err := sim.LoadScenario(scenarios, "redis-volume-full")
	if err != nil {
		t.Fatal(err)
	}
	no := false
	for i := range sc.Services {
		if sc.Services[i].Name == "redis" {
			sc.Services[i].Volume.AllowExpansion = &no
		}
	}
	fixed := sim.New(sc, t0)
	if _, err := fixed.Volumes().ResizeVolume(ctx, claim("data-redis-0"), platform.ResizeRequest{Size: 15 * gi}); !errors.Is(err, platform.ErrUnsupported) ||
		!strings.Contains(err.Error(), "must support resize") {
		t.Errorf("class without expansion: %v, want the API server's refusal", err)
	}
}

// Expanding ClickHouse's claim grows the disk ClickHouse reports.
func TestExpandingClickHousesClaimGrowsItsDisk(t *testing.T) {
	p := load(t, "disk-space")
	if _, err := p.Volumes().ResizeVolume(context.Background(), claim("data-clickhouse-0"), platform.ResizeRequest{Size: 1.5e12}); err != nil {
		t.Fatal(err)
	}
	p.Advance(time.Minute)
	disks, err := p.Storage().Disks(context.Background())
	if err != nil || disks[0].TotalBytes != 1.5e12 {
		t.Fatalf("disks %+v, %v", disks, err)
	}
	if got := instant(t, p, "clickhouse", platform.MetricDiskUsage); got < 56 || got > 57 {
		t.Errorf("clickhouse disk usage %v, want about 56.7%%", got)
	}
}

// A scale-up gives the new pod its claim, empty.
func TestAScaleUpCreatesTheNewPodsClaim(t *testing.T) {
	p := load(t, "redis-volume-full")
	w := workload(t, p, "redis")
	if _, err := p.Cluster().Scale(context.Background(), ref("redis"), platform.ScaleRequest{Replicas: 2, ExpectedVersion: w.ResourceVersion}); err != nil {
		t.Fatal(err)
	}
	p.Advance(time.Minute)
	if v := getVolume(t, p, "data-redis-1"); v.Requested != 10*gi {
		t.Errorf("new claim %+v", v)
	}
	if got := volumeUsage(t, p, "data-redis-1"); got > 1 {
		t.Errorf("new claim usage %v, want about empty", got)
	}
}

func TestVolumeMetricQueriesAreChecked(t *testing.T) {
	p := load(t, "redis-volume-full")
	_, err := p.Metrics().Query(context.Background(), platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("redis"), Volume: "data-redis-0"})
	if !errors.Is(err, platform.ErrUnsupported) {
		t.Errorf("cpu of a claim: %v, want ErrUnsupported", err)
	}
	_, err = p.Metrics().Query(context.Background(), platform.MetricQuery{Metric: platform.MetricDiskUsage, Target: ref("redis"), Volume: "data-kafka-0"})
	if !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("unknown claim: %v, want ErrNotFound", err)
	}
}

func TestScenarioVolumesAreValidated(t *testing.T) {
	sts := strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    kind: StatefulSet\n", 1)
	cases := map[string]string{
		"a Deployment's volume":  strings.Replace(minimal, "  - name: backend\n", "  - name: backend\n    volume: {size: 1Gi}\n", 1),
		"used above the size":    strings.Replace(sts, "    kind: StatefulSet\n", "    kind: StatefulSet\n    volume: {size: 1Gi, used: 2Gi}\n", 1),
		"a bad class":            strings.Replace(sts, "    kind: StatefulSet\n", "    kind: StatefulSet\n    volume: {storage_class: Fast_SSD}\n", 1),
		"a subject without name": minimal + "subject: {kind: pvc}\n",
	}
	for name, doc := range cases {
		if _, err := sim.ParseScenario([]byte(doc)); !errors.Is(err, sim.ErrInvalidScenario) {
			t.Errorf("%s: %v, want ErrInvalidScenario", name, err)
		}
	}
	sc, err := sim.ParseScenario([]byte(sts))
	if err != nil {
		t.Fatal(err)
	}
	v := sc.Services[0].Volume
	if v == nil || v.Size != sim.DefaultVolumeSize || v.Used.Value != sim.DefaultVolumeSize/2 || !*v.AllowExpansion ||
		v.ResizeAfter != sim.DefaultResizeAfter || v.FileSystemResizeAfter != sim.DefaultFSResizeAfter {
		t.Errorf("volume defaults %+v", v)
	}
}
