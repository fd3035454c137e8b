package kube

import (
	"context"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

const stateKey = "ops-skill/state"

func TestScaleWritesReplicasAndAnnotationsInOneUpdate(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	w, err := f.c.Scale(context.Background(), backend, platform.ScaleRequest{
		Replicas: 4, ExpectedVersion: "100", Annotations: map[string]string{stateKey: `{"to":4}`}})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); !equal(got, []string{"update deployments"}) {
		t.Fatalf("writes = %v, want one update of the deployment", got)
	}
	d := f.lastUpdate(t).(*appsv1.Deployment)
	if *d.Spec.Replicas != 4 || d.Annotations[stateKey] != `{"to":4}` || d.ResourceVersion != "100" {
		t.Errorf("update carried replicas %d, annotation %q, resourceVersion %q", *d.Spec.Replicas, d.Annotations[stateKey], d.ResourceVersion)
	}
	if w.Replicas != 4 || w.Annotations[stateKey] == "" {
		t.Errorf("returned workload = %+v", w)
	}
}

func TestScaleOfAStatefulSet(t *testing.T) {
	f := newFixture(t, statefulSet("clickhouse", 1))
	_, err := f.c.Scale(context.Background(), platform.WorkloadRef{Namespace: testNS, Name: "clickhouse"}, platform.ScaleRequest{Replicas: 2})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.lastUpdate(t).(*appsv1.StatefulSet); *s.Spec.Replicas != 2 {
		t.Errorf("replicas = %d", *s.Spec.Replicas)
	}
}

func TestScaleRefusesAStaleReadWithoutWriting(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	_, err := f.c.Scale(context.Background(), backend, platform.ScaleRequest{Replicas: 4, ExpectedVersion: "99"})
	if !errors.Is(err, platform.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if w := f.writes(); len(w) != 0 {
		t.Errorf("writes = %v, want none", w)
	}
}

func TestScaleMapsAServerConflict(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	f.kube.PrependReactor("update", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "backend", errors.New("the object has been modified"))
	})
	_, err := f.c.Scale(context.Background(), backend, platform.ScaleRequest{Replicas: 4, ExpectedVersion: "100"})
	if !errors.Is(err, platform.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
}

func TestScaleDryRunAsksTheServerNotToPersist(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	if _, err := f.c.Scale(context.Background(), backend, platform.ScaleRequest{Replicas: 5, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.kube.Actions() {
		if u, ok := a.(k8stesting.UpdateActionImpl); ok {
			if len(u.UpdateOptions.DryRun) != 1 || u.UpdateOptions.DryRun[0] != metav1.DryRunAll {
				t.Errorf("dryRun = %v, want [All]", u.UpdateOptions.DryRun)
			}
			return
		}
	}
	t.Fatal("no update action")
}

func TestScaleRejectsNegativeReplicas(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	if _, err := f.c.Scale(context.Background(), backend, platform.ScaleRequest{Replicas: -1}); err == nil {
		t.Fatal("want an error")
	}
	if len(f.kube.Actions()) != 0 {
		t.Error("a request was sent")
	}
}

func TestRolloutRestartSetsRestartedAtFromTheClock(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	if _, err := f.c.RolloutRestart(context.Background(), backend, platform.RestartRequest{ExpectedVersion: "100",
		Annotations: map[string]string{stateKey: "s"}}); err != nil {
		t.Fatal(err)
	}
	d := f.lastUpdate(t).(*appsv1.Deployment)
	if got := d.Spec.Template.Annotations[RestartedAtAnnotation]; got != "2026-11-26T12:00:00Z" {
		t.Errorf("restartedAt = %q", got)
	}
	if d.Annotations[stateKey] != "s" {
		t.Error("state annotation not in the same update")
	}
}

func TestRestartAndResourcesRefuseWhatWouldNotRoll(t *testing.T) {
	paused := deployment("backend", 3)
	paused.Spec.Paused = true
	onDelete := statefulSet("clickhouse", 1)
	onDelete.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
	ch := platform.WorkloadRef{Namespace: testNS, Name: "clickhouse"}
	tests := []struct {
		name string
		call func(c *Client) error
		want error
	}{
		{"restart paused deployment", func(c *Client) error {
			_, err := c.RolloutRestart(context.Background(), backend, platform.RestartRequest{})
			return err
		}, ErrPaused},
		{"resources of paused deployment", func(c *Client) error {
			_, err := c.SetResources(context.Background(), backend, platform.ResourceRequest{MemoryLimit: 4 << 30})
			return err
		}, ErrPaused},
		{"restart on-delete statefulset", func(c *Client) error {
			_, err := c.RolloutRestart(context.Background(), ch, platform.RestartRequest{})
			return err
		}, platform.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, paused.DeepCopy(), onDelete.DeepCopy())
			if err := tt.call(f.c); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if w := f.writes(); len(w) != 0 {
				t.Errorf("writes = %v, want none", w)
			}
		})
	}
}

