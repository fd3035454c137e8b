package guard

import (
	"time"
)

// AlertPolicy holds the alerting rules: the same alert is acted on at most once
// per Cooldown, notifications to one target at most once per Cooldown except
// on a state change, and an alert still firing EscalateAfter after it started
// is escalated.
type AlertPolicy struct {
	Enabled       bool          `json:"enabled"`
	Cooldown      time.Duration `json:"cooldown"`
	EscalateAfter time.Duration `json:"escalateAfter"`
}

// DefaultAlertPolicy returns the spec's values: a 5m cooldown, escalation after 1h.
func DefaultAlertPolicy() AlertPolicy {
	return AlertPolicy{Enabled: true, Cooldown: 5 * time.Minute, EscalateAfter: time.Hour}
}

// Validate reports every invalid value as a *PolicyError joined into one
// error, or nil.
func (p AlertPolicy) Validate() error {
	var ps problems
	ps.check(p.Cooldown >= 0, "alerting.cooldown", "must not be negative, got %s", p.Cooldown)
	ps.check(p.EscalateAfter > 0, "alerting.escalation_hours", "must be positive, got %s", p.EscalateAfter)
	return ps.err()
}

// DecideAlert judges acting on an alert last acted on at lastActed (zero if
// never). Within the cooldown it is refused; a lastActed in the future (clock
// skew) counts as within it.
func (p AlertPolicy) DecideAlert(lastActed, now time.Time) Decision {
	if d, stop := p.gate("acting on alerts"); stop {
		return d
	}
	if lastActed.IsZero() {
		return allow(RuleAlertCooldown, "this alert was never acted on before")
	}
	elapsed := now.Sub(lastActed)
	if elapsed < 0 || elapsed < p.Cooldown {
		return refuse(RuleAlertCooldown, "the same alert was acted on at %s, %s ago; the cooldown is %s (%s left)",
			fmtClock(lastActed), fmtDur(max(elapsed, 0)), fmtDur(p.Cooldown), fmtDur(p.Cooldown-max(elapsed, 0)))
	}
	return allow(RuleAlertCooldown, "the same alert was last acted on %s ago, beyond the %s cooldown", fmtDur(elapsed), fmtDur(p.Cooldown))
}

// DecideNotify judges a notification to one target last sent at lastSent
// (zero if never) about a state lastState, now about newState. A change of
// state is always notified; the same state at most once per cooldown.
func (p AlertPolicy) DecideNotify(lastSent time.Time, lastState, newState string, now time.Time) Decision {
	if d, stop := p.gate("notifications"); stop {
		return d
	}
	switch {
	case lastSent.IsZero():
		return allow(RuleNotifyCooldown, "nothing was sent to this target before")
	case lastState != newState:
		return allow(RuleNotifyStateChange, "the state changed from %q to %q", lastState, newState)
	}
	elapsed := now.Sub(lastSent)
	if elapsed < 0 || elapsed < p.Cooldown {
		return refuse(RuleNotifyCooldown, "%q was already notified at %s, %s ago; the same state is notified at most once per %s",
			newState, fmtClock(lastSent), fmtDur(max(elapsed, 0)), fmtDur(p.Cooldown))
	}
	return allow(RuleNotifyCooldown, "%q was last notified %s ago, beyond the %s cooldown", newState, fmtDur(elapsed), fmtDur(p.Cooldown))
}

// Notice is what is remembered of the last notification about a target:
// when it was sent, when what it told was observed, and the state it told.
type Notice struct {
	Sent     time.Time
	Observed time.Time
	State    string
}

// DecideNotice judges a notification about newState, observed at observed,
// after last (a zero Notice: none). News older than what was already told is
// not sent: runs that looked at a target at different times are told in the
// order they looked, not in the order they finish, so a stale "escalated"
// never follows a newer "resolved". A zero observed time skips that check;
// otherwise it is DecideNotify.
func (p AlertPolicy) DecideNotice(last Notice, newState string, observed, now time.Time) Decision {
	if d, stop := p.gate("notifications"); stop {
		return d
	}
	if !observed.IsZero() && last.Observed.After(observed) && last.State != newState {
		return refuse(RuleNotifyStale, "%q observed at %s is older than the %q observed at %s and already notified",
			newState, fmtClock(observed), last.State, fmtClock(last.Observed))
	}
	return p.DecideNotify(last.Sent, last.State, newState, now)
}

// ShouldEscalate reports whether an alert that started at startsAt (its own
// start time, not when ops-skill saw it) has been firing for EscalateAfter.
// An unknown (zero) start or a non-positive EscalateAfter never escalates.
func (p AlertPolicy) ShouldEscalate(startsAt, now time.Time) bool {
	return !startsAt.IsZero() && p.EscalateAfter > 0 && now.Sub(startsAt) >= p.EscalateAfter
}

func (p AlertPolicy) gate(what string) (Decision, bool) {
	if !p.Enabled {
		return refuse(RuleDisabledAlerting, "alerting is disabled (ALERT_ENABLED=false): no %s", what), true
	}
	if err := p.Validate(); err != nil {
		return invalidPolicy(err), true
	}
	return Decision{}, false
}
