package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// escalate opens (or reuses) an incident and marks it for people when the
// problem remains, a memory raise hid a leak, or the alert outlived ESCALATION_HOURS.
func (r *run) escalateIfNeeded(ctx context.Context) {
	if r.stopped || ctx.Err() != nil || r.declined() {
		return
	}
	followUp := r.memoryRaised()
	if !r.escalate && !followUp && r.incident == "" {
		return
	}
	if r.incident == "" {
		o := r.codeCall(ctx, PhaseNotify, tools.CreateIncident, map[string]string{
			"title": text.Clip(r.al.Text, 180), "service": firstNonEmpty(r.al.Service, "unknown"), "severity": "high"})
		if ir, ok := o.Result.(tools.IncidentResult); ok {
			r.incident = ir.ID
		}
	}
	if followUp {
		r.escalate = true
	}
	if r.incident == "" || r.a.d.History == nil {
		return
	}
	status := r.incidentStatus()
	r.historyErr("set incident "+r.incident+" "+string(status), r.a.d.History.SetIncidentStatus(ctx, r.incident, status))
	for _, o := range r.outcomes {
		if o.Risk.ChangesPlatform() || o.Status == tools.StatusRefused {
			r.historyErr("add "+string(o.Tool)+" to the timeline of "+r.incident,
				r.a.d.History.AddTimeline(ctx, r.incident, string(o.Status), string(o.Tool)+" "+o.Target+": "+firstNonEmpty(o.Reason, o.Summary)))
		}
	}
	if v := r.sum.Verification; v != nil {
		r.historyErr("add the verification to the timeline of "+r.incident,
			r.a.d.History.AddTimeline(ctx, r.incident, "verification", string(v.Result)+": "+v.Detail))
	}
}

// incidentStatus is mitigated when this run acted and verified the symptom
// back to normal, and people are needed only for its cause (a memory raise
// hid a leak); otherwise the problem itself is people's: escalated.
func (r *run) incidentStatus() platform.IncidentStatus {
	v := r.sum.Verification
	if r.handedOver || r.executedWrites() == 0 || v == nil || v.Result != platform.VerifyResolved {
		return platform.IncidentEscalated
	}
	return platform.IncidentMitigated
}

// notifyAfterCancel bounds the notification of a cancelled run's writes.
const notifyAfterCancel = 10 * time.Second

// executedWrites counts the writes that changed the platform.
func (r *run) executedWrites() int {
	n := 0
	for _, o := range r.outcomes {
		if o.Risk.ChangesPlatform() && o.Status == tools.StatusExecuted {
			n++
		}
	}
	return n
}

// declined reports a write the operator declined at the approval prompt: the
// operator is the human in the loop, so the run is recorded, not paged.
func (r *run) declined() bool {
	for _, o := range r.outcomes {
		if o.Rule == guard.RuleApprovalDeclined {
			return true
		}
	}
	return false
}

// held says why this run's notification must not leave the machine.
func (r *run) held() string {
	switch {
	case r.a.cfg.Mode == guard.ModeObserve:
		return "observe mode: nothing sent"
	case r.declined():
		return "the operator declined the action: recorded in history, nobody paged"
	}
	return r.a.cfg.HeldReason
}

// memoryRaised reports a memory-limit raise: the symptom is treated, the cause
// (a leak, a heavier workload) needs engineers.
func (r *run) memoryRaised() bool {
	for _, o := range r.outcomes {
		if o.Tool == tools.UpdateResources && o.Status == tools.StatusExecuted {
			return true
		}
	}
	return false
}

// notify tells the team, by code, about every write, refusal, failed
// verification and escalation. Nothing happens when nothing needs saying.
func (r *run) notify(ctx context.Context) {
	if r.stopped {
		return
	}
	var changed, refused int
	for _, o := range r.outcomes {
		if o.Risk.ChangesPlatform() && (o.Status == tools.StatusExecuted || o.Status == tools.StatusDryRun) {
			changed++
		}
		if o.Status == tools.StatusRefused {
			refused++
		}
	}
	if ctx.Err() != nil {
		// Cancelled (Ctrl-C, SIGTERM): the team still hears of the writes
		// already made, within a bounded time; nothing else is said.
		if r.executedWrites() == 0 {
			return
		}
		r.sum.Resolution = Cancelled
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), notifyAfterCancel)
		defer cancel()
	}
	v := r.sum.Verification
	failedCheck := v != nil && v.Result != platform.VerifyResolved
	if changed == 0 && refused == 0 && !failedCheck && !r.escalate && !r.clearsEscalation(ctx) {
		return
	}
	r.phase(PhaseNotify)
	n := r.notification(changed, refused)
	ev := Notified{At: r.now(), Channel: "transcript", Title: n.Title, Text: n.Text, Escalated: n.Escalate}
	state := r.notifyState()
	switch {
	case r.held() != "":
		ev.Held, ev.Escalated = r.held(), false
		if n.Escalate {
			ev.Held += "; it would have paged engineering"
		}
	case !r.a.d.Registry.Policy().NotifyEnabled:
		ev.Error = "alerting is disabled (ALERT_ENABLED=false)"
	case r.a.d.Notifier == nil:
		r.suppressed(ctx, state, &ev) // nothing is sent: the transcript says whether it would repeat one
	default:
		r.deliver(ctx, n, state, &ev)
	}
	r.emit(ev)
}

