package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/duet-company/ops-skill/internal/platform"
)

var _ platform.Volumes = (*Client)(nil)

// StorageRBAC names the ClusterRole (and its ClusterRoleBinding) of
// deploy/rbac.yaml that lets ops-skill read StorageClasses, which are
// cluster-scoped: a namespaced Role cannot grant it.
const StorageRBAC = "ops-skill-storage"

// GetVolume reads a PersistentVolumeClaim and whether its StorageClass
// allows expansion: two requests (the claim, then its class). A class that
// cannot be read (RBAC, gone, none named) is said in Volume.ClassProblem.
func (c *Client) GetVolume(ctx context.Context, ref platform.VolumeRef) (platform.Volume, error) {
	ref = c.vns(ref)
	pvc, err := c.getClaim(ctx, ref)
	if err != nil {
		return platform.Volume{}, err
	}
	v := volumeOf(pvc)
	return v, c.classOf(ctx, pvc, &v)
}

// ResizeVolume sets spec.resources.requests.storage of the claim and writes
// req.Annotations in the same Update, carrying the resourceVersion just
// read: one read and one write. When req.ExpectedVersion is set and the
// claim changed since then in more than its status, it fails with
// platform.ErrConflict before anything is written; a 409 caused by a status
// write between the read and the update is retried. DryRun asks the server
// to validate and admit the change (DryRun: All) without persisting it. The
// Volume returned is the claim as the server answered; its StorageClass is
// not read again (AllowExpansion false, ClassProblem empty).
func (c *Client) ResizeVolume(ctx context.Context, ref platform.VolumeRef, req platform.ResizeRequest) (platform.Volume, error) {
	if req.Size <= 0 {
		return platform.Volume{}, fmt.Errorf("resize persistentvolumeclaim %s: size %d must be positive", ref, req.Size)
	}
	ref = c.vns(ref)
	for attempt := 1; ; attempt++ {
		pvc, err := c.getClaim(ctx, ref)
		if err != nil {
			return platform.Volume{}, err
		}
		if exp := req.ExpectedVersion; exp != "" && pvc.ResourceVersion != exp && !c.claimUnchangedSince(exp, pvc) {
			return platform.Volume{}, fmt.Errorf("persistentvolumeclaim %s changed since it was read at resourceVersion %s (now %s): %w",
				ref, exp, pvc.ResourceVersion, platform.ErrConflict)
		}
		resized(pvc, req)
		got, err := c.updateClaim(ctx, pvc, req.DryRun)
		if errors.Is(err, platform.ErrConflict) && attempt < maxWriteAttempts {
			continue
		}
		if err != nil {
			return platform.Volume{}, err
		}
		return volumeOf(got), nil
	}
}

// resized sets the claim's requested size and annotations.
func resized(pvc *corev1.PersistentVolumeClaim, req platform.ResizeRequest) {
	if pvc.Spec.Resources.Requests == nil {
		pvc.Spec.Resources.Requests = corev1.ResourceList{}
	}
	pvc.Spec.Resources.Requests[corev1.ResourceStorage] = *resource.NewQuantity(req.Size, resource.BinarySI)
	for k, v := range req.Annotations {
		if pvc.Annotations == nil {
			pvc.Annotations = map[string]string{}
		}
		if v == "" {
			delete(pvc.Annotations, k)
			continue
		}
		pvc.Annotations[k] = v
	}
}

func (c *Client) getClaim(ctx context.Context, ref platform.VolumeRef) (*corev1.PersistentVolumeClaim, error) {
	pvc, err := c.kube.CoreV1().PersistentVolumeClaims(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, c.wrap(ctx, op{"get", "persistentvolumeclaims", ref.Namespace, ref.Name}, err)
	}
	c.rememberClaim(pvc)
	return pvc, nil
}

// updateClaim writes the claim back with the resourceVersion it carries. The
// API server's own refusal to resize (the PersistentVolumeClaimResize
// admission plugin: the class does not allow it) is platform.ErrUnsupported,
// not an RBAC denial.
func (c *Client) updateClaim(ctx context.Context, pvc *corev1.PersistentVolumeClaim, dryRun bool) (*corev1.PersistentVolumeClaim, error) {
	opts := metav1.UpdateOptions{FieldManager: FieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	what := op{"update", "persistentvolumeclaims", pvc.Namespace, pvc.Name}
	got, err := c.kube.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, pvc, opts)
	if apierrors.IsForbidden(err) && containsFold(statusMessage(err), "resize") {
		return nil, fmt.Errorf("%s: %w: the API server refuses to resize the claim: %s", what, platform.ErrUnsupported, statusMessage(err))
	}
	if err != nil {
		return nil, c.wrap(ctx, what, err)
	}
	if !dryRun {
		c.rememberClaim(got)
	}
	return got, nil
}

