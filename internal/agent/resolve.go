package agent

import (
	"context"

	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
)

// needsResolving reports the object kinds whose workload only the platform
// knows: a pod's controller, a PVC's mounters' owner, an HPA's target, a
// Service's workload, a Job, a node's pods.
func needsResolving(k platform.ObjectKind) bool {
	switch k {
	case platform.ObjectPod, platform.ObjectPVC, platform.ObjectHPA, platform.ObjectService, platform.ObjectJob, platform.ObjectNode:
		return true
	}
	return false
}

// resolve turns the object the alert names into the workload the run acts
// on, on the platform: the subject, not the scrape target. Unresolved, the
// run goes on with what the alert said, and the planner sees why.
func (r *run) resolve(ctx context.Context) {
	if r.a.d.Resolver == nil || !needsResolving(r.al.Classification.Subject.Kind) {
		return
	}
	sub := r.al.Classification.Subject
	res, err := r.a.d.Resolver.Resolve(ctx, sub)
	ev := SubjectResolved{At: r.now(), Resolution: res}
	if err != nil {
		ev.Error = err.Error()
		r.emit(ev)
		return
	}
	r.emit(ev)
	if res.Workload.Name != "" {
		r.al.Service, r.al.Namespace = res.Workload.Name, res.Workload.Namespace
		r.ref = res.Workload
		r.sum.Target = r.al.Target()
	}
	r.sit.Facts = plan.FactsOf(r.al, r.a.cfg.Mode)
	r.sit.Facts.Subject = &res
}
