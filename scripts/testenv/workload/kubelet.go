package main

import (
	"context"
	"log"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kubelet plays the part of the kubelet kwok does not: a container the
// model OOM-kills gets, in the pod's status on the API server, the restart
// count the model counted, a last termination OOMKilled (exit 137) and a
// CrashLoopBackOff wait, and the pod is not ready, as a kubelet reports it.
// (kwok's pod-ready stage only acts on Pending pods, so it leaves this be.)
type kubelet struct {
	cs    kubernetes.Interface
	model *Model
	watch *watcher
	every time.Duration
}

func (k *kubelet) run(ctx context.Context) {
	t := time.NewTicker(k.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, o := range k.model.OOMKilled(k.watch.snapshot(), time.Now()) {
				if err := k.report(ctx, o); err != nil {
					log.Printf("report OOM of %s/%s: %v", o.Namespace, o.Pod, err) // retried on the next tick
				}
			}
		}
	}
}

func (k *kubelet) report(ctx context.Context, o OOM) error {
	p, err := k.watch.pods.Pods(o.Namespace).Get(o.Pod)
	if err != nil {
		return err
	}
	p = p.DeepCopy()
	now := metav1.Now()
	changed := false
	found := false
	for i := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[i]
		if cs.Name != o.Container {
			continue
		}
		found = true
		if cs.RestartCount < o.Restarts {
			cs.RestartCount = o.Restarts
			cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled",
				StartedAt: metav1.NewTime(now.Add(-OOMEvery)), FinishedAt: now}}
			changed = true
		}
		// Between kills the container waits in back-off, not ready.
		if cs.State.Waiting == nil || cs.Ready {
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: "back-off restarting failed container " + o.Container}}
			cs.Ready, cs.Started = false, ptrFalse()
			changed = true
		}
	}
	for i := range p.Status.Conditions {
		c := &p.Status.Conditions[i]
		if (c.Type == corev1.PodReady || c.Type == corev1.ContainersReady) && c.Status != corev1.ConditionFalse {
			c.Status, c.Reason, c.LastTransitionTime = corev1.ConditionFalse, "ContainersNotReady", now
			changed = true
		}
	}
	if !found {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: o.Container, RestartCount: o.Restarts,
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled", FinishedAt: now}}})
		changed = true
	}
	if !changed {
		return nil
	}
	_, err = k.cs.CoreV1().Pods(o.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}

func ptrFalse() *bool { f := false; return &f }
