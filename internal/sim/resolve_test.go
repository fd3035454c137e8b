package sim_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

// The simulated cluster resolves objects the way a real one does: pods to
// their controller through a ReplicaSet (Deployments) or directly
// (StatefulSets), a StatefulSet's PVC to its pod and owner, a Service to
// its workload, a node to its pods.
func TestResolveFollowsOwnersAsAClusterDoes(t *testing.T) {
	const ns = "ai-data-labs"
	p := load(t, "clickhouse-oom")
	ctx := context.Background()
	w, err := p.Cluster().GetWorkload(ctx, platform.WorkloadRef{Namespace: ns, Name: "backend"})
	if err != nil {
		t.Fatal(err)
	}
	backendPod := w.Pods[0].Name
	tests := []struct {
		ref     platform.ObjectRef
		want    string // the workload
		kind    string
		chain   string // a part of the chain
		podPart string // one of the pods involved
	}{
		{platform.ObjectRef{Kind: platform.ObjectPod, Namespace: ns, Name: backendPod}, "backend", "Deployment", "→ replicaset/" + ns + "/backend-", backendPod},
		{platform.ObjectRef{Kind: platform.ObjectPod, Namespace: ns, Name: "clickhouse-1"}, "clickhouse", "StatefulSet", "pod/" + ns + "/clickhouse-1 → statefulset/" + ns + "/clickhouse", "clickhouse-1"},
		{platform.ObjectRef{Kind: platform.ObjectPVC, Namespace: ns, Name: "data-clickhouse-0"}, "clickhouse", "StatefulSet", "pvc/" + ns + "/data-clickhouse-0 → pod/" + ns + "/clickhouse-0", "clickhouse-0"},
		{platform.ObjectRef{Kind: platform.ObjectService, Namespace: ns, Name: "frontend"}, "frontend", "Deployment", "→ deployment/" + ns + "/frontend", "frontend-"},
		{platform.ObjectRef{Kind: platform.ObjectWorkload, Namespace: ns, Name: "redis"}, "redis", "StatefulSet", "statefulset/" + ns + "/redis", ""},
	}
	for _, tt := range tests {
		res, err := p.Resolver().Resolve(ctx, tt.ref)
		if err != nil {
			t.Errorf("Resolve(%s): %v", tt.ref, err)
			continue
		}
		if res.Workload.Name != tt.want || res.Workload.Namespace != ns || res.Kind != tt.kind || !strings.Contains(res.Chain(), tt.chain) ||
			(tt.podPart != "" && !strings.Contains(strings.Join(res.Pods, " "), tt.podPart)) {
			t.Errorf("Resolve(%s) = %s %s via %q pods %v; want %s %s via …%s…", tt.ref, res.Kind, res.Workload, res.Chain(), res.Pods, tt.kind, tt.want, tt.chain)
		}
	}
	node, err := p.Resolver().Resolve(ctx, platform.ObjectRef{Kind: platform.ObjectNode, Name: "node-2"})
	if err != nil || node.Node != "node-2" || node.Workload.Name != "" {
		t.Errorf("node: %+v, %v; want node-2 with its pods and no workload", node, err)
	}
	for _, ref := range []platform.ObjectRef{
		{Kind: platform.ObjectPod, Namespace: ns, Name: "clickhouse-7"},
		{Kind: platform.ObjectPVC, Namespace: ns, Name: "data-backend-0"},
		{Kind: platform.ObjectPod, Namespace: "monitoring", Name: "clickhouse-0"},
		{Kind: platform.ObjectNode, Name: "node-9"},
		{Kind: platform.ObjectStatefulSet, Namespace: ns, Name: "backend"},
	} {
		if _, err := p.Resolver().Resolve(ctx, ref); !errors.Is(err, platform.ErrNotFound) {
			t.Errorf("Resolve(%s) = %v, want ErrNotFound", ref, err)
		}
	}
}
