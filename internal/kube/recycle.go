package kube

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/platform"
)

// RevisionLabel is the label the StatefulSet controller puts on each pod:
// the name of the ControllerRevision the pod was created from.
const RevisionLabel = appsv1.ControllerRevisionHashLabelKey

// observeTimeout bounds the wait for the StatefulSet controller to observe
// a new pod template (it takes milliseconds when the controller runs).
const observeTimeout = 30 * time.Second

// RecycleStalledPods deletes the pods of a StatefulSet that are not ready
// and not on its update revision, after its pod template changed: the
// controller (OrderedReady) waits for them to become ready before it
// replaces any pod, which a crash-looping pod never does, and recreates a
// deleted pod at the update revision (Kubernetes' "forced rollback"). It
// first waits, at most observeTimeout, for the controller to observe the
// current spec, so that the update revision is the new template's. Each
// delete carries the pod's UID and resourceVersion as preconditions, so a
// pod that became ready since it was read is never deleted (on a conflict
// the pod is read and judged again). At most req.Max pods are deleted; the
// others are in Left. A Deployment has nothing to recycle.
func (c *Client) RecycleStalledPods(ctx context.Context, ref platform.WorkloadRef, req platform.RecycleRequest) (platform.RecycleResult, error) {
	ref = c.ns(ref)
	sts, err := c.observedStatefulSet(ctx, ref, req.DryRun)
	if err != nil || sts == nil {
		return platform.RecycleResult{}, err
	}
	pods, err := c.pods(ctx, ref.Namespace, sts.Spec.Selector)
	if err != nil {
		return platform.RecycleResult{}, err
	}
	// A dry run changed no template: every pod would be on an old revision.
	revision := sts.Status.UpdateRevision
	if req.DryRun {
		revision = ""
	}
	todo, left := stalled(pods, revision, req.Max)
	res := platform.RecycleResult{Left: left}
	for _, p := range todo {
		deleted, err := c.deleteStalled(ctx, p, revision, req.DryRun)
		if err != nil {
			return res, fmt.Errorf("recycle pod %s of StatefulSet %s: %w (recycled before the failure: %v)", p.Name, ref, err, res.Recycled)
		}
		if deleted {
			res.Recycled = append(res.Recycled, p.Name)
		}
	}
	return res, nil
}

// observedStatefulSet reads the workload until its controller has observed
// its current spec (a dry run does not wait: nothing changed); nil for a
// Deployment.
func (c *Client) observedStatefulSet(ctx context.Context, ref platform.WorkloadRef, dryRun bool) (*appsv1.StatefulSet, error) {
	deadline := c.clock.Now().Add(observeTimeout)
	var tick clock.Ticker
	for {
		o, err := c.get(ctx, ref)
		if err != nil {
			return nil, err
		}
		s := o.sts
		if s == nil || dryRun || (s.Status.ObservedGeneration >= s.Generation && s.Status.UpdateRevision != "") {
			return s, nil
		}
		if !c.clock.Now().Before(deadline) {
			return nil, fmt.Errorf("StatefulSet %s: the controller has not observed generation %d after %s (observed %d): %w",
				ref, s.Generation, observeTimeout, s.Status.ObservedGeneration, ErrRolloutTimeout)
		}
		if tick == nil {
			tick = c.clock.NewTicker(c.poll)
			defer tick.Stop()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the StatefulSet controller to observe %s: %w", ref, context.Cause(ctx))
		case <-tick.C():
		}
	}
}

// stalled picks, of a StatefulSet's pods sorted by name, those a rollout to
// revision cannot replace by itself: not terminating, not ready and created
// from another revision (an empty revision: any). The first max are to
// delete; the names of the rest are left.
func stalled(pods podList, revision string, max int) (todo []corev1.Pod, left []string) {
	for i := range pods {
		if !isStalled(&pods[i], revision) {
			continue
		}
		if len(todo) < max {
			todo = append(todo, pods[i])
			continue
		}
		left = append(left, pods[i].Name)
	}
	return todo, left
}

func isStalled(p *corev1.Pod, revision string) bool {
	return p.DeletionTimestamp == nil && !podReady(p) && (revision == "" || p.Labels[RevisionLabel] != revision)
}

// deleteStalled deletes one stalled pod, on the condition that it is still
// the pod read, as it was read. A conflict (the kubelet wrote its status
// since) reads it again: still stalled, the delete is retried; otherwise it
// is left (false). A pod already gone is not counted.
func (c *Client) deleteStalled(ctx context.Context, p corev1.Pod, revision string, dryRun bool) (bool, error) {
	for attempt := 1; ; attempt++ {
		uid, rv := p.UID, p.ResourceVersion
		opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		err := c.kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, opts)
		switch {
		case err == nil:
			return true, nil
		case apierrors.IsNotFound(err):
			return false, nil
		case !apierrors.IsConflict(err) || attempt >= maxWriteAttempts:
			return false, c.wrap(ctx, op{"delete", "pods", p.Namespace, p.Name}, err)
		}
		cur, err := c.kube.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, c.wrap(ctx, op{"get", "pods", p.Namespace, p.Name}, err)
		}
		if cur.UID != uid || !isStalled(cur, revision) {
			return false, nil
		}
		p = *cur
	}
}
