package compose

import (
	"context"
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// recordDecision keeps the guard's decision of call id with its whole input
// (scale and restart decisions), so that `ops-skill replay` can judge it
// again under another policy. Other calls record nothing here.
func (h History) recordDecision(ctx context.Context, id int64, c tools.CallRecord) error {
	d := c.Decision
	if d == nil || d.Basis == nil || !knownGuardVerdict(d.Verdict) {
		return nil
	}
	b := *d.Basis
	if b.Restart != nil { // the caller's words are kept redacted, like the call's
		in := *b.Restart
		in.Reason = text.Clip(text.RedactSecrets(in.Reason), 500)
		b.Restart = &in
	}
	basis, err := b.Encode()
	if err != nil {
		return fmt.Errorf("record the decision of %s %s: %w", c.Tool, c.Target, err)
	}
	_, err = h.s.RecordDecision(ctx, store.DecisionRecord{ToolCallID: id, AlertID: c.AlertID, At: basisTime(b, c),
		Kind: string(b.Kind()), Target: c.Target, Verdict: string(d.Verdict), Rule: d.Rule, Reason: d.Reason,
		From: d.From, To: d.To, Requested: d.Requested, Basis: basis, Env: h.env})
	if err != nil {
		return fmt.Errorf("record the decision of %s %s: %w", c.Tool, c.Target, err)
	}
	return nil
}

func knownGuardVerdict(v guard.Verdict) bool {
	return v == guard.Allow || v == guard.Clamp || v == guard.Refuse
}

// basisTime is the time the guard judged at: its input's now.
func basisTime(b guard.Basis, c tools.CallRecord) time.Time {
	switch {
	case b.Scale != nil:
		return b.Scale.Now
	case b.Restart != nil:
		return b.Restart.Now
	}
	return c.At
}
