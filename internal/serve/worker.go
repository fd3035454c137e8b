package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// work takes jobs until the queue closes and empties, or ctx ends.
func (s *Server) work(ctx context.Context) {
	for {
		j, ok := s.q.pop(ctx)
		if !ok {
			return
		}
		s.m.inFlight.Inc()
		s.runJob(ctx, j)
		s.m.inFlight.Dec()
		s.q.done(j)
		if j.busy != "" {
			s.releaseBusy(j.busy)
		}
	}
}

// runJob runs one job within its leadership term: a job of an ended term
// is dropped, and a term that ends cancels the run.
func (s *Server) runJob(workCtx context.Context, j *job) {
	t := s.current(j.term)
	if t == nil {
		s.abandon([]*job{j}, "leadership_lost")
		return
	}
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	stop := context.AfterFunc(workCtx, cancel)
	defer stop()
	switch j.kind {
	case jobAlert:
		s.runAlert(ctx, t, j)
	case jobResolve:
		s.runResolve(ctx, t, j)
	case jobHealth:
		s.runAgent(ctx, "health", j.alert)
	case jobScale:
		s.runScale(ctx, j)
	case jobEscalate:
		s.runEscalation(ctx, j)
	}
}

// runAlert runs a firing alert through the agent once: the ledger, shared
// by restarts and replicas, says whether this alert instance was handled.
func (s *Server) runAlert(ctx context.Context, t *term, j *job) {
	log := s.jobLog(j)
	owner := s.owner(t)
	claimed, prev, err := s.led.claim(ctx, j.key, owner, j.fp, s.d.Clock.Now(), s.cfg.ClaimTimeout)
	switch {
	case err != nil: // without the ledger, another replica's run cannot be ruled out: do not act
		log.Error("delivery ledger unavailable: not acting on this delivery (a later delivery runs it)", "error", err.Error())
		s.seen.forget([]string{j.key})
		s.abandon([]*job{j}, "ledger_unavailable")
		return
	case !claimed && prev.Status == deliveryRunning:
		s.seen.forget([]string{j.key}) // so that a delivery after the claim timeout reaches the ledger again
		s.m.deduplicated.WithLabelValues("ledger").Inc()
		log.Warn("alert claimed by a run that has not finished (a replica that stopped may have acted): not acting again; a delivery after the claim timeout runs it",
			"by", prev.Owner, "at", prev.At, "claimTimeout", s.cfg.ClaimTimeout.String())
		return
	case !claimed:
		s.m.deduplicated.WithLabelValues("ledger").Inc()
		log.Info("alert already handled: not acting again", "by", prev.Owner, "at", prev.At, "outcome", prev.Outcome)
		return
	}
	sum := s.runAgent(ctx, "alert", j.alert)
	d := delivery{Status: deliveryDone, Owner: owner, At: s.d.Clock.Now(), Fingerprint: j.fp, Outcome: string(sum.Resolution), Incident: sum.Incident}
	if ctx.Err() != nil && len(sum.Actions) == 0 {
		d.Status = deliveryCancelled // cancelled before acting: a later delivery may run it
	}
	rctx, cancel := recordCtx(ctx)
	defer cancel()
	if err := s.led.finish(rctx, j.key, d); err != nil {
		// The claim stays "running": a delivery after the claim timeout takes
		// it over and resumes the alert, so let such a delivery reach the
		// ledger again.
		s.seen.forget([]string{j.key})
		log.Error("delivery ledger not updated: a delivery after the claim timeout runs the alert again, resuming what this run did",
			"error", err.Error(), "claimTimeout", s.cfg.ClaimTimeout.String())
	}
	if d.Status == deliveryDone {
		s.track(rctx, j, sum)
	}
	log.Info("delivery recorded", "status", d.Status, "outcome", d.Outcome)
}

// track remembers a firing alert for its escalation timer and resolution.
func (s *Server) track(ctx context.Context, j *job, sum agent.Summary) {
	f := firing{Alert: j.alert, Lane: j.lane, Incident: sum.Incident, Escalated: sum.Escalated}
	if old, ok, err := s.led.firing(ctx, j.fp); err == nil && ok && old.Alert.StartsAt.Equal(j.alert.StartsAt) {
		f.Incident = firstNonEmpty(f.Incident, old.Incident)
		f.Escalated = f.Escalated || old.Escalated
	}
	if err := s.led.track(ctx, j.fp, f); err != nil {
		s.jobLog(j).Error("firing alert not tracked: no escalation timer for it", "error", err.Error())
	}
}

