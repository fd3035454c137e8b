package agent

import (
	"context"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
)

// CorrelationKey is what an alert is about, for correlation: the alerts of
// one key share one open incident, one notification memory and (in serve)
// one lane. It is the target (namespace/name of the workload), or the
// alert's fingerprint when it names none; empty when it has neither.
func CorrelationKey(a alert.Alert) string {
	if t := a.Target(); t != "" {
		return t
	}
	if a.Fingerprint != "" {
		return "fingerprint:" + a.Fingerprint
	}
	return ""
}

// notifyTarget is the key of the run's notification memory and pager key.
func (r *run) notifyTarget() string {
	return firstNonEmpty(CorrelationKey(r.al), "fingerprint:")
}

// suppressed applies the notification cooldown per target without claiming
// it (nothing is sent).
func (r *run) suppressed(ctx context.Context, state string, ev *Notified) bool {
	if r.a.d.History == nil {
		return false
	}
	last, ok, err := r.a.d.History.LastNotified(ctx, r.notifyTarget(), r.a.cfg.Env)
	if err != nil || !ok {
		return false
	}
	d := r.decideNotify(last, ok, state, r.observed(), r.now())
	if d.Allowed() {
		return false
	}
	ev.Suppressed = r.repeatReason(last, d)
	return true
}

// claimNotify applies the notification cooldown per target and, when it
// allows the notification, marks it sent — in one step of the history, so of
// concurrent runs (or processes) with the same state to tell, one claims it
// and the others are suppressed. A claim the history cannot record never
// suppresses a notification.
func (r *run) claimNotify(ctx context.Context, state string, ev *Notified) (NotifyClaim, bool) {
	if r.a.d.History == nil {
		return NotifyClaim{}, true
	}
	now := r.now()
	var d guard.Decision
	rec := NotifyRecord{At: now, State: state, Incident: r.incident, Observed: r.observed()}
	c, err := r.a.d.History.ClaimNotify(ctx, r.notifyTarget(), r.a.cfg.Env, rec, func(last NotifyRecord, ok bool) bool {
		d = r.decideNotify(last, ok, state, rec.Observed, now)
		return d.Allowed()
	})
	if err != nil {
		r.historyErr("remember the notification about "+r.notifyTarget(), err)
		return NotifyClaim{}, true
	}
	if !c.Claimed {
		ev.Suppressed = r.repeatReason(c.Last, d)
	}
	return c, c.Claimed
}

// releaseNotify gives back the claim of a notification that was not
// delivered, so that the next run tries again.
func (r *run) releaseNotify(ctx context.Context, c NotifyClaim) {
	if r.a.d.History != nil && c.Claimed {
		r.historyErr("forget the undelivered notification about "+r.notifyTarget(),
			r.a.d.History.ReleaseNotify(ctx, r.notifyTarget(), r.a.cfg.Env, c))
	}
}

// decideNotify is the cooldown's decision given the last notification
// about the target (ok false: none).
func (r *run) decideNotify(last NotifyRecord, ok bool, state string, observed, now time.Time) guard.Decision {
	if !ok {
		return guard.Decision{Verdict: guard.Allow, Rule: guard.RuleNotifyCooldown, Reason: "nothing was sent to this target before"}
	}
	return r.a.d.Alerting.DecideNotice(guard.Notice{Sent: last.At, Observed: last.Observed, State: last.State}, state, observed, now)
}

// observed is when the state the run tells was observed: its verification,
// else now.
func (r *run) observed() time.Time {
	if v := r.sum.Verification; v != nil && !v.At.IsZero() {
		return v.At
	}
	return r.now()
}

// repeatReason says why a notification is not repeated: the cooldown's
// reason, naming the incident when the last one was about this run's.
func (r *run) repeatReason(last NotifyRecord, d guard.Decision) string {
	if last.Incident != "" && last.Incident == r.incident {
		return "the notification for incident " + r.incident + " was already sent: " + d.Reason
	}
	return d.Reason
}

// takeTurn waits until no other run handles the same subject. It fails only
// when the run is cancelled while waiting.
func (r *run) takeTurn(ctx context.Context) (func(), bool) {
	key := CorrelationKey(r.al)
	if r.a.d.Subjects == nil || key == "" {
		return func() {}, true
	}
	release, err := r.a.d.Subjects.Lock(ctx, key)
	if err != nil {
		r.sum.Error = err.Error()
		r.stopped = true
		return nil, false
	}
	return release, true
}
