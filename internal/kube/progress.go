package kube

import (
	"context"

	"github.com/duet-company/ops-skill/internal/platform"
)

// RolloutProgress is RolloutStatus as the platform port gives it.
func (c *Client) RolloutProgress(ctx context.Context, ref platform.WorkloadRef) (platform.RolloutProgress, error) {
	st, err := c.RolloutStatus(ctx, ref)
	if err != nil {
		return platform.RolloutProgress{}, err
	}
	return platform.RolloutProgress{Done: st.Done, Failed: st.Failed, Message: st.Message}, nil
}

var _ platform.Rollouts = (*Client)(nil)
