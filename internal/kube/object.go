package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/duet-company/ops-skill/internal/platform"
)

// object is a Deployment or a StatefulSet, seen through what ops-skill reads
// and writes of both.
type object struct {
	dep *appsv1.Deployment
	sts *appsv1.StatefulSet
}

func (o object) kind() string {
	if o.dep != nil {
		return KindDeployment
	}
	return KindStatefulSet
}

func (o object) resource() string {
	if o.dep != nil {
		return "deployments.apps"
	}
	return "statefulsets.apps"
}

func (o object) meta() *metav1.ObjectMeta {
	if o.dep != nil {
		return &o.dep.ObjectMeta
	}
	return &o.sts.ObjectMeta
}

func (o object) template() *corev1.PodTemplateSpec {
	if o.dep != nil {
		return &o.dep.Spec.Template
	}
	return &o.sts.Spec.Template
}

func (o object) selector() *metav1.LabelSelector {
	if o.dep != nil {
		return o.dep.Spec.Selector
	}
	return o.sts.Spec.Selector
}

// replicas is the desired count; unset means 1, as the API defaults it.
func (o object) replicas() int32 {
	var p *int32
	if o.dep != nil {
		p = o.dep.Spec.Replicas
	} else {
		p = o.sts.Spec.Replicas
	}
	if p == nil {
		return 1
	}
	return *p
}

func (o object) setReplicas(n int32) {
	if o.dep != nil {
		o.dep.Spec.Replicas = &n
		return
	}
	o.sts.Spec.Replicas = &n
}

func (o object) paused() bool { return o.dep != nil && o.dep.Spec.Paused }

// counts returns the ready, updated and available replicas of the status.
func (o object) counts() (ready, updated, available int32) {
	if o.dep != nil {
		s := o.dep.Status
		return s.ReadyReplicas, s.UpdatedReplicas, s.AvailableReplicas
	}
	s := o.sts.Status
	return s.ReadyReplicas, s.UpdatedReplicas, s.AvailableReplicas
}

// annotate merges annotations into the object's metadata.
func (o object) annotate(a map[string]string) {
	if len(a) == 0 {
		return
	}
	m := o.meta()
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	for k, v := range a {
		m.Annotations[k] = v
	}
}

// fingerprint identifies what a decision about the workload reads of it
// besides its status: the spec (through the generation the API server bumps
// on every spec change), the UID, labels, annotations and deletion.
func (o object) fingerprint() string {
	m := o.meta()
	b, _ := json.Marshal(struct {
		UID         string
		Generation  int64
		Labels      map[string]string
		Annotations map[string]string
		Deleting    bool
	}{string(m.UID), m.Generation, m.Labels, m.Annotations, m.DeletionTimestamp != nil})
	return string(b)
}

// get reads the workload, trying the kind last seen first, then Deployment,
// then StatefulSet.
func (c *Client) get(ctx context.Context, ref platform.WorkloadRef) (object, error) {
	kinds := []string{KindDeployment, KindStatefulSet}
	if id, _ := c.known(ref); id.kind == KindStatefulSet {
		kinds = []string{KindStatefulSet, KindDeployment}
	}
	for _, k := range kinds {
		o, err := c.getKind(ctx, ref, k)
		if errors.Is(err, platform.ErrNotFound) {
			continue
		}
		if err != nil {
			return object{}, err
		}
		c.remember(o)
		return o, nil
	}
	return object{}, fmt.Errorf("no Deployment or StatefulSet named %q in namespace %s: %w", ref.Name, ref.Namespace, platform.ErrNotFound)
}

func (c *Client) getKind(ctx context.Context, ref platform.WorkloadRef, kind string) (object, error) {
	if kind == KindDeployment {
		d, err := c.kube.AppsV1().Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		return object{dep: d}, c.wrap(ctx, op{"get", "deployments.apps", ref.Namespace, ref.Name}, err)
	}
	s, err := c.kube.AppsV1().StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	return object{sts: s}, c.wrap(ctx, op{"get", "statefulsets.apps", ref.Namespace, ref.Name}, err)
}

// update writes the whole object back with the resourceVersion it carries,
// so a concurrent change makes it fail with platform.ErrConflict.
func (c *Client) update(ctx context.Context, o object, dryRun bool) (object, error) {
	opts := metav1.UpdateOptions{FieldManager: FieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	m := o.meta()
	what := op{"update", o.resource(), m.Namespace, m.Name}
	var (
		got object
		err error
	)
	if o.dep != nil {
		got.dep, err = c.kube.AppsV1().Deployments(m.Namespace).Update(ctx, o.dep, opts)
	} else {
		got.sts, err = c.kube.AppsV1().StatefulSets(m.Namespace).Update(ctx, o.sts, opts)
	}
	if err != nil {
		return object{}, c.wrap(ctx, what, err)
	}
	if !dryRun {
		c.remember(got)
	}
	return got, nil
}

// workload renders the object itself, without pods, events or ownership.
func (o object) workload() platform.Workload {
	m := o.meta()
	ready, updated, available := o.counts()
	w := platform.Workload{
		Ref:  platform.WorkloadRef{Namespace: m.Namespace, Name: m.Name},
		Kind: o.kind(), Replicas: o.replicas(),
		ReadyReplicas: ready, UpdatedReplicas: updated, AvailableReplicas: available,
		Paused:          o.paused(),
		Annotations:     copyMap(m.Annotations),
		ResourceVersion: m.ResourceVersion,
		Generation:      m.Generation,
		Pods:            []platform.Pod{},
	}
	for _, ct := range o.template().Spec.Containers {
		w.Containers = append(w.Containers, containerOf(ct))
	}
	return w
}

func containerOf(ct corev1.Container) platform.Container {
	out := platform.Container{Name: ct.Name}
	if q, ok := ct.Resources.Requests[corev1.ResourceCPU]; ok {
		out.CPURequestM = q.MilliValue()
	}
	if q, ok := ct.Resources.Limits[corev1.ResourceCPU]; ok {
		out.CPULimitM = q.MilliValue()
	}
	if q, ok := ct.Resources.Requests[corev1.ResourceMemory]; ok {
		out.MemoryRequest = q.Value()
	}
	if q, ok := ct.Resources.Limits[corev1.ResourceMemory]; ok {
		out.MemoryLimit = q.Value()
	}
	return out
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
