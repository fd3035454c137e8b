package platform

import (
	"context"
	"strings"
)

// ObjectKind is the kind of object an alert can be about.
type ObjectKind string

// Object kinds.
const (
	ObjectNone        ObjectKind = ""            // no object (Watchdog, a cluster-wide alert)
	ObjectWorkload    ObjectKind = "workload"    // a workload by name, kind unknown
	ObjectPod         ObjectKind = "pod"         // resolved to its controller through ownerReferences
	ObjectDeployment  ObjectKind = "deployment"  //
	ObjectStatefulSet ObjectKind = "statefulset" //
	ObjectDaemonSet   ObjectKind = "daemonset"   //
	ObjectJob         ObjectKind = "job"         //
	ObjectPVC         ObjectKind = "pvc"         // resolved to the pods that mount it and their owner
	ObjectHPA         ObjectKind = "hpa"         // resolved to its scaleTargetRef
	ObjectNode        ObjectKind = "node"        //
	ObjectService     ObjectKind = "service"     // resolved to the workload its selector picks
	ObjectNamespace   ObjectKind = "namespace"   //
	ObjectCronJob     ObjectKind = "cronjob"     // resolved to its latest Job
	ObjectReplicaSet  ObjectKind = "replicaset"  // resolved to its Deployment
	ObjectPDB         ObjectKind = "pdb"         // a PodDisruptionBudget, resolved by its selector
	ObjectPV          ObjectKind = "pv"          // a PersistentVolume (cluster-scoped), resolved through its claimRef
)

// Workload reports whether the kind names a workload directly (its name is
// the workload's), so an alert's service can be set without resolution.
func (k ObjectKind) Workload() bool {
	switch k {
	case ObjectWorkload, ObjectDeployment, ObjectStatefulSet, ObjectDaemonSet:
		return true
	}
	return false
}

// ClusterScoped reports whether objects of the kind have no namespace.
func (k ObjectKind) ClusterScoped() bool {
	return k == ObjectNode || k == ObjectPV || k == ObjectNamespace
}

// Scope is the namespace the object lives in: its own, or the name of a
// namespace object; empty for nodes, volumes and no object.
func (o ObjectRef) Scope() string {
	if o.Kind == ObjectNamespace {
		return o.Name
	}
	return o.Namespace
}

// ObjectRef names one object of the platform.
type ObjectRef struct {
	Kind      ObjectKind `json:"kind,omitempty"`
	Namespace string     `json:"namespace,omitempty"`
	Name      string     `json:"name,omitempty"`
}

// String is kind/namespace/name, e.g. "pod/shop/clickhouse-0".
func (o ObjectRef) String() string {
	switch {
	case o.Kind == ObjectNone:
		return "none"
	case o.Namespace == "":
		return string(o.Kind) + "/" + o.Name
	}
	return string(o.Kind) + "/" + o.Namespace + "/" + o.Name
}

// Resolution is what an object belongs to on the platform.
type Resolution struct {
	Object ObjectRef `json:"object"`
	// Workload is the controller the object belongs to (a pod's Deployment
	// through its ReplicaSet, a PVC's StatefulSet, an HPA's target); zero
	// when it belongs to none (a node, a bare pod).
	Workload WorkloadRef `json:"workload,omitempty"`
	Kind     string      `json:"workloadKind,omitempty"` // Deployment, StatefulSet, DaemonSet, Job
	// Via is the chain from the object to the workload, e.g.
	// ["pod/shop/backend-7d4b9c-x2x7q", "replicaset/shop/backend-7d4b9c", "deployment/shop/backend"].
	Via []string `json:"via,omitempty"`
	// Pods are the pods involved: a PVC's mounters, a node's pods.
	Pods []string `json:"pods,omitempty"`
	// Node is the node of a node subject.
	Node string `json:"node,omitempty"`
	// Autoscaler names the HPA that owns the workload's replicas, if any.
	Autoscaler string `json:"autoscaler,omitempty"`
}

// Chain is the resolution path in one line: "pod/shop/x → replicaset/shop/y → deployment/shop/z".
func (r Resolution) Chain() string { return strings.Join(r.Via, " → ") }

// Resolver finds what an object belongs to: the same code for a real cluster
// and the simulated one. A missing object is ErrNotFound.
type Resolver interface {
	Resolve(ctx context.Context, ref ObjectRef) (Resolution, error)
}
