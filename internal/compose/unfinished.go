package compose

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// Unfinished lists the pending alerts of a's subject in env, except self,
// with the writes each recorded (agent.UnfinishedRuns).
func (h History) Unfinished(ctx context.Context, a alert.Alert, env string, self int64) ([]agent.Unfinished, error) {
	recs, err := h.s.ListUnfinished(ctx, store.UnfinishedFilter{Env: env, Namespace: a.Namespace, Service: a.Service, Fingerprint: a.Fingerprint, Except: self})
	if err != nil {
		return nil, err
	}
	out := make([]agent.Unfinished, 0, len(recs))
	for _, rec := range recs {
		calls, err := h.s.ListToolCalls(ctx, rec.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, agent.Unfinished{AlertID: rec.ID, ReceivedAt: rec.ReceivedAt, Alert: alertOf(rec), Writes: recordedWrites(calls)})
	}
	return out, nil
}

// ClaimUnfinished claims the pending alert id for the run of alert by.
func (h History) ClaimUnfinished(ctx context.Context, id, by int64) (bool, error) {
	return h.s.ClaimUnfinished(ctx, id, fmt.Sprintf("interrupted: its process died before it finished; resumed by the run of alert %d", by))
}

// FinishResumed records the outcome of a claimed alert.
func (h History) FinishResumed(ctx context.Context, id int64, s agent.Summary) error {
	return h.s.FinishResumed(ctx, id, string(s.Resolution), s.Planner, s.Incident, s.Error)
}

// alertOf is the alert a record keeps: its subject, kind and text.
func alertOf(rec store.AlertRecord) alert.Alert {
	return alert.Alert{Text: rec.Summary, Service: rec.Service, Namespace: rec.Namespace, Kind: alert.Kind(rec.Kind),
		Fingerprint: rec.Fingerprint, Source: alert.Source(rec.Source)}
}

// recordedWrites are the executed and intent-only writes among calls.
func recordedWrites(calls []store.ToolCallRecord) []agent.RecordedWrite {
	var out []agent.RecordedWrite
	for _, c := range calls {
		if !c.Write || (c.Verdict != store.VerdictExecuted && c.Verdict != store.VerdictIntent) {
			continue
		}
		w := agent.RecordedWrite{Tool: tools.Name(c.Tool), Target: c.Target, Rule: c.Rule, Reason: c.Reason, Done: c.Verdict == store.VerdictExecuted}
		if w.Done && json.Valid([]byte(c.Result)) {
			w.Result = json.RawMessage(c.Result)
		}
		out = append(out, w)
	}
	return out
}
