package platform

import (
	"fmt"
	"strings"
)

// WhereKind says whether a run acts on the simulated platform or a cluster.
type WhereKind string

// The kinds of platform a run can act on.
const (
	WhereSimulated WhereKind = "simulated"
	WhereCluster   WhereKind = "cluster"
)

// Where names the platform a run acts on: shown in every header, approval
// box, write line and notification, and carried by the JSON summary, so an
// operator always knows which cluster, context and namespace were touched.
type Where struct {
	Kind WhereKind `json:"kind"`
	// Cluster is the kubeconfig cluster name (or "in-cluster").
	Cluster string `json:"cluster,omitempty"`
	// Context is the kubeconfig context in use; empty in cluster.
	Context string `json:"context,omitempty"`
	// Server is the API server URL.
	Server string `json:"server,omitempty"`
	// Namespace is the default namespace of the run's workloads.
	Namespace string `json:"namespace,omitempty"`
	// Scenario is the simulated scenario; empty on a cluster.
	Scenario string `json:"scenario,omitempty"`
}

// Simulated reports a run on the simulated platform.
func (w Where) Simulated() bool { return w.Kind != WhereCluster }

// String renders where a run acts in one short phrase:
// "SIMULATED (scenario high-cpu), namespace ai-data-labs" or
// "cluster prod (context prod-admin), namespace shop".
func (w Where) String() string {
	if w.Namespace != "" {
		return w.Place() + ", namespace " + w.Namespace
	}
	return w.Place()
}

// Place is where without the namespace: "SIMULATED (scenario high-cpu)" or
// "cluster prod (context prod-admin)".
func (w Where) Place() string {
	var b strings.Builder
	if w.Simulated() {
		b.WriteString("SIMULATED")
		if w.Scenario != "" {
			fmt.Fprintf(&b, " (scenario %s)", w.Scenario)
		}
		return b.String()
	}
	b.WriteString("cluster " + orDash(w.Cluster))
	if w.Context != "" && w.Context != w.Cluster {
		fmt.Fprintf(&b, " (context %s)", w.Context)
	}
	return b.String()
}

// On ends the line of a write with where it acted: " on cluster prod
// (context prod-admin)" on a cluster; "" on the simulated platform, where the
// header says SIMULATED and the target (namespace/name) is enough.
func (w Where) On() string {
	if w.Simulated() {
		return ""
	}
	return " on " + w.Place()
}

// Env is the key under which history records are kept for this platform:
// "simulated", or the kubeconfig context; in a pod (no context) the cluster's
// name (kubernetes.cluster), "in-cluster" when it has none.
func (w Where) Env() string {
	if w.Simulated() {
		return string(WhereSimulated)
	}
	if w.Context != "" {
		return w.Context
	}
	if w.Cluster != "" {
		return w.Cluster
	}
	return "in-cluster"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