// deliver sends the notification once its claim is won: of concurrent runs
// with the same thing to say about a target, one sends it.
func (r *run) deliver(ctx context.Context, n platform.Notification, state string, ev *Notified) {
	c, ok := r.claimNotify(ctx, state, ev)
	if !ok {
		return
	}
	ev.Channel = "webhook"
	if err := r.a.d.Notifier.Notify(ctx, n); err != nil {
		ev.Error = err.Error()
		r.releaseNotify(ctx, c) // undelivered: the cooldown does not start
		return
	}
	ev.Delivered = true
}

// clearsEscalation reports a run that found, without acting, the target
// healthy again after an earlier run escalated it: the team (and the pager)
// hear that it cleared.
func (r *run) clearsEscalation(ctx context.Context) bool {
	v := r.sum.Verification
	if v == nil || v.Result != platform.VerifyResolved || r.a.d.History == nil {
		return false
	}
	last, ok, err := r.a.d.History.LastNotified(ctx, r.notifyTarget(), r.a.cfg.Env)
	if err != nil || !ok || last.State != platform.NotifyEscalated {
		return false
	}
	if r.incident == "" {
		r.incident = last.Incident // the resolution closes the page that escalation opened
	}
	return true
}

// notifiedActions lists the run's writes and refusals for the notification.
func (r *run) notifiedActions() []platform.NotificationAction {
	var out []platform.NotificationAction
	for _, o := range r.outcomes {
		if !o.Risk.ChangesPlatform() || o.Status == tools.StatusOK || o.Status == tools.StatusInvalid {
			continue
		}
		a := platform.NotificationAction{Tool: string(o.Tool), Target: o.Target, Status: string(o.Status), Summary: o.Summary, Rule: o.Rule, Reason: o.Reason}
		if from, ok := o.Params["from"]; ok {
			a.From = fmt.Sprint(from)
		}
		if to, ok := o.Params["to"]; ok {
			a.To = fmt.Sprint(to)
		}
		out = append(out, a)
	}
	return out
}

// notifyState is what a notification says about the target; a change of state
// is always notified, the same state at most once per cooldown.
func (r *run) notifyState() string {
	switch v := r.sum.Verification; {
	case r.escalate:
		return platform.NotifyEscalated
	case v != nil:
		return string(v.Result)
	}
	return platform.NotifyActed
}

func (r *run) notification(changed, refused int) platform.Notification {
	v := r.sum.Verification
	n := platform.Notification{Severity: "info", Service: r.al.Service, IncidentID: r.incident, Fields: map[string]string{}, Links: map[string]string{},
		Alert: r.al.Text, Target: r.notifyTarget(), State: r.notifyState(), Actions: r.notifiedActions(), At: r.now()}
	if v != nil {
		n.VerificationDetail = v.Detail
		if v.Result == platform.VerifyResolved && v.Waited > 0 {
			n.TimeToResolution = r.now().Sub(r.started)
		}
	}
	n.Title = "ops-skill: " + headline(r)
	where := r.a.cfg.Where
	n.Where = where
	if where.Simulated() {
		n.Title = "[SIMULATED] " + n.Title
	}
	var lines []string
	lines = append(lines, "Alert: "+text.Clip(strings.TrimSpace(strings.TrimPrefix(r.al.Text, "Alert:")), 300))
	lines = append(lines, "Platform: "+where.String())
	for _, o := range r.outcomes {
		switch {
		case o.Risk.ChangesPlatform() && (o.Status == tools.StatusExecuted || o.Status == tools.StatusDryRun):
			lines = append(lines, "Action: "+o.Summary)
		case o.Status == tools.StatusRefused:
			lines = append(lines, fmt.Sprintf("Refused: %s %s (%s: %s)", o.Tool, o.Target, o.Rule, text.Clip(o.Reason, 200)))
		}
	}
	if v != nil {
		lines = append(lines, "Verification: "+string(v.Result)+" — "+v.Detail)
		n.Fields["verification"] = string(v.Result)
		if v.Result != platform.VerifyResolved {
			n.Severity = "warning"
		}
	}
	if r.escalate {
		n.Escalate, n.Severity = true, "critical"
		lines = append(lines, "Escalated to engineering")
	}
	if r.incident != "" {
		lines = append(lines, "Incident: "+r.incident)
	}
	if r.resuming {
		// Notifications are at least once: the dead run may have sent one
		// whose record it could not write.
		n.Fields["resumed"] = fmt.Sprintf("alert %d", r.sum.AlertID)
		lines = append(lines, fmt.Sprintf("Resumed: the run of alert %d ended before it recorded its end; this may repeat a message it sent", r.sum.AlertID))
	}
	if f := r.a.cfg.DashboardURL; f != nil && r.al.Service != "" {
		if u := f(r.al.Service); u != "" {
			n.Links["dashboard"] = u
		}
	}
	if r.al.GeneratorURL != "" {
		n.Links["alert"] = r.al.GeneratorURL
	}
	n.Text = strings.Join(lines, "\n")
	return n
}
