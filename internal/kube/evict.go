package kube

import (
	"context"
	"fmt"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/duet-company/ops-skill/internal/platform"
)

// EvictPod asks the Eviction API (policy/v1) to evict one pod of the
// workload, so its controller replaces it while PodDisruptionBudgets are
// honoured. A refusal by a budget is platform.ErrDisruptionBudget; the pod is
// never deleted directly. A pod that the workload's selector does not match
// is platform.ErrNotFound: ops-skill only evicts pods of the named workload.
func (c *Client) EvictPod(ctx context.Context, ref platform.WorkloadRef, pod string, dryRun bool) error {
	ref = c.ns(ref)
	o, err := c.get(ctx, ref)
	if err != nil {
		return err
	}
	p, err := c.kube.CoreV1().Pods(ref.Namespace).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return c.wrap(ctx, op{"get", "pods", ref.Namespace, pod}, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(o.selector())
	if err != nil || sel.String() == "" || !sel.Matches(labels.Set(p.Labels)) {
		return fmt.Errorf("pod %s is not a pod of %s %s: %w", pod, o.kind(), ref, platform.ErrNotFound)
	}
	ev := &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Name: pod, Namespace: ref.Namespace},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}},
	}
	if dryRun {
		ev.DeleteOptions.DryRun = []string{metav1.DryRunAll}
	}
	err = c.kube.PolicyV1().Evictions(ref.Namespace).Evict(ctx, ev)
	if isDisruptionBudget(err) {
		return fmt.Errorf("evict pod %s of %s: %w: %s", pod, ref, platform.ErrDisruptionBudget, statusMessage(err))
	}
	return c.wrap(ctx, op{"create", "pods/eviction", ref.Namespace, pod}, err)
}
