package preflight

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

type fakeCluster struct {
	versionErr error
	perms      []Permission
	workloads  []platform.Workload
}

func (f fakeCluster) ServerVersion(context.Context) (string, error) { return "v1.37.2", f.versionErr }
func (f fakeCluster) Permissions(context.Context, string) ([]Permission, error) {
	return f.perms, nil
}
func (f fakeCluster) ListWorkloads(context.Context, string) ([]platform.Workload, error) {
	return f.workloads, nil
}

type fakeMetrics struct {
	down    bool
	missing map[platform.MetricName]bool
}

func (m fakeMetrics) Query(_ context.Context, q platform.MetricQuery) (platform.MetricResult, error) {
	if m.down {
		return platform.MetricResult{}, platform.ErrUnavailable
	}
	if m.missing[q.Metric] {
		return platform.MetricResult{}, platform.ErrNotFound
	}
	return platform.MetricResult{Series: []platform.Series{{Samples: []platform.Sample{{V: 1}}}}}, nil
}

func statuses(cs []Check) map[string]Status {
	out := map[string]Status{}
	for _, c := range cs {
		out[string(c.Group)+" "+c.Name] = c.Status
	}
	return out
}

func TestClusterChecks(t *testing.T) {
	perms := []Permission{{Name: "get deployments.apps", Allowed: true}, {Name: "update deployments.apps", Write: true}}
	backend := []platform.Workload{{Ref: platform.WorkloadRef{Namespace: "shop", Name: "backend"}}}
	where := platform.Where{Kind: platform.WhereCluster, Cluster: "prod", Namespace: "shop"}
	cases := []struct {
		name   string
		c      fakeCluster
		writes bool
		want   map[string]Status
		kind   error
	}{
		{"unreachable stops the rest", fakeCluster{versionErr: platform.ErrUnavailable}, true,
			map[string]Status{"cluster api server": Fail, "rbac permissions": Skip}, ErrUnreachable},
		{"rejected credentials", fakeCluster{versionErr: ErrAuth}, true, map[string]Status{"cluster api server": Fail}, ErrDenied},
		{"a denied write fails a run that writes", fakeCluster{perms: perms, workloads: backend}, true,
			map[string]Status{"rbac update deployments.apps": Fail, "rbac get deployments.apps": Pass, "cluster workloads": Pass}, ErrDenied},
		{"a denied write only warns in observe mode", fakeCluster{perms: perms, workloads: backend}, false,
			map[string]Status{"rbac update deployments.apps": Warn, "cluster workloads": Pass}, nil},
		{"an empty namespace warns", fakeCluster{perms: perms[:1]}, true, map[string]Status{"cluster workloads": Warn}, nil},
		{"a denied optional permission only warns", fakeCluster{perms: append(perms[:1:1], Permission{Name: "get storageclasses.storage.k8s.io", Optional: true}),
			workloads: backend}, true, map[string]Status{"rbac get storageclasses.storage.k8s.io": Warn}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checks := ClusterChecks(context.Background(), c.c, ClusterOptions{Where: where, Writes: c.writes})
			got := statuses(checks)
			for k, want := range c.want {
				if got[k] != want {
					t.Errorf("%s: %s, want %s (%v)", k, got[k], want, got)
				}
			}
			err := Report{Checks: checks}.Err()
			if (err == nil) != (c.kind == nil) || (c.kind != nil && !errors.Is(err, c.kind)) {
				t.Errorf("err = %v, want kind %v", err, c.kind)
			}
		})
	}
}

func TestMetricChecks(t *testing.T) {
	ref := platform.WorkloadRef{Namespace: "shop", Name: "backend"}
	target := MetricTarget{Ref: ref, Required: []platform.MetricName{platform.MetricCPU}, Used: []platform.MetricName{platform.MetricRequests}}
	opts := MetricOptions{Now: func() time.Time { return time.Unix(1e9, 0) }, Source: func(n platform.MetricName) string { return "source of " + string(n) }}
	cases := []struct {
		name string
		m    platform.Metrics
		want map[string]Status
		kind error
	}{
		{"not configured warns", nil, map[string]Status{"prometheus query": Warn}, nil},
		{"down fails", fakeMetrics{down: true}, map[string]Status{"prometheus query": Fail}, ErrUnreachable},
		{"all present", fakeMetrics{}, map[string]Status{"metric cpu_utilization shop/backend": Pass, "metric request_rate shop/backend": Pass}, nil},
		{"a required metric missing fails", fakeMetrics{missing: map[platform.MetricName]bool{platform.MetricCPU: true}},
			map[string]Status{"metric cpu_utilization shop/backend": Fail}, ErrMissingData},
		{"a diagnostic metric missing warns", fakeMetrics{missing: map[platform.MetricName]bool{platform.MetricRequests: true}},
			map[string]Status{"metric request_rate shop/backend": Warn, "metric cpu_utilization shop/backend": Pass}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checks := MetricChecks(context.Background(), c.m, []MetricTarget{target}, opts)
			got := statuses(checks)
			for k, want := range c.want {
				if got[k] != want {
					t.Errorf("%s: %s, want %s (%v)", k, got[k], want, got)
				}
			}
			err := Report{Checks: checks}.Err()
			if (err == nil) != (c.kind == nil) || (c.kind != nil && !errors.Is(err, c.kind)) {
				t.Errorf("err = %v, want kind %v", err, c.kind)
			}
			for _, ch := range checks {
				if ch.Group == GroupMetric && ch.Status != Pass && ch.Fix == "" {
					t.Errorf("%s has no fix naming the exporter", ch.Name)
				}
			}
		})
	}
}

func TestOnlyConfig(t *testing.T) {
	cfgOnly := &Error{Failed: []Check{{Kind: ErrConfig}}}
	mixed := &Error{Failed: []Check{{Kind: ErrConfig}, {Kind: ErrUnreachable}}}
	if !cfgOnly.OnlyConfig() || mixed.OnlyConfig() {
		t.Errorf("OnlyConfig: %v %v", cfgOnly.OnlyConfig(), mixed.OnlyConfig())
	}
	if !errors.Is(mixed, ErrUnreachable) || !errors.Is(mixed, ErrConfig) {
		t.Error("the error does not wrap its kinds")
	}
}
