package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/duet-company/ops-skill/internal/platform"
)

// maxOwnerHops bounds an ownerReferences chain (pod → ReplicaSet →
// Deployment is two): a longer one is a loop or a controller we do not know.
const maxOwnerHops = 4

// Resolve finds the workload an alert's object belongs to, through the API
// server's own records: a pod's ownerReferences (ReplicaSet → Deployment,
// StatefulSet, DaemonSet, Job), the pods that mount a PVC, an HPA's
// scaleTargetRef, the workload a Service's selector picks, a node's pods.
func (c *Client) Resolve(ctx context.Context, ref platform.ObjectRef) (platform.Resolution, error) {
	res := platform.Resolution{Object: ref, Via: []string{ref.String()}}
	var err error
	switch ref.Kind {
	case platform.ObjectPod:
		err = c.resolvePod(ctx, ref.Namespace, ref.Name, &res)
	case platform.ObjectDeployment, platform.ObjectStatefulSet, platform.ObjectDaemonSet, platform.ObjectWorkload:
		err = c.resolveWorkload(ctx, ref, &res)
	case platform.ObjectJob:
		err = c.resolveOwned(ctx, ref.Namespace, metav1.OwnerReference{APIVersion: "batch/v1", Kind: "Job", Name: ref.Name}, &res, 0)
	case platform.ObjectPVC:
		err = c.resolvePVC(ctx, ref, &res)
	case platform.ObjectHPA:
		err = c.resolveHPA(ctx, ref, &res)
	case platform.ObjectService:
		err = c.resolveService(ctx, ref, &res)
	case platform.ObjectNode:
		err = c.resolveNode(ctx, ref.Name, &res)
	default:
		return res, fmt.Errorf("resolve %s: %w: no workload to resolve a %q to", ref, platform.ErrNotFound, ref.Kind)
	}
	return res, err
}

func (c *Client) resolvePod(ctx context.Context, ns, name string, res *platform.Resolution) error {
	p, err := c.kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return c.wrap(ctx, op{"get", "pods", ns, name}, err)
	}
	res.Pods = []string{p.Name}
	owner := metav1.GetControllerOf(p)
	if owner == nil {
		return nil // a bare pod: no controller to act on
	}
	return c.resolveOwned(ctx, ns, *owner, res, 0)
}

// resolveOwned follows a controller reference to the workload at its top.
func (c *Client) resolveOwned(ctx context.Context, ns string, owner metav1.OwnerReference, res *platform.Resolution, hops int) error {
	if hops >= maxOwnerHops {
		return fmt.Errorf("resolve %s: %w: the owner chain is longer than %d", res.Object, platform.ErrNotFound, maxOwnerHops)
	}
	switch owner.Kind {
	case "ReplicaSet":
		rs, err := c.kube.AppsV1().ReplicaSets(ns).Get(ctx, owner.Name, metav1.GetOptions{})
		if err != nil {
			return c.wrap(ctx, op{"get", "replicasets.apps", ns, owner.Name}, err)
		}
		res.Via = append(res.Via, "replicaset/"+ns+"/"+rs.Name)
		if up := metav1.GetControllerOf(rs); up != nil {
			return c.resolveOwned(ctx, ns, *up, res, hops+1)
		}
		return nil // a bare ReplicaSet: not a workload ops-skill acts on
	case "Job":
		job, err := c.kube.BatchV1().Jobs(ns).Get(ctx, owner.Name, metav1.GetOptions{})
		if err != nil {
			return c.wrap(ctx, op{"get", "jobs.batch", ns, owner.Name}, err)
		}
		res.Via = append(res.Via, "job/"+ns+"/"+job.Name)
		res.Workload, res.Kind = platform.WorkloadRef{Namespace: ns, Name: job.Name}, "Job"
		if up := metav1.GetControllerOf(job); up != nil && up.Kind == "CronJob" {
			res.Via = append(res.Via, "cronjob/"+ns+"/"+up.Name)
		}
		return nil
	case "Deployment", "StatefulSet", "DaemonSet":
		res.Via = append(res.Via, lower(owner.Kind)+"/"+ns+"/"+owner.Name)
		res.Workload, res.Kind = platform.WorkloadRef{Namespace: ns, Name: owner.Name}, owner.Kind
		return nil
	}
	res.Via = append(res.Via, lower(owner.Kind)+"/"+ns+"/"+owner.Name)
	return nil // a controller ops-skill does not act on (a custom resource)
}

func (c *Client) resolveWorkload(ctx context.Context, ref platform.ObjectRef, res *platform.Resolution) error {
	wr := platform.WorkloadRef{Namespace: ref.Namespace, Name: ref.Name}
	var o object
	var err error
	switch ref.Kind {
	case platform.ObjectDeployment:
		o, err = c.getKind(ctx, wr, "Deployment")
	case platform.ObjectStatefulSet:
		o, err = c.getKind(ctx, wr, "StatefulSet")
	case platform.ObjectDaemonSet:
		return c.resolveDaemonSet(ctx, wr, res)
	default:
		o, err = c.get(ctx, wr)
	}
	if err != nil {
		return err
	}
	res.Workload, res.Kind = wr, o.kind()
	if last := res.Via[len(res.Via)-1]; last != lower(o.kind())+"/"+wr.String() {
		res.Via = append(res.Via, lower(o.kind())+"/"+wr.String())
	}
	return nil
}