// runResolve closes what a firing alert opened: its incident is resolved,
// its escalation timer stops, and a run not started yet never starts.
func (s *Server) runResolve(ctx context.Context, t *term, j *job) {
	log := s.jobLog(j)
	owner := s.owner(t)
	claimed, _, err := s.led.claim(ctx, j.key, owner, j.fp, s.d.Clock.Now(), s.cfg.ClaimTimeout)
	if err == nil && !claimed {
		s.m.deduplicated.WithLabelValues("ledger").Inc()
		return
	}
	rctx, cancel := recordCtx(ctx)
	defer cancel()
	// A late firing delivery of this instance must not act on a resolved alert.
	firingKey := DeliveryKey(j.fp, j.alert.StartsAt, "firing")
	settled := delivery{Status: deliveryDone, Owner: owner, At: s.d.Clock.Now(), Fingerprint: j.fp, Outcome: "resolved_before_run"}
	if err := s.led.settle(rctx, firingKey, settled); err != nil {
		log.Error("delivery ledger not updated", "error", err.Error())
	}
	f, ok, err := s.led.firing(rctx, j.fp)
	switch {
	case err != nil:
		log.Error("firing alert not readable", "error", err.Error())
	case ok && (f.Alert.StartsAt.IsZero() || j.alert.StartsAt.IsZero() || f.Alert.StartsAt.Equal(j.alert.StartsAt)):
		s.closeIncident(rctx, log, f, j)
		if err := s.led.untrack(rctx, j.fp); err != nil {
			log.Error("firing alert not forgotten", "error", err.Error())
		}
	}
	if err := s.led.finish(rctx, j.key, delivery{Status: deliveryDone, Owner: owner, At: s.d.Clock.Now(), Fingerprint: j.fp, Outcome: "resolved"}); err != nil {
		log.Error("delivery ledger not updated", "error", err.Error())
	}
}

// closeIncident resolves the incident the alert opened, and tells the team
// when it had been escalated.
func (s *Server) closeIncident(ctx context.Context, log *slog.Logger, f firing, j *job) {
	if f.Incident == "" {
		log.Info("alert resolved; it had no incident", "fingerprint", j.fp)
		return
	}
	ended := j.endsAt
	if ended.IsZero() {
		ended = s.d.Now()
	}
	if s.incidentStillFiring(ctx, log, f, j, ended) {
		return
	}
	if err := s.d.Store.SetIncidentStatus(ctx, f.Incident, store.StatusResolved); err != nil {
		log.Error("incident not resolved", "incident", f.Incident, "error", err.Error())
		return
	}
	if err := s.d.Store.AppendTimeline(ctx, f.Incident, store.TimelineEntry{Kind: store.TimelineResolved,
		Text: "Alertmanager reports the alert resolved (ended " + ended.UTC().Format(time.RFC3339) + "); escalation timer stopped"}); err != nil {
		log.Error("incident timeline not updated", "incident", f.Incident, "error", err.Error())
	}
	s.m.incidentsClosed.Inc()
	log.Info("incident resolved: the alert cleared", "incident", f.Incident)
	if f.Escalated {
		s.notify(ctx, "Resolved: "+text.Clip(f.Alert.Text, 300)+" (incident "+f.Incident+", escalated earlier) — Alertmanager reports it cleared.",
			"info", f.Alert.Service)
	}
}

// incidentStillFiring keeps the incident of a resolved alert open while
// other alerts that joined it still fire: their resolution closes it. The
// resolution goes on the timeline.
func (s *Server) incidentStillFiring(ctx context.Context, log *slog.Logger, f firing, j *job, ended time.Time) bool {
	n, err := s.led.firingOn(ctx, f.Incident, j.fp)
	if err != nil {
		log.Error("firing alerts not readable: resolving the incident", "incident", f.Incident, "error", err.Error())
		return false
	}
	if n == 0 {
		return false
	}
	if err := s.d.Store.AppendTimeline(ctx, f.Incident, store.TimelineEntry{Kind: store.TimelineResolved,
		Text: fmt.Sprintf("alert resolved: %s (ended %s); %d other alert(s) of this incident still firing",
			text.Clip(f.Alert.Text, 300), ended.UTC().Format(time.RFC3339), n)}); err != nil {
		log.Error("incident timeline not updated", "incident", f.Incident, "error", err.Error())
	}
	log.Info("alert resolved; its incident stays open for the alerts still firing", "incident", f.Incident, "stillFiring", n)
	return true
}

// runEscalation runs an alert again once it has fired for ESCALATION_HOURS:
// the agent sees the old start time and escalates.
func (s *Server) runEscalation(ctx context.Context, j *job) {
	log := s.jobLog(j)
	f, ok, err := s.led.firing(ctx, j.fp)
	if err != nil || !ok || f.Escalated {
		return // resolved, or escalated, since the timer fired
	}
	log.Info("alert still firing past the escalation time: escalating", "startsAt", f.Alert.StartsAt)
	sum := s.runAgent(ctx, "escalation", f.Alert)
	if !escalationDecided(ctx, sum) {
		// The timer stays armed, so a later round escalates it; marking it
		// would lose it.
		log.Warn("escalation run did not get to decide: a later round tries again",
			"resolution", string(sum.Resolution), "headline", sum.Headline)
		return
	}
	rctx, cancel := recordCtx(ctx)
	defer cancel()
	if f.Incident != "" && sum.Incident != "" && sum.Incident != f.Incident {
		if err := s.d.Store.AppendTimeline(rctx, f.Incident, store.TimelineEntry{Kind: "escalation", Text: "still firing: escalated in " + sum.Incident}); err != nil {
			log.Error("incident timeline not updated", "incident", f.Incident, "error", err.Error())
		}
	}
	f.Incident, f.Escalated = firstNonEmpty(sum.Incident, f.Incident), true
	if err := s.led.track(rctx, j.fp, f); err != nil {
		log.Error("escalation not recorded", "error", err.Error())
	}
}

