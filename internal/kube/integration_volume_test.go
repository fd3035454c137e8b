//go:build integration

package kube_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// storageClass creates a cluster-scoped StorageClass for the test, without a
// provisioner: its volumes are created by the test, as an administrator
// creates static ones.
func (c *cluster) storageClass(suffix string, expand bool) string {
	c.t.Helper()
	name := c.ns + "-" + suffix
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: "kubernetes.io/no-provisioner", AllowVolumeExpansion: &expand}
	if _, err := c.admin.StorageV1().StorageClasses().Create(context.Background(), sc, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		_ = c.admin.StorageV1().StorageClasses().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

// boundClaim creates a hostPath PersistentVolume and a claim pre-bound to
// each other (claimRef and volumeName), which the PV controller binds
// without a provisioner, and waits until the claim is Bound.
func (c *cluster) boundClaim(claim, class, size string) {
	c.t.Helper()
	ctx := context.Background()
	q, pv := resource.MustParse(size), c.ns+"-"+claim
	vol := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: pv},
		Spec: corev1.PersistentVolumeSpec{StorageClassName: class, Capacity: corev1.ResourceList{corev1.ResourceStorage: q},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/ops-skill-it/" + pv}},
			ClaimRef:               &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: c.ns, Name: claim}}}
	if _, err := c.admin.CoreV1().PersistentVolumes().Create(ctx, vol, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		_ = c.admin.CoreV1().PersistentVolumes().Delete(context.Background(), pv, metav1.DeleteOptions{})
	})
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: c.ns},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class, VolumeName: pv,
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: q}}}}
	if _, err := c.admin.CoreV1().PersistentVolumeClaims(c.ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	start := time.Now()
	waitFor(c.t, 60*time.Second, func() bool {
		got, err := c.admin.CoreV1().PersistentVolumeClaims(c.ns).Get(ctx, claim, metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.ClaimBound
	})
	c.t.Logf("claim %s Bound by the PV controller after %s", claim, time.Since(start).Round(time.Millisecond))
}

func (c *cluster) claim(name string) *corev1.PersistentVolumeClaim {
	c.t.Helper()
	pvc, err := c.admin.CoreV1().PersistentVolumeClaims(c.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return pvc
}

func requested(pvc *corev1.PersistentVolumeClaim) string {
	q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	return q.String()
}

func volumeRegistry(c *cluster, v platform.Volumes) *tools.Registry {
	pol := policy(c.ns)
	pol.Volumes = guard.DefaultVolumePolicy()
	return tools.NewRegistry(tools.Deps{Volumes: v, Clock: clocktesting.NewFakeClock(time.Now()), Policy: pol})
}

func vargs(ns, claim, extra string) string {
	return wargs(platform.WorkloadRef{Namespace: ns, Name: claim}, extra)
}

// expandVolume on real claims and StorageClasses: refused on a class that
// does not allow expansion (by the guard, and by the API server's admission
// when the guard is bypassed), a server-side dry run in observe mode, and on
// an expandable class the claim's spec updated, clamped to +50%, with the
// guard's state annotated in the same update. No controller resizes these
// hostPath volumes, so the capacity stays as it was, and the result says so.
func TestExpandVolumeOnRealClaims(t *testing.T) {
	c := newCluster(t)
	expandable, fixed := c.storageClass("expandable", true), c.storageClass("fixed", false)
	c.boundClaim("data-app-0", expandable, "1Gi")
	c.boundClaim("data-fixed-0", fixed, "1Gi")
	a, k := c.adapter(c.conn.Config)
	reg := volumeRegistry(c, a)
	ctx := context.Background()

	k.reset()
	o := call(ctx, reg, autoRun(), "getVolume", vargs(c.ns, "data-app-0", ""))
	mustStatus(t, o, tools.StatusOK)
	t.Logf("getVolume: %d API requests %q", len(k.reset()), o.Summary)
	if v := o.Result.(tools.VolumeStatus); !v.AllowExpansion || v.StorageClass != expandable || v.Requested != "1Gi" || v.Capacity != "1Gi" ||
		v.Phase != platform.VolumeBound || v.Expansion != tools.ExpansionComplete || v.UsageKnown() {
		t.Errorf("volume %+v", v)
	}

	o = call(ctx, reg, autoRun(), "expandVolume", vargs(c.ns, "data-fixed-0", `"size":"2Gi"`))
	if o.Status != tools.StatusRefused || o.Rule != guard.RuleVolumeExpansionDisabled || !strings.Contains(o.Reason, fixed) {
		t.Errorf("fixed class: %s %s %q", o.Status, o.Rule, o.Reason)
	}
	reqs := k.reset()
	t.Logf("refused expansion: %d API requests %q", len(reqs), reqs)
	_, err := a.ResizeVolume(ctx, platform.VolumeRef{Namespace: c.ns, Name: "data-fixed-0"}, platform.ResizeRequest{Size: 2 << 30})
	if !errors.Is(err, platform.ErrUnsupported) || errors.Is(err, kube.ErrForbidden) {
		t.Errorf("the API server's own refusal: %v, want ErrUnsupported", err)
	}
	if got := requested(c.claim("data-fixed-0")); got != "1Gi" {
		t.Errorf("the fixed claim requests %s, want 1Gi kept", got)
	}

	before := c.claim("data-app-0")
	k.reset()
	o = call(ctx, reg, tools.NewRun(1, guard.ModeObserve, nil, guard.DefaultMaxWrites), "expandVolume", vargs(c.ns, "data-app-0", `"size":"1536Mi"`))
	mustStatus(t, o, tools.StatusDryRun)
	reqs = k.reset()
	t.Logf("dry run: %d API requests %q", len(reqs), reqs)
	if after := c.claim("data-app-0"); after.ResourceVersion != before.ResourceVersion || requested(after) != "1Gi" {
		t.Errorf("the dry run changed the claim: %s at %s", requested(after), after.ResourceVersion)
	}

	o = call(ctx, reg, autoRun(), "expandVolume", vargs(c.ns, "data-app-0", `"size":"2Gi","reason":"it"`))
	mustStatus(t, o, tools.StatusExecuted)
	reqs = k.reset()
	t.Logf("expansion: %d API requests %q", len(reqs), reqs)
	res := o.Result.(tools.ExpandResult)
	if o.Rule != guard.RuleVolumeGrowth || res.From != "1Gi" || res.To != "1.5Gi" || res.Capacity != "1Gi" ||
		res.Expansion != tools.ExpansionPending || !strings.Contains(res.Note, "has not grown yet") {
		t.Errorf("rule %s, result %+v", o.Rule, res)
	}
	after := c.claim("data-app-0")
	if requested(after) != "1536Mi" || !strings.Contains(after.Annotations[guard.StateAnnotation], `"volBase":1073741824`) {
		t.Errorf("claim requests %s with state %q, want 1536Mi and the baseline", requested(after), after.Annotations[guard.StateAnnotation])
	}
	// `kubectl describe pvc` tells of it: an Event regarding the claim.
	const told = "PersistentVolumeClaim/data-app-0 SuccessfulExpansion: ops-skill: new size 1.5Gi (was 1Gi); reason: requested 2.0 GiB, but"
	if evs := c.opsEvents(); !slices.ContainsFunc(evs, func(e string) bool { return strings.HasPrefix(e, told) }) {
		t.Errorf("ops-skill's events %q, want the expansion's on the claim", evs)
	}
	// The same incident cannot grow it further; the baseline is on the claim.
	o = call(ctx, volumeRegistry(c, a), autoRun(), "expandVolume", vargs(c.ns, "data-app-0", `"size":"2Gi"`))
	if o.Status != tools.StatusRefused || o.Rule != guard.RuleVolumeGrowth {
		t.Errorf("second expansion: %s %s %q", o.Status, o.Rule, o.Reason)
	}
}

// Under deploy/rbac.yaml the tools read the class and expand; without its
// ClusterRole (StorageClasses are cluster-scoped) the claim is still read,
// and every expansion is refused, saying which ClusterRole to apply.
func TestExpandVolumeNeedsTheStorageClusterRole(t *testing.T) {
	for _, withClusterRole := range []bool{true, false} {
		name := map[bool]string{true: "deployed RBAC", false: "without the ClusterRole"}[withClusterRole]
		t.Run(name, func(t *testing.T) {
			c := newCluster(t)
			class := c.storageClass("expandable", true)
			c.boundClaim("data-app-0", class, "1Gi")
			c.applyRBACBound(nil, withClusterRole)
			a, _ := c.adapter(c.asServiceAccount("ops-skill"))
			missing, err := a.MissingPermissions(context.Background(), c.ns)
			if err != nil || (withClusterRole && len(missing) != 0) || (!withClusterRole && (len(missing) != 1 || !missing[0].Cluster)) {
				t.Fatalf("missing permissions %v, %v", missing, err)
			}
			reg := volumeRegistry(c, a)
			ctx := context.Background()
			v := call(ctx, reg, autoRun(), "getVolume", vargs(c.ns, "data-app-0", ""))
			mustStatus(t, v, tools.StatusOK)
			o := call(ctx, reg, autoRun(), "expandVolume", vargs(c.ns, "data-app-0", `"size":"1536Mi"`))
			if withClusterRole {
				mustStatus(t, o, tools.StatusExecuted)
				return
			}
			vs := v.Result.(tools.VolumeStatus)
			if vs.Requested != "1Gi" || !strings.Contains(vs.ClassProblem, "ClusterRole and ClusterRoleBinding "+kube.StorageRBAC) {
				t.Errorf("getVolume %+v", vs)
			}
			if o.Status != tools.StatusRefused || o.Rule != guard.RuleVolumeClassUnknown || !strings.Contains(o.Reason, "deploy/rbac.yaml") {
				t.Errorf("expansion: %s %s %q, want refused naming the ClusterRole", o.Status, o.Rule, o.Reason)
			}
		})
	}
}