func (c *Client) resolveDaemonSet(ctx context.Context, wr platform.WorkloadRef, res *platform.Resolution) error {
	if _, err := c.kube.AppsV1().DaemonSets(wr.Namespace).Get(ctx, wr.Name, metav1.GetOptions{}); err != nil {
		return c.wrap(ctx, op{"get", "daemonsets.apps", wr.Namespace, wr.Name}, err)
	}
	res.Workload, res.Kind = wr, "DaemonSet"
	return nil
}

// resolvePVC finds the pods that mount the claim and resolves the first
// (they share an owner: a StatefulSet's volumeClaimTemplates or one
// Deployment's volume).
func (c *Client) resolvePVC(ctx context.Context, ref platform.ObjectRef, res *platform.Resolution) error {
	if _, err := c.kube.CoreV1().PersistentVolumeClaims(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{}); err != nil {
		return c.wrap(ctx, op{"get", "persistentvolumeclaims", ref.Namespace, ref.Name}, err)
	}
	pods, err := c.kube.CoreV1().Pods(ref.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return c.wrap(ctx, op{"list", "pods", ref.Namespace, ""}, err)
	}
	var mounters []corev1.Pod
	for _, p := range pods.Items {
		if mounts(p, ref.Name) {
			mounters = append(mounters, p)
		}
	}
	sort.Slice(mounters, func(i, j int) bool { return mounters[i].Name < mounters[j].Name })
	for _, p := range mounters {
		res.Pods = append(res.Pods, p.Name)
	}
	if len(mounters) == 0 {
		return nil // an unmounted claim: the volume is known, its workload is not
	}
	p := mounters[0]
	res.Via = append(res.Via, "pod/"+p.Namespace+"/"+p.Name)
	if owner := metav1.GetControllerOf(&p); owner != nil {
		return c.resolveOwned(ctx, ref.Namespace, *owner, res, 0)
	}
	return nil
}

// lower is a Kind as a resource path segment: "StatefulSet" → "statefulset".
func lower(kind string) string { return strings.ToLower(kind) }

func mounts(p corev1.Pod, claim string) bool {
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
			return true
		}
	}
	return false
}

func (c *Client) resolveHPA(ctx context.Context, ref platform.ObjectRef, res *platform.Resolution) error {
	h, err := c.kube.AutoscalingV2().HorizontalPodAutoscalers(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return c.wrap(ctx, op{"get", "horizontalpodautoscalers.autoscaling", ref.Namespace, ref.Name}, err)
	}
	t := h.Spec.ScaleTargetRef
	res.Autoscaler = "HorizontalPodAutoscaler/" + h.Name
	res.Via = append(res.Via, lower(t.Kind)+"/"+ref.Namespace+"/"+t.Name)
	if t.Kind == "Deployment" || t.Kind == "StatefulSet" {
		res.Workload, res.Kind = platform.WorkloadRef{Namespace: ref.Namespace, Name: t.Name}, t.Kind
	}
	return nil
}

// resolveService finds the workload behind a Service: the owner of a pod its
// selector picks.
func (c *Client) resolveService(ctx context.Context, ref platform.ObjectRef, res *platform.Resolution) error {
	svc, err := c.kube.CoreV1().Services(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return c.wrap(ctx, op{"get", "services", ref.Namespace, ref.Name}, err)
	}
	if len(svc.Spec.Selector) == 0 {
		return nil // no selector: endpoints managed by hand
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector).String()
	pods, err := c.kube.CoreV1().Pods(ref.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return c.wrap(ctx, op{"list", "pods", ref.Namespace, ""}, err)
	}
	if len(pods.Items) == 0 {
		return nil
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	p := pods.Items[0]
	for _, q := range pods.Items {
		res.Pods = append(res.Pods, q.Name)
	}
	res.Via = append(res.Via, "pod/"+p.Namespace+"/"+p.Name)
	if owner := metav1.GetControllerOf(&p); owner != nil {
		return c.resolveOwned(ctx, ref.Namespace, *owner, res, 0)
	}
	return nil
}

// resolveNode checks the node exists and lists the pods on it, in every
// namespace the adapter may read.
func (c *Client) resolveNode(ctx context.Context, name string, res *platform.Resolution) error {
	if _, err := c.kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); err != nil {
		return c.wrap(ctx, op{"get", "nodes", "", name}, err)
	}
	res.Node = name
	pods, err := c.kube.CoreV1().Pods(c.namespace).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + name})
	if err != nil {
		return c.wrap(ctx, op{"list", "pods", c.namespace, ""}, err)
	}
	for _, p := range pods.Items {
		res.Pods = append(res.Pods, p.Namespace+"/"+p.Name)
	}
	sort.Strings(res.Pods)
	return nil
}