func TestSetResourcesPatchesTheNamedContainerLimit(t *testing.T) {
	tests := []struct {
		name, container string
		mem, cpu        int64
		wantMem         string
		wantCPU         string
		wantIdx         int
	}{
		{name: "first container by default", mem: 4 << 30, wantMem: "4Gi", wantIdx: 0},
		{name: "named container", container: "sidecar", mem: 256 << 20, cpu: 250, wantMem: "256Mi", wantCPU: "250m", wantIdx: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, deployment("backend", 3))
			_, err := f.c.SetResources(context.Background(), backend, platform.ResourceRequest{Container: tt.container,
				MemoryLimit: tt.mem, CPULimitM: tt.cpu, ExpectedVersion: "100", Annotations: map[string]string{stateKey: "x"}})
			if err != nil {
				t.Fatal(err)
			}
			d := f.lastUpdate(t).(*appsv1.Deployment)
			lim := d.Spec.Template.Spec.Containers[tt.wantIdx].Resources.Limits
			if q := lim[corev1.ResourceMemory]; q.Cmp(resource.MustParse(tt.wantMem)) != 0 {
				t.Errorf("memory limit = %s, want %s", q.String(), tt.wantMem)
			}
			if q, ok := lim[corev1.ResourceCPU]; tt.wantCPU != "" && (!ok || q.Cmp(resource.MustParse(tt.wantCPU)) != 0) {
				t.Errorf("cpu limit = %s, want %s", q.String(), tt.wantCPU)
			}
			if d.Annotations[stateKey] != "x" {
				t.Error("state annotation not in the same update")
			}
		})
	}
}

func TestSetResourcesOfAnUnknownContainerIsNotFound(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	_, err := f.c.SetResources(context.Background(), backend, platform.ResourceRequest{Container: "nope", MemoryLimit: 1 << 30})
	if !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestEvictPodUsesTheEvictionAPI(t *testing.T) {
	f := newFixture(t, deployment("backend", 3), pod("backend-abc12-aaaaa", "backend"))
	if err := f.c.EvictPod(context.Background(), backend, "backend-abc12-aaaaa", true); err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); !equal(got, []string{"create pods/eviction"}) {
		t.Fatalf("writes = %v, want one eviction", got)
	}
	for _, a := range f.kube.Actions() {
		if c, ok := a.(k8stesting.CreateActionImpl); ok {
			ev := c.Object.(*policyv1.Eviction)
			if ev.Name != "backend-abc12-aaaaa" || ev.DeleteOptions == nil || len(ev.DeleteOptions.DryRun) != 1 ||
				ev.DeleteOptions.Preconditions == nil || *ev.DeleteOptions.Preconditions.UID != "uid-p-backend-abc12-aaaaa" {
				t.Errorf("eviction = %+v", ev)
			}
		}
	}
}

