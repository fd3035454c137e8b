package guard

import (
	"errors"
	"testing"
	"time"
)

func TestDecideAlert(t *testing.T) {
	now := testNow()
	off := DefaultAlertPolicy()
	off.Enabled = false
	tests := []struct {
		name      string
		p         AlertPolicy
		lastActed time.Time
		verdict   Verdict
		rule      string
		reason    []string
	}{
		{"an alert never acted on is allowed", DefaultAlertPolicy(), time.Time{}, Allow, RuleAlertCooldown, nil},
		{"the same alert within the cooldown is refused", DefaultAlertPolicy(), now.Add(-2 * time.Minute), Refuse, RuleAlertCooldown,
			[]string{"09:58:00", "2m ago", "cooldown is 5m", "3m left"}},
		{"the same alert a second before the cooldown ends is refused", DefaultAlertPolicy(), now.Add(-5*time.Minute + time.Second), Refuse, RuleAlertCooldown, nil},
		{"the same alert exactly at the end of the cooldown is allowed", DefaultAlertPolicy(), now.Add(-5 * time.Minute), Allow, RuleAlertCooldown, nil},
		{"the same alert after the cooldown is allowed", DefaultAlertPolicy(), now.Add(-20 * time.Minute), Allow, RuleAlertCooldown, []string{"20m ago"}},
		{"an act recorded in the future counts as within the cooldown", DefaultAlertPolicy(), now.Add(time.Minute), Refuse, RuleAlertCooldown, nil},
		{"with no cooldown, an act recorded in the future is still refused", AlertPolicy{Enabled: true, EscalateAfter: time.Hour}, now.Add(time.Minute), Refuse, RuleAlertCooldown, nil},
		{"with no cooldown, the same alert is acted on again", AlertPolicy{Enabled: true, EscalateAfter: time.Hour}, now, Allow, RuleAlertCooldown, nil},
		{"disabled alerting refuses", off, time.Time{}, Refuse, RuleDisabledAlerting, []string{"ALERT_ENABLED=false"}},
		{"an invalid policy refuses", AlertPolicy{Enabled: true, Cooldown: -time.Minute, EscalateAfter: time.Hour}, time.Time{}, Refuse, RulePolicyInvalid, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkDecision(t, tc.p.DecideAlert(tc.lastActed, now), tc.verdict, tc.rule, -1, tc.reason...)
		})
	}
}

func TestDecideNotify(t *testing.T) {
	now := testNow()
	p := DefaultAlertPolicy()
	tests := []struct {
		name          string
		lastSent      time.Time
		lastState, st string
		verdict       Verdict
		rule          string
	}{
		{"the first notification is sent", time.Time{}, "", "firing", Allow, RuleNotifyCooldown},
		{"the same state within the cooldown is not repeated", now.Add(-time.Minute), "firing", "firing", Refuse, RuleNotifyCooldown},
		{"a state change within the cooldown is sent", now.Add(-time.Minute), "firing", "resolved", Allow, RuleNotifyStateChange},
		{"the same state after the cooldown is sent again", now.Add(-6 * time.Minute), "firing", "firing", Allow, RuleNotifyCooldown},
		{"the same state exactly at the cooldown is sent", now.Add(-5 * time.Minute), "escalated", "escalated", Allow, RuleNotifyCooldown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkDecision(t, p.DecideNotify(tc.lastSent, tc.lastState, tc.st, now), tc.verdict, tc.rule, -1)
		})
	}
	off := p
	off.Enabled = false
	if d := off.DecideNotify(time.Time{}, "", "firing", now); d.Rule != RuleDisabledAlerting || d.Allowed() {
		t.Fatalf("disabled alerting notified: %s", d)
	}
}

func TestDecideNoticeNeverTellsOlderNewsAfterNewer(t *testing.T) {
	now := testNow()
	p := DefaultAlertPolicy()
	earlier, later := now.Add(-2*time.Minute), now.Add(-time.Minute)
	tests := []struct {
		name     string
		last     Notice
		st       string
		observed time.Time
		verdict  Verdict
		rule     string
	}{
		{"nothing told yet", Notice{}, "escalated", earlier, Allow, RuleNotifyCooldown},
		{"newer news of another state is told", Notice{Sent: later, Observed: earlier, State: "escalated"}, "resolved", later, Allow, RuleNotifyStateChange},
		{"news as new as the last, of another state, is told", Notice{Sent: later, Observed: later, State: "resolved"}, "escalated", later, Allow, RuleNotifyStateChange},
		{"older news of another state is not told", Notice{Sent: later, Observed: later, State: "resolved"}, "escalated", earlier, Refuse, RuleNotifyStale},
		{"older news of the same state: the cooldown", Notice{Sent: later, Observed: later, State: "escalated"}, "escalated", earlier, Refuse, RuleNotifyCooldown},
		{"a record without an observed time: the cooldown rules", Notice{Sent: later, State: "resolved"}, "escalated", earlier, Allow, RuleNotifyStateChange},
		{"news without an observed time: the cooldown rules", Notice{Sent: later, Observed: later, State: "resolved"}, "escalated", time.Time{}, Allow, RuleNotifyStateChange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkDecision(t, p.DecideNotice(tc.last, tc.st, tc.observed, now), tc.verdict, tc.rule, -1)
		})
	}
	off := p
	off.Enabled = false
	if d := off.DecideNotice(Notice{}, "escalated", now, now); d.Rule != RuleDisabledAlerting || d.Allowed() {
		t.Fatalf("disabled alerting notified: %s", d)
	}
}

func TestShouldEscalate(t *testing.T) {
	now := testNow()
	p := DefaultAlertPolicy()
	tests := []struct {
		name     string
		p        AlertPolicy
		startsAt time.Time
		want     bool
	}{
		{"an alert firing for 59m is not escalated", p, now.Add(-59 * time.Minute), false},
		{"an alert firing for exactly 1h is escalated", p, now.Add(-time.Hour), true},
		{"an alert firing for 3h is escalated", p, now.Add(-3 * time.Hour), true},
		{"an alert with no start time is not escalated", p, time.Time{}, false},
		{"an alert starting in the future is not escalated", p, now.Add(time.Minute), false},
		{"two escalation hours wait two hours", AlertPolicy{Enabled: true, Cooldown: time.Minute, EscalateAfter: 2 * time.Hour}, now.Add(-90 * time.Minute), false},
		{"a zero escalation delay never escalates", AlertPolicy{Enabled: true}, now.Add(-24 * time.Hour), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.ShouldEscalate(tc.startsAt, now); got != tc.want {
				t.Fatalf("ShouldEscalate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAlertPolicyValidate(t *testing.T) {
	var pe *PolicyError
	if err := (AlertPolicy{Cooldown: time.Minute}).Validate(); !errors.As(err, &pe) || pe.Key != "alerting.escalation_hours" {
		t.Fatalf("Validate() = %v", err)
	}
	if err := DefaultAlertPolicy().Validate(); err != nil {
		t.Fatalf("default invalid: %v", err)
	}
}
