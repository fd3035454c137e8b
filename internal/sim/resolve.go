package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// The simulated cluster's objects beside its workloads, named as a real
// cluster names them, so that alerts resolve the same way on both.
const (
	// volumeClaim is the name of each StatefulSet's volumeClaimTemplate:
	// pod clickhouse-0 mounts PVC data-clickhouse-0.
	volumeClaim = "data"
	// nodes is how many nodes the simulated cluster has; pods are placed on
	// them by name (node-1 … node-3).
	nodes = 3
)

// Resolve finds the workload an alert's object belongs to, as a cluster's
// ownerReferences, PVC mounts, HPA targets, Service selectors and node
// placements would say.
func (c clusterPort) Resolve(ctx context.Context, ref platform.ObjectRef) (platform.Resolution, error) {
	if err := ctx.Err(); err != nil {
		return platform.Resolution{}, err
	}
	c.p.mu.RLock()
	defer c.p.mu.RUnlock()
	res := platform.Resolution{Object: ref, Via: []string{ref.String()}}
	if ref.Kind != platform.ObjectNode && ref.Namespace != c.p.sc.Namespace {
		return res, errorf(platform.ErrNotFound, "%s", ref)
	}
	now := c.p.clock.Now()
	switch ref.Kind {
	case platform.ObjectPod:
		s, pd := c.p.podNamed(ref.Name, now)
		if s == nil {
			return res, errorf(platform.ErrNotFound, "pod %s/%s", ref.Namespace, ref.Name)
		}
		res.Pods = []string{pd.name}
		s.owns(&res)
	case platform.ObjectDeployment, platform.ObjectStatefulSet, platform.ObjectWorkload:
		s := c.p.byName[ref.Name]
		if s == nil || (ref.Kind != platform.ObjectWorkload && !strings.EqualFold(s.spec.Kind, string(ref.Kind))) {
			return res, errorf(platform.ErrNotFound, "%s", ref)
		}
		res.Workload, res.Kind = s.ref, s.spec.Kind
		if ref.Kind == platform.ObjectWorkload {
			res.Via = append(res.Via, strings.ToLower(s.spec.Kind)+"/"+s.ref.String())
		}
	case platform.ObjectPVC:
		return c.p.resolveClaim(res, now)
	case platform.ObjectHPA:
		return c.p.resolveHPA(res)
	case platform.ObjectService:
		s := c.p.serviceNamed(ref.Name)
		if s == nil {
			return res, errorf(platform.ErrNotFound, "service %s/%s", ref.Namespace, ref.Name)
		}
		for _, pd := range s.alive(now) {
			res.Pods = append(res.Pods, pd.name)
		}
		if len(res.Pods) > 0 {
			res.Via = append(res.Via, "pod/"+s.ref.Namespace+"/"+res.Pods[0])
		}
		s.owns(&res)
	case platform.ObjectNode:
		return c.p.resolveNode(res, now)
	default:
		return res, errorf(platform.ErrNotFound, "%s: the simulated platform has no %s objects", ref, ref.Kind)
	}
	return res, nil
}

// serviceNamed finds the workload a Service selects: each workload has a
// Service of its name, a headless one (<name>-headless) and, for its
// exporter sidecar, <name>-metrics, as common charts name them.
func (p *Platform) serviceNamed(name string) *service {
	for _, suffix := range []string{"", "-headless", "-metrics"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && p.byName[base] != nil {
			return p.byName[base]
		}
	}
	return nil
}

// owns completes a resolution that reached one of s's pods: the ReplicaSet
// of a Deployment, then the workload.
func (s *service) owns(res *platform.Resolution) {
	if s.spec.Kind == "Deployment" {
		res.Via = append(res.Via, "replicaset/"+s.ref.Namespace+"/"+s.spec.Name+"-"+s.current().hash)
	}
	res.Via = append(res.Via, strings.ToLower(s.spec.Kind)+"/"+s.ref.String())
	res.Workload, res.Kind = s.ref, s.spec.Kind
	if h := s.spec.AutoscaledBy; h != "" {
		res.Autoscaler = h
	}
}

// podNamed finds a pod alive now by name.
func (p *Platform) podNamed(name string, now time.Time) (*service, *pod) {
	for _, s := range p.services {
		for _, pd := range s.alive(now) {
			if pd.name == name {
				return s, pd
			}
		}
	}
	return nil, nil
}

// resolveClaim finds the StatefulSet pod that mounts a claim named
// <volumeClaim>-<statefulset>-<ordinal>.
func (p *Platform) resolveClaim(res platform.Resolution, now time.Time) (platform.Resolution, error) {
	podName, ok := strings.CutPrefix(res.Object.Name, volumeClaim+"-")
	s, pd := p.podNamed(podName, now)
	if !ok || s == nil || s.spec.Kind != "StatefulSet" {
		return res, errorf(platform.ErrNotFound, "persistentvolumeclaim %s/%s", res.Object.Namespace, res.Object.Name)
	}
	res.Pods = []string{pd.name}
	res.Via = append(res.Via, "pod/"+s.ref.Namespace+"/"+pd.name)
	s.owns(&res)
	return res, nil
}

// resolveHPA finds the workload whose replicas the named HPA owns.
func (p *Platform) resolveHPA(res platform.Resolution) (platform.Resolution, error) {
	for _, s := range p.services {
		if s.spec.AutoscaledBy == "HorizontalPodAutoscaler/"+res.Object.Name {
			res.Via = append(res.Via, strings.ToLower(s.spec.Kind)+"/"+s.ref.String())
			res.Workload, res.Kind, res.Autoscaler = s.ref, s.spec.Kind, s.spec.AutoscaledBy
			return res, nil
		}
	}
	return res, errorf(platform.ErrNotFound, "horizontalpodautoscaler %s/%s", res.Object.Namespace, res.Object.Name)
}

// resolveNode lists the pods the node runs.
func (p *Platform) resolveNode(res platform.Resolution, now time.Time) (platform.Resolution, error) {
	name := res.Object.Name
	if !isNode(name) {
		return res, errorf(platform.ErrNotFound, "node %s", name)
	}
	res.Node = name
	for _, s := range p.services {
		for _, pd := range s.alive(now) {
			if nodeOf(pd.name) == name {
				res.Pods = append(res.Pods, s.ref.Namespace+"/"+pd.name)
			}
		}
	}
	return res, nil
}

// nodeOf places a pod on a node by its name, the same on every run.
func nodeOf(pod string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(pod))
	return fmt.Sprintf("node-%d", h.Sum32()%nodes+1)
}

func isNode(name string) bool {
	for i := 1; i <= nodes; i++ {
		if name == fmt.Sprintf("node-%d", i) {
			return true
		}
	}
	return false
}
