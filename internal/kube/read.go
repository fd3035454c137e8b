package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/duet-company/ops-skill/internal/platform"
)

// GetWorkload reads a Deployment or StatefulSet with its pods (by the
// workload's selector), the autoscaler that owns its replicas (an HPA or a
// KEDA ScaledObject) and its recent events.
func (c *Client) GetWorkload(ctx context.Context, ref platform.WorkloadRef) (platform.Workload, error) {
	ref = c.ns(ref)
	o, err := c.get(ctx, ref)
	if err != nil {
		return platform.Workload{}, err
	}
	return c.describe(ctx, o)
}

// describe completes the object's view with pods, ownership and events, read
// in parallel.
func (c *Client) describe(ctx context.Context, o object) (platform.Workload, error) {
	w := o.workload()
	var (
		wg                    sync.WaitGroup
		podErr, ownErr, evErr error
		pods                  podList
		owner                 string
		events                []corev1.Event
	)
	wg.Add(3)
	go func() { defer wg.Done(); pods, podErr = c.pods(ctx, w.Ref.Namespace, o.selector()) }()
	go func() { defer wg.Done(); events, evErr = c.eventList(ctx, w.Ref.Namespace) }()
	go func() { defer wg.Done(); owner, ownErr = c.autoscaler(ctx, w.Ref, w.Kind) }()
	wg.Wait()
	if err := errors.Join(podErr, ownErr, evErr); err != nil {
		return platform.Workload{}, fmt.Errorf("describe %s %s: %w", w.Kind, w.Ref, err)
	}
	w.Pods, w.AutoscaledBy = pods.view(), owner
	w.Events = c.recentEvents(events, eventNames(w.Ref.Name, pods))
	return w, nil
}

// ListWorkloads lists the Deployments and StatefulSets of a namespace (the
// default one when empty), sorted by name, without pods or events.
func (c *Client) ListWorkloads(ctx context.Context, namespace string) ([]platform.Workload, error) {
	if namespace == "" {
		namespace = c.namespace
	}
	deps, err := c.kube.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, c.wrap(ctx, op{"list", "deployments.apps", namespace, ""}, err)
	}
	stss, err := c.kube.AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, c.wrap(ctx, op{"list", "statefulsets.apps", namespace, ""}, err)
	}
	out := make([]platform.Workload, 0, len(deps.Items)+len(stss.Items))
	for i := range deps.Items {
		out = append(out, object{dep: &deps.Items[i]}.workload())
	}
	for i := range stss.Items {
		out = append(out, object{sts: &stss.Items[i]}.workload())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.Name < out[j].Ref.Name })
	return out, nil
}
