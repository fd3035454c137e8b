package sim

import (
	"context"
	"fmt"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Rollouts returns the port that reads rollout progress, as the kube
// adapter's does: new pods become ready their startup after they are
// created, and the pods a scale-down or a replacement removes linger as long.
func (p *Platform) Rollouts() platform.Rollouts { return clusterPort{p} }

// Freshness returns the port that counts the samples taken after a change:
// one per scrape step of the scenario.
func (p *Platform) Freshness() platform.Freshness { return metricsPort{p} }

// RolloutProgress is done when every desired replica is on the newest
// template and ready and no other pod is left.
func (c clusterPort) RolloutProgress(ctx context.Context, ref platform.WorkloadRef) (platform.RolloutProgress, error) {
	w, err := c.GetWorkload(ctx, ref)
	if err != nil {
		return platform.RolloutProgress{}, err
	}
	switch n := int32(len(w.Pods)); {
	case w.UpdatedReplicas < w.Replicas:
		return platform.RolloutProgress{Message: fmt.Sprintf("%d of %d new replicas have been updated", w.UpdatedReplicas, w.Replicas)}, nil
	case n > w.Replicas:
		return platform.RolloutProgress{Message: fmt.Sprintf("%d old replicas are pending termination", n-w.Replicas)}, nil
	case w.ReadyReplicas < w.Replicas:
		return platform.RolloutProgress{Message: fmt.Sprintf("%d of %d updated replicas are available", w.ReadyReplicas, w.Replicas)}, nil
	}
	return platform.RolloutProgress{Done: true, Message: fmt.Sprintf("successfully rolled out (%d/%d available)", w.ReadyReplicas, w.Replicas)}, nil
}

// FreshSamples counts the scrapes after q.Since up to now.
func (m metricsPort) FreshSamples(ctx context.Context, q platform.MetricQuery) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p := m.p
	if err := checkMetricQuery(p.sc, q); err != nil {
		return 0, err
	}
	now := p.clock.Now()
	if q.Since.IsZero() || !now.After(q.Since) {
		return 0, nil
	}
	last, first := scrapeTime(p.start, p.sc.Step, now), scrapeTime(p.start, p.sc.Step, q.Since)
	return int(last.Sub(first) / p.sc.Step), nil
}
