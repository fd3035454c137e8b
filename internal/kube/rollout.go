package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Errors of WaitRollout.
var (
	// ErrRolloutTimeout means the rollout had not completed by the deadline.
	ErrRolloutTimeout = errors.New("rollout did not complete before the deadline")
	// ErrRolloutFailed means the Deployment reported ProgressDeadlineExceeded.
	ErrRolloutFailed = errors.New("rollout failed")
)

// RolloutStatus is the progress of a rollout, as `kubectl rollout status` reads it.
type RolloutStatus struct {
	Ref       platform.WorkloadRef `json:"ref"`
	Kind      string               `json:"kind"`
	Replicas  int32                `json:"replicas"`  // desired
	Updated   int32                `json:"updated"`   // on the newest template
	Ready     int32                `json:"ready"`     // ready, any template
	Available int32                `json:"available"` // available, any template
	Current   int32                `json:"current"`   // pods existing, any template
	Observed  bool                 `json:"observed"`  // the controller has seen the latest spec
	Done      bool                 `json:"done"`
	Failed    bool                 `json:"failed,omitempty"` // progress deadline exceeded
	Message   string               `json:"message"`
}

// WaitRollout polls the workload until its rollout completes, the timeout
// passes (ErrRolloutTimeout) or a Deployment reports that it exceeded its
// progress deadline (ErrRolloutFailed). progress, when not nil, is called
// with each status read. Time is read from the Client's clock.
func (c *Client) WaitRollout(ctx context.Context, ref platform.WorkloadRef, timeout time.Duration, progress func(RolloutStatus)) (RolloutStatus, error) {
	ref = c.ns(ref)
	deadline := c.clock.Now().Add(timeout)
	tick := c.clock.NewTicker(c.poll)
	defer tick.Stop()
	for {
		st, err := c.RolloutStatus(ctx, ref)
		if err != nil {
			return st, err
		}
		if progress != nil {
			progress(st)
		}
		switch {
		case st.Done:
			return st, nil
		case st.Failed:
			return st, fmt.Errorf("%s %s: %w: %s", st.Kind, ref, ErrRolloutFailed, st.Message)
		case !c.clock.Now().Before(deadline):
			return st, fmt.Errorf("%s %s after %s: %w: %s", st.Kind, ref, timeout, ErrRolloutTimeout, st.Message)
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("wait for the rollout of %s: %w", ref, context.Cause(ctx))
		case <-tick.C():
		}
	}
}

// RolloutStatus reads the rollout progress of a workload once.
func (c *Client) RolloutStatus(ctx context.Context, ref platform.WorkloadRef) (RolloutStatus, error) {
	ref = c.ns(ref)
	o, err := c.get(ctx, ref)
	if err != nil {
		return RolloutStatus{Ref: ref}, err
	}
	if o.dep != nil {
		return deploymentRollout(o.dep), nil
	}
	return statefulSetRollout(o.sts), nil
}

func deploymentRollout(d *appsv1.Deployment) RolloutStatus {
	st := RolloutStatus{Ref: platform.WorkloadRef{Namespace: d.Namespace, Name: d.Name}, Kind: KindDeployment,
		Replicas: object{dep: d}.replicas(), Updated: d.Status.UpdatedReplicas, Ready: d.Status.ReadyReplicas,
		Available: d.Status.AvailableReplicas, Current: d.Status.Replicas, Observed: d.Status.ObservedGeneration >= d.Generation}
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentProgressing && cond.Status == corev1.ConditionFalse && cond.Reason == "ProgressDeadlineExceeded" {
			st.Failed, st.Message = true, "the deployment exceeded its progress deadline: "+cond.Message
			return st
		}
	}
	switch {
	case !st.Observed:
		st.Message = "waiting for the deployment controller to observe the new spec"
	case st.Updated < st.Replicas:
		st.Message = fmt.Sprintf("%d of %d new replicas have been updated", st.Updated, st.Replicas)
	case st.Current > st.Updated:
		st.Message = fmt.Sprintf("%d old replicas are pending termination", st.Current-st.Updated)
	case st.Available < st.Updated:
		st.Message = fmt.Sprintf("%d of %d updated replicas are available", st.Available, st.Updated)
	default:
		st.Done, st.Message = true, fmt.Sprintf("successfully rolled out (%d/%d available)", st.Available, st.Replicas)
	}
	return st
}

func statefulSetRollout(s *appsv1.StatefulSet) RolloutStatus {
	st := RolloutStatus{Ref: platform.WorkloadRef{Namespace: s.Namespace, Name: s.Name}, Kind: KindStatefulSet,
		Replicas: object{sts: s}.replicas(), Updated: s.Status.UpdatedReplicas, Ready: s.Status.ReadyReplicas,
		Available: s.Status.AvailableReplicas, Current: s.Status.Replicas, Observed: s.Status.ObservedGeneration >= s.Generation}
	switch {
	case !st.Observed:
		st.Message = "waiting for the statefulset controller to observe the new spec"
	case st.Ready < st.Replicas:
		st.Message = fmt.Sprintf("%d of %d pods are ready", st.Ready, st.Replicas)
	case s.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && s.Status.UpdateRevision != s.Status.CurrentRevision:
		st.Message = fmt.Sprintf("%d of %d pods are on the new revision", st.Updated, st.Replicas)
	default:
		st.Done, st.Message = true, fmt.Sprintf("successfully rolled out (%d/%d ready)", st.Ready, st.Replicas)
	}
	return st
}