// classOf reads the claim's StorageClass (cluster-scoped) into v. A denied,
// missing or unnamed class is a ClassProblem; an unreachable server is an error.
func (c *Client) classOf(ctx context.Context, pvc *corev1.PersistentVolumeClaim, v *platform.Volume) error {
	name := v.StorageClass
	if name == "" {
		v.ClassProblem = "the claim names no StorageClass (a statically provisioned volume): nothing says it may be expanded"
		return nil
	}
	sc, err := c.kube.StorageV1().StorageClasses().Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		v.AllowExpansion = sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
	case ctx.Err() != nil:
		return c.wrap(ctx, op{"get", "storageclasses.storage.k8s.io", "", name}, err)
	case apierrors.IsForbidden(err):
		v.ClassProblem = fmt.Sprintf("the identity ops-skill runs as may not get storageclasses.storage.k8s.io %s, which is cluster-scoped: "+
			"apply the ClusterRole and ClusterRoleBinding %s of deploy/rbac.yaml (a namespaced Role cannot grant it)", name, StorageRBAC)
	case apierrors.IsNotFound(err):
		v.ClassProblem = fmt.Sprintf("the claim's StorageClass %s does not exist", name)
	default:
		return c.wrap(ctx, op{"get", "storageclasses.storage.k8s.io", "", name}, err)
	}
	return nil
}

// volumeOf renders a claim; the class's verdict is classOf's.
func volumeOf(pvc *corev1.PersistentVolumeClaim) platform.Volume {
	v := platform.Volume{
		Ref:         platform.VolumeRef{Namespace: pvc.Namespace, Name: pvc.Name},
		Phase:       string(pvc.Status.Phase),
		Annotations: copyMap(pvc.Annotations), ResourceVersion: pvc.ResourceVersion,
	}
	if pvc.Spec.StorageClassName != nil {
		v.StorageClass = *pvc.Spec.StorageClassName
	}
	if q, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		v.Requested = q.Value()
	}
	if q, ok := pvc.Status.Capacity[corev1.ResourceStorage]; ok {
		v.Capacity = q.Value()
	}
	if s, ok := pvc.Status.AllocatedResourceStatuses[corev1.ResourceStorage]; ok {
		v.ResizeStatus = string(s)
	}
	for _, cond := range pvc.Status.Conditions {
		if cond.Status == corev1.ConditionTrue {
			v.Conditions = append(v.Conditions, platform.VolumeCondition{Type: string(cond.Type), Reason: cond.Reason,
				Message: cond.Message, Since: cond.LastTransitionTime.Time})
		}
	}
	return v
}

func (c *Client) vns(ref platform.VolumeRef) platform.VolumeRef {
	if ref.Namespace == "" {
		ref.Namespace = c.namespace
	}
	return ref
}

// claimMark is the key under which a claim's reads are remembered, apart
// from the workloads'.
func claimMark(pvc *corev1.PersistentVolumeClaim) readMark {
	return readMark{platform.WorkloadRef{Namespace: pvc.Namespace, Name: "persistentvolumeclaim/" + pvc.Name}, pvc.ResourceVersion}
}

// claimFingerprint is what an expansion is decided on: the class, the
// volume, the requested size and the annotations (the guard's state).
func claimFingerprint(pvc *corev1.PersistentVolumeClaim) string {
	q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	keys := make([]string, 0, len(pvc.Annotations))
	for k := range pvc.Annotations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s", class, pvc.Spec.VolumeName, q.String())
	for _, k := range keys {
		fmt.Fprintf(&b, "|%s=%s", k, pvc.Annotations[k])
	}
	return b.String()
}

func (c *Client) rememberClaim(pvc *corev1.PersistentVolumeClaim) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.reads) > 4096 {
		clear(c.reads)
	}
	c.reads[claimMark(pvc)] = claimFingerprint(pvc)
}

// claimUnchangedSince reports whether the claim differs from what this
// client read at resourceVersion rv only in its status.
func (c *Client) claimUnchangedSince(rv string, pvc *corev1.PersistentVolumeClaim) bool {
	m := claimMark(pvc)
	m.rv = rv
	c.mu.Lock()
	fp, ok := c.reads[m]
	c.mu.Unlock()
	return ok && fp == claimFingerprint(pvc)
}