func TestEvictPodReportsADisruptionBudgetRefusal(t *testing.T) {
	f := newFixture(t, deployment("backend", 3), pod("backend-abc12-aaaaa", "backend"))
	f.kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
		err.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: policyv1.DisruptionBudgetCause, Message: "The disruption budget backend-pdb needs 3 healthy pods and has 3 currently"}}
		return true, nil, err
	})
	err := f.c.EvictPod(context.Background(), backend, "backend-abc12-aaaaa", false)
	if !errors.Is(err, platform.ErrDisruptionBudget) {
		t.Fatalf("err = %v, want ErrDisruptionBudget", err)
	}
	for _, a := range f.kube.Actions() {
		if a.GetVerb() == "delete" {
			t.Fatal("a refused eviction turned into a delete")
		}
	}
}

func TestEvictPodRefusesPodsOfOtherWorkloads(t *testing.T) {
	f := newFixture(t, deployment("backend", 3), pod("frontend-1", "frontend"))
	err := f.c.EvictPod(context.Background(), backend, "frontend-1", false)
	if !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if w := f.writes(); len(w) != 0 {
		t.Errorf("writes = %v, want none", w)
	}
}

// bump changes the stored deployment behind the adapter's back, at a new resourceVersion.
func bump(t *testing.T, f *fixture, rv string, fn func(*appsv1.Deployment)) {
	t.Helper()
	// Through the tracker, not the clientset: a reactor may call this.
	obj, err := f.kube.Tracker().Get(appsv1.SchemeGroupVersion.WithResource("deployments"), testNS, "backend")
	if err != nil {
		t.Fatal(err)
	}
	d := obj.(*appsv1.Deployment).DeepCopy()
	fn(d)
	d.ResourceVersion = rv
	if err := f.kube.Tracker().Update(appsv1.SchemeGroupVersion.WithResource("deployments"), d, testNS); err != nil {
		t.Fatal(err)
	}
}

func TestScaleAfterAChangeSinceTheRead(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*appsv1.Deployment)
		conflict bool
	}{
		{"status only: the decision still holds", func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 1 }, false},
		{"spec changed", func(d *appsv1.Deployment) { d.Generation++ }, true},
		{"annotation added", func(d *appsv1.Deployment) { d.Annotations = map[string]string{"ops-skill/opt-out": "true"} }, true},
		{"label changed", func(d *appsv1.Deployment) { d.Labels = map[string]string{"tier": "x"} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, deployment("backend", 3))
			w, err := f.c.GetWorkload(context.Background(), backend)
			if err != nil {
				t.Fatal(err)
			}
			bump(t, f, "101", tt.change)
			_, err = f.c.Scale(context.Background(), backend, platform.ScaleRequest{Replicas: 4, ExpectedVersion: w.ResourceVersion})
			if got := errors.Is(err, platform.ErrConflict); got != tt.conflict {
				t.Fatalf("err = %v, conflict %v, want %v", err, got, tt.conflict)
			}
			if tt.conflict {
				if len(f.writes()) != 0 {
					t.Error("a conflicting scale was written")
				}
				return
			}
			if d := f.lastUpdate(t).(*appsv1.Deployment); d.ResourceVersion != "101" {
				t.Errorf("the update carried resourceVersion %q, want the current 101", d.ResourceVersion)
			}
		})
	}
}

func TestScaleWithAVersionThisClientNeverReadMustMatch(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	bump(t, f, "101", func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 1 })
	_, err := f.c.Scale(context.Background(), backend, platform.ScaleRequest{Replicas: 4, ExpectedVersion: "100"})
	if !errors.Is(err, platform.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
}

func TestScaleRetriesAConflictWithAStatusWrite(t *testing.T) {
	f := newFixture(t, deployment("backend", 3))
	w, err := f.c.GetWorkload(context.Background(), backend)
	if err != nil {
		t.Fatal(err)
	}
	lost := false
	f.kube.PrependReactor("update", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		if lost {
			return false, nil, nil
		}
		lost = true // a controller wrote the status between our read and our update
		bump(t, f, "101", func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 2 })
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "backend", errors.New("modified"))
	})
	if _, err := f.c.Scale(context.Background(), backend, platform.ScaleRequest{Replicas: 4, ExpectedVersion: w.ResourceVersion}); err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); len(got) != 2 {
		t.Errorf("writes = %v, want the lost update and its retry", got)
	}
}
