package compose

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// OpenIncident opens an incident for the request's subject, or joins the
// subject's open one (store.OpenIncident: atomic across runs and processes).
func (h History) OpenIncident(ctx context.Context, req tools.IncidentRequest) (tools.IncidentResult, error) {
	inc, joined, err := h.s.OpenIncident(ctx, store.Incident{Title: req.Title, Service: req.Service, Severity: req.Severity,
		Status: store.StatusOpen, AlertID: req.AlertID, Env: h.env, Subject: req.Subject, Scope: h.scope})
	return tools.IncidentResult{ID: inc.ID, Joined: joined}, err
}

// LastNotified reads the last notification about a target.
func (h History) LastNotified(ctx context.Context, target, env string) (agent.NotifyRecord, bool, error) {
	raw, err := h.s.LoadState(ctx, env, h.notifyKey(target))
	if err != nil || raw == nil {
		return agent.NotifyRecord{}, false, err
	}
	rec, ok := decodeNotify(raw)
	return rec, ok, nil
}

// ClaimNotify records rec as the last notification about a target when allow
// lets it go out, in one compare-and-set of the store.
func (h History) ClaimNotify(ctx context.Context, target, env string, rec agent.NotifyRecord, allow func(agent.NotifyRecord, bool) bool) (agent.NotifyClaim, error) {
	c := agent.NotifyClaim{Rec: rec}
	mine, err := json.Marshal(rec)
	if err != nil {
		return c, err
	}
	c.Claimed, err = h.s.ClaimState(ctx, env, h.notifyKey(target), func(old []byte) ([]byte, bool) {
		c.Last, c.HadLast = decodeNotify(old)
		return mine, allow(c.Last, c.HadLast)
	})
	return c, err
}

// ReleaseNotify puts back the notification before c, if c is still the last.
func (h History) ReleaseNotify(ctx context.Context, target, env string, c agent.NotifyClaim) error {
	if !c.Claimed {
		return nil
	}
	mine, err := json.Marshal(c.Rec)
	if err != nil {
		return err
	}
	var before []byte // nil: there was none, delete the claim
	if c.HadLast {
		if before, err = json.Marshal(c.Last); err != nil {
			return err
		}
	}
	_, err = h.s.ClaimState(ctx, env, h.notifyKey(target), func(old []byte) ([]byte, bool) {
		return before, bytes.Equal(old, mine)
	})
	return err
}

// notifyKey is where the notification memory of a target is kept.
func (h History) notifyKey(target string) string {
	if h.scope == "" {
		return "notify/" + target
	}
	return "notify/" + h.scope + "/" + target
}

// decodeNotify reads a notification record; an unreadable or absent one is
// none, so that it never suppresses a notification.
func decodeNotify(raw []byte) (agent.NotifyRecord, bool) {
	var rec agent.NotifyRecord
	if raw == nil || json.Unmarshal(raw, &rec) != nil {
		return agent.NotifyRecord{}, false
	}
	return rec, true
}

// newScope names the correlation scope of one History that does not share
// earlier invocations' memory: 8 random bytes, never shown.
func newScope() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return "sim-" + hex.EncodeToString(b)
}
