package main

import (
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// watcher reads the cluster from informer caches.
type watcher struct {
	pods   corelisters.PodLister
	rs     appslisters.ReplicaSetLister
	deps   appslisters.DeploymentLister
	sts    appslisters.StatefulSetLister
	claims corelisters.PersistentVolumeClaimLister
}

func newWatcher(f informers.SharedInformerFactory) *watcher {
	return &watcher{pods: f.Core().V1().Pods().Lister(), rs: f.Apps().V1().ReplicaSets().Lister(),
		deps: f.Apps().V1().Deployments().Lister(), sts: f.Apps().V1().StatefulSets().Lister(),
		claims: f.Core().V1().PersistentVolumeClaims().Lister()}
}

// snapshot is the cluster as the caches hold it now.
func (w *watcher) snapshot() Cluster {
	var c Cluster
	deps, _ := w.deps.List(labels.Everything())
	for _, d := range deps {
		c.Workloads = append(c.Workloads, WorkloadState{Namespace: d.Namespace, Name: d.Name, Kind: "Deployment",
			SpecReplicas: replicas(d.Spec.Replicas), Ready: d.Status.ReadyReplicas})
	}
	sts, _ := w.sts.List(labels.Everything())
	for _, s := range sts {
		c.Workloads = append(c.Workloads, WorkloadState{Namespace: s.Namespace, Name: s.Name, Kind: "StatefulSet",
			SpecReplicas: replicas(s.Spec.Replicas), Ready: s.Status.ReadyReplicas})
	}
	pods, _ := w.pods.List(labels.Everything())
	for _, p := range pods {
		if mp, ok := w.pod(p); ok {
			c.Pods = append(c.Pods, mp)
		}
	}
	sort.Slice(c.Pods, func(i, j int) bool {
		return c.Pods[i].Namespace+"/"+c.Pods[i].Name < c.Pods[j].Namespace+"/"+c.Pods[j].Name
	})
	return c
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// pod maps a pod owned by a Deployment (through its ReplicaSet) or a
// StatefulSet; other pods are not modelled.
func (w *watcher) pod(p *corev1.Pod) (Pod, bool) {
	mp := Pod{Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName}
	for _, o := range p.OwnerReferences {
		if o.Controller == nil || !*o.Controller {
			continue
		}
		switch o.Kind {
		case "ReplicaSet":
			rs, err := w.rs.ReplicaSets(p.Namespace).Get(o.Name)
			if err != nil {
				return mp, false
			}
			for _, ro := range rs.OwnerReferences {
				if ro.Kind == "Deployment" && ro.Controller != nil && *ro.Controller {
					mp.Workload, mp.OwnerKind = ro.Name, "Deployment"
				}
			}
		case "StatefulSet":
			mp.Workload, mp.OwnerKind = o.Name, "StatefulSet"
			if s, err := w.sts.StatefulSets(p.Namespace).Get(o.Name); err == nil {
				mp.Claims = w.podClaims(s, p)
			}
		}
	}
	if mp.Workload == "" {
		return mp, false
	}
	terminating := p.DeletionTimestamp != nil
	mp.Running = p.Status.Phase == corev1.PodRunning && !terminating
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && mp.Running {
			mp.Ready = true
		}
	}
	restarts := map[string]int32{}
	for _, cs := range p.Status.ContainerStatuses {
		restarts[cs.Name] = cs.RestartCount
	}
	for _, c := range p.Spec.Containers {
		mp.Containers = append(mp.Containers, Container{Name: c.Name, Image: c.Image,
			CPURequest: cores(c.Resources.Requests, corev1.ResourceCPU), CPULimit: cores(c.Resources.Limits, corev1.ResourceCPU),
			MemRequest: bytesOf(c.Resources.Requests, corev1.ResourceMemory), MemLimit: bytesOf(c.Resources.Limits, corev1.ResourceMemory),
			RestartsReportedByAPI: restarts[c.Name]})
	}
	return mp, true
}

// podClaims names the claims of a StatefulSet pod: <template>-<pod>, with the
// capacity the claim reports (else what it or the template requests).
func (w *watcher) podClaims(s *appsv1.StatefulSet, p *corev1.Pod) []Claim {
	if _, err := strconv.Atoi(p.Name[strings.LastIndexByte(p.Name, '-')+1:]); err != nil {
		return nil
	}
	var out []Claim
	for _, t := range s.Spec.VolumeClaimTemplates {
		name := t.Name + "-" + p.Name
		capacity := bytesOf(t.Spec.Resources.Requests, corev1.ResourceStorage)
		if pvc, err := w.claims.PersistentVolumeClaims(p.Namespace).Get(name); err == nil {
			if v := bytesOf(pvc.Status.Capacity, corev1.ResourceStorage); v > 0 {
				capacity = v
			} else if v := bytesOf(pvc.Spec.Resources.Requests, corev1.ResourceStorage); v > 0 {
				capacity = v
			}
		}
		if capacity > 0 {
			out = append(out, Claim{Name: name, CapacityBytes: capacity})
		}
	}
	return out
}

func cores(l corev1.ResourceList, n corev1.ResourceName) float64 {
	q, ok := l[n]
	if !ok {
		return 0
	}
	return float64(q.MilliValue()) / 1000
}

func bytesOf(l corev1.ResourceList, n corev1.ResourceName) float64 {
	q, ok := l[n]
	if !ok {
		return 0
	}
	return float64(q.Value())
}