// escalationDecided reports whether an escalation run got to decide: it was
// not skipped by the alert cooldown, cancelled or failed. A run that decided
// ends the timer whatever it decided — an escalation, or in observe mode
// what it would have done, which pages nobody by design and would otherwise
// be run again every round.
func escalationDecided(ctx context.Context, sum agent.Summary) bool {
	if ctx.Err() != nil || sum.Resolution == agent.Failed || sum.Resolution == agent.Cancelled {
		return false
	}
	for _, r := range sum.Refusals {
		if r.Rule == guard.RuleAlertCooldown {
			return false
		}
	}
	return true
}

// runAgent runs one alert through the agent, as the CLI does, with a
// non-interactive approver (approve mode refuses writes here).
func (s *Server) runAgent(ctx context.Context, kind string, a alert.Alert) agent.Summary {
	start := s.d.Clock.Now()
	sink := agent.SinkFunc(func(e agent.Event) {
		switch ev := e.(type) {
		case agent.ToolDone:
			s.m.outcome(ev.Outcome)
		case agent.Resumed:
			s.logResumed(ctx, ev)
		}
	})
	sum := s.d.NewRunner(sink, NoApprover{}).Handle(ctx, a)
	s.m.runSeconds.Observe(s.d.Clock.Since(start).Seconds())
	s.m.summary(kind, sum)
	level := slog.LevelInfo
	if sum.Resolution == agent.Failed || sum.Resolution == agent.Cancelled {
		level = slog.LevelWarn
	}
	target := sum.Target // the workload the run resolved the alert to (a pod's alert names no workload)
	if target == "" {
		target = a.Target()
	}
	s.log.Log(ctx, level, "run finished", "kind", kind, "alert", text.Clip(a.Text, 200), "target", target,
		"fingerprint", a.Fingerprint, "resolution", string(sum.Resolution), "headline", sum.Headline, "planner", sum.Planner,
		"actions", len(sum.Actions), "refusals", len(sum.Refusals), "incident", sum.Incident, "escalated", sum.Escalated,
		"alertId", sum.AlertID, "error", sum.Error, "seconds", s.d.Clock.Since(start).Seconds())
	return sum
}

// logResumed says that a run finished what a process that died left
// unfinished (agent.Resumed).
func (s *Server) logResumed(ctx context.Context, ev agent.Resumed) {
	verified := ""
	if ev.Verification != nil {
		verified = string(ev.Verification.Result)
	}
	s.log.Log(ctx, slog.LevelWarn, "resumed the unfinished run of a process that died", "alertId", ev.AlertID, "byAlertId", ev.By,
		"actions", len(ev.Actions), "unconfirmed", ev.Unconfirmed, "verification", verified, "notified", ev.Notified != nil && ev.Notified.Delivered,
		"resolution", string(ev.Resolution), "incident", ev.Incident, "headline", ev.Headline)
}

// abandon records jobs dropped before they ran. Alert runs get a history
// record (outcome failed, with why), so the drop is visible in
// --alert-history; the ledger was not claimed, so a later delivery runs them.
func (s *Server) abandon(jobs []*job, why string) {
	for _, j := range jobs {
		s.m.abandoned.WithLabelValues(why).Inc()
		if j.busy != "" {
			s.releaseBusy(j.busy)
		}
		s.jobLog(j).Warn("job abandoned before it ran", "why", why)
		if j.kind != jobAlert && j.kind != jobHealth && j.kind != jobEscalate {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.d.Store.RecordAlert(ctx, store.AlertRecord{Source: store.SourceAlertmanager, Fingerprint: j.alert.Fingerprint,
			Service: j.alert.Service, Namespace: j.alert.Namespace, Kind: string(j.alert.Kind), Summary: text.Clip(j.alert.Text, 500),
			Env: s.d.Env, Outcome: store.OutcomeFailed, Error: "abandoned before it ran: " + why})
		cancel()
		if err != nil {
			s.log.Error("abandoned job not recorded", "error", err.Error())
		}
	}
}

func (s *Server) jobLog(j *job) *slog.Logger {
	return s.log.With("job", string(j.kind), "lane", j.lane, "fingerprint", j.fp)
}

// recordCtx outlives a cancelled run briefly, so its end is recorded.
func recordCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// NoApprover answers for nobody: in approve mode the gate refuses writes
// (rule mode.approve_no_terminal), never approves them silently.
type NoApprover struct{}

// Interactive is false: no person can answer.
func (NoApprover) Interactive() bool { return false }

// Approve refuses.
func (NoApprover) Approve(context.Context, tools.Plan) (bool, error) {
	return false, errors.New("no operator can approve writes in serve")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
