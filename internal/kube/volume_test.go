package kube

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

var redisClaim = platform.VolumeRef{Namespace: testNS, Name: "data-redis-0"}

func storageClass(name string, expand bool) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: "kubernetes.io/no-provisioner", AllowVolumeExpansion: &expand}
}

// claimOf is a bound claim of the given class and size.
func claimOf(class, size string, mutate ...func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
	q := resource.MustParse(size)
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data-redis-0", Namespace: testNS, ResourceVersion: "40"},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class, VolumeName: "pv-redis",
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: q}}},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Capacity: corev1.ResourceList{corev1.ResourceStorage: q}},
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

func TestGetVolumeReadsTheClaimAndItsClass(t *testing.T) {
	resizing := func(c *corev1.PersistentVolumeClaim) {
		c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("15Gi")
		c.Status.Conditions = []corev1.PersistentVolumeClaimCondition{{Type: corev1.PersistentVolumeClaimFileSystemResizePending, Status: corev1.ConditionTrue},
			{Type: corev1.PersistentVolumeClaimResizing, Status: corev1.ConditionFalse}}
		c.Status.AllocatedResourceStatuses = map[corev1.ResourceName]corev1.ClaimResourceStatus{corev1.ResourceStorage: corev1.PersistentVolumeClaimNodeResizePending}
	}
	f := newFixture(t, claimOf("standard-rwo", "10Gi", resizing), storageClass("standard-rwo", true))
	v, err := f.c.GetVolume(context.Background(), redisClaim)
	if err != nil {
		t.Fatal(err)
	}
	if v.StorageClass != "standard-rwo" || !v.AllowExpansion || v.ClassProblem != "" || v.Phase != platform.VolumeBound ||
		v.Requested != 15<<30 || v.Capacity != 10<<30 || v.ResizeStatus != "NodeResizePending" || v.ResourceVersion != "40" {
		t.Errorf("volume %+v", v)
	}
	if len(v.Conditions) != 1 || v.Conditions[0].Type != platform.VolumeFileSystemResizePending {
		t.Errorf("conditions %+v, want only the true one", v.Conditions)
	}
}

// The class read may fail without failing the read of the claim: the
// problem is said, naming the fix when RBAC forbids it.
func TestGetVolumeSaysWhyTheClassIsUnknown(t *testing.T) {
	cases := []struct {
		name  string
		objs  []runtime.Object
		deny  bool
		class string
		want  string
	}{
		{"forbidden", []runtime.Object{claimOf("standard-rwo", "10Gi"), storageClass("standard-rwo", true)}, true, "standard-rwo",
			"ClusterRoleBinding " + StorageRBAC + " of deploy/rbac.yaml"},
		{"gone", []runtime.Object{claimOf("standard-rwo", "10Gi")}, false, "standard-rwo", "does not exist"},
		{"none named", []runtime.Object{claimOf("", "10Gi")}, false, "", "names no StorageClass"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.objs...)
			if c.deny {
				f.kube.PrependReactor("get", "storageclasses", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "storage.k8s.io", Resource: "storageclasses"}, c.class, errors.New("RBAC: access denied"))
				})
			}
			v, err := f.c.GetVolume(context.Background(), redisClaim)
			if err != nil || v.AllowExpansion || !strings.Contains(v.ClassProblem, c.want) || v.Requested != 10<<30 {
				t.Errorf("volume %+v, %v; want the claim and a class problem saying %q", v, err, c.want)
			}
		})
	}
}

func TestResizeVolumeUpdatesTheRequestWithTheStateAnnotation(t *testing.T) {
	f := newFixture(t, claimOf("standard-rwo", "10Gi"), storageClass("standard-rwo", true))
	v, err := f.c.GetVolume(context.Background(), redisClaim)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.c.ResizeVolume(context.Background(), redisClaim, platform.ResizeRequest{Size: 15 << 30, ExpectedVersion: v.ResourceVersion,
		Annotations: map[string]string{"ops-skill/state": `{"volBase":10737418240}`}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Requested != 15<<30 || got.Capacity != 10<<30 {
		t.Errorf("after the update %+v", got)
	}
	u := f.lastUpdate(t).(*corev1.PersistentVolumeClaim)
	if q := u.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "15Gi" || u.ResourceVersion != "40" ||
		u.Annotations["ops-skill/state"] != `{"volBase":10737418240}` {
		t.Errorf("update sent %s at resourceVersion %s with %v", q.String(), u.ResourceVersion, u.Annotations)
	}
	if w := f.writes(); !equal(w, []string{"update persistentvolumeclaims"}) {
		t.Errorf("writes %v", w)
	}
}

func TestResizeVolumeDryRunAsksTheServerNotToPersist(t *testing.T) {
	f := newFixture(t, claimOf("standard-rwo", "10Gi"))
	if _, err := f.c.ResizeVolume(context.Background(), redisClaim, platform.ResizeRequest{Size: 15 << 30, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.kube.Actions() {
		if u, ok := a.(k8stesting.UpdateActionImpl); ok && (len(u.UpdateOptions.DryRun) != 1 || u.UpdateOptions.DryRun[0] != metav1.DryRunAll) {
			t.Errorf("dryRun = %v, want [All]", u.UpdateOptions.DryRun)
		}
	}
}

func TestResizeVolumeRefusesAClaimChangedSinceItWasRead(t *testing.T) {
	f := newFixture(t, claimOf("standard-rwo", "12Gi"))
	_, err := f.c.ResizeVolume(context.Background(), redisClaim, platform.ResizeRequest{Size: 15 << 30, ExpectedVersion: "39"})
	if !errors.Is(err, platform.ErrConflict) || len(f.writes()) != 0 {
		t.Errorf("%v, writes %v; want ErrConflict before any write", err, f.writes())
	}
}

// A status write between the read and the update (the kubelet reporting
// the capacity) is retried: the claim the decision was made on is the same.
func TestResizeVolumeRetriesAConflictFromAStatusWrite(t *testing.T) {
	f := newFixture(t, claimOf("standard-rwo", "10Gi"))
	v, _ := f.c.GetVolume(context.Background(), redisClaim)
	conflicts := 1
	f.kube.PrependReactor("update", "persistentvolumeclaims", func(k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts == 0 {
			return false, nil, nil
		}
		conflicts--
		cur, _ := f.kube.Tracker().Get(schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, testNS, "data-redis-0")
		c := cur.(*corev1.PersistentVolumeClaim).DeepCopy()
		c.ResourceVersion = "41" // only the status moved on
		_ = f.kube.Tracker().Update(schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, c, testNS)
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "persistentvolumeclaims"}, "data-redis-0", errors.New("the object has been modified"))
	})
	if _, err := f.c.ResizeVolume(context.Background(), redisClaim, platform.ResizeRequest{Size: 15 << 30, ExpectedVersion: v.ResourceVersion}); err != nil {
		t.Fatalf("%v, want the retry to go through", err)
	}
}

// The API server's own refusal to resize (its admission plugin) is not an
// RBAC problem.
func TestResizeVolumeRefusedByTheAdmissionPluginIsUnsupported(t *testing.T) {
	f := newFixture(t, claimOf("standard", "10Gi"))
	f.kube.PrependReactor("update", "persistentvolumeclaims", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "persistentvolumeclaims"}, "data-redis-0",
			errors.New("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"))
	})
	_, err := f.c.ResizeVolume(context.Background(), redisClaim, platform.ResizeRequest{Size: 15 << 30})
	if !errors.Is(err, platform.ErrUnsupported) || errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "must support resize") {
		t.Errorf("%v, want ErrUnsupported with the server's reason", err)
	}
}
