package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// startLoops starts the loops of a leadership term; they end with ctx.
func (s *Server) startLoops(ctx context.Context, t *term) {
	if s.cfg.HealthInterval > 0 {
		t.loops.Go(func() {
			s.every(ctx, "health", s.cfg.HealthInterval, func(ctx context.Context) { s.healthRound(ctx, t) })
		})
	}
	if s.cfg.ScalePeriod > 0 && len(s.cfg.ScaleWorkloads) > 0 {
		t.loops.Go(func() { s.every(ctx, "scaling", s.cfg.ScalePeriod, func(context.Context) { s.scaleRound(t) }) })
	}
	if s.cfg.EscalationPeriod > 0 {
		t.loops.Go(func() {
			s.every(ctx, "escalation", s.cfg.EscalationPeriod, func(ctx context.Context) { s.escalationRound(ctx, t) })
		})
	}
	if s.cfg.PrunePeriod > 0 {
		t.loops.Go(func() { s.every(ctx, "ledger-prune", s.cfg.PrunePeriod, s.pruneRound) })
	}
}

// pruneRound deletes the ledger's expired deliveries (see ledger.prune), on
// the injected clock.
func (s *Server) pruneRound(ctx context.Context) {
	n, err := s.led.prune(ctx, s.d.Clock.Now(), s.cfg.LedgerTTL)
	if err != nil {
		s.log.Warn("ledger prune failed", "error", err.Error(), "pruned", n)
		return
	}
	s.m.ledgerPruned.Add(float64(n))
	if n > 0 {
		s.log.Info("ledger pruned", "deliveries", n, "ttl", s.cfg.LedgerTTL.String())
	}
}

// every runs round at once, then every period until ctx ends.
func (s *Server) every(ctx context.Context, name string, period time.Duration, round func(context.Context)) {
	tick := s.d.Clock.NewTicker(period)
	defer tick.Stop()
	for {
		start := s.d.Clock.Now()
		round(ctx)
		s.m.loopSeconds.WithLabelValues(name).Observe(s.d.Clock.Since(start).Seconds())
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		}
	}
}

// healthRound runs the health matrix through the registry (the same checker
// the guard counts failures with) and turns each service the self-healing
// ladder says to act on into a synthetic alert for the agent. The guard
// still decides each restart or replacement.
func (s *Server) healthRound(ctx context.Context, t *term) {
	o := s.invoke(ctx, "health-loop", tools.CheckHealth, struct{}{})
	results, ok := o.Result.([]platform.HealthResult)
	if o.Status != tools.StatusOK || !ok {
		s.log.Warn("health round failed", "status", string(o.Status), "error", o.Error)
		return
	}
	ladder := s.d.Registry.Policy().Healing
	for _, r := range results {
		if r.OK {
			continue
		}
		step := ladder.Ladder(r.ConsecutiveFailures)
		if step == guard.StepNone {
			s.log.Info("health check failing, below the restart threshold", "service", r.Service, "failures", r.ConsecutiveFailures)
			continue
		}
		a := s.healthAlert(r, step)
		s.submit(t, &job{kind: jobHealth, lane: laneOf(a, a.Fingerprint), fp: a.Fingerprint, alert: a, busy: "health:" + r.Service})
	}
}

// healthAlert is the synthetic alert of a failing service. Its fingerprint
// names the ladder's step, so each rung (restart, replace, escalate) is
// acted on once per alert cooldown.
func (s *Server) healthAlert(r platform.HealthResult, step guard.Step) alert.Alert {
	ns := s.d.Parser.Namespace
	target := ns + "/" + r.Service
	text := fmt.Sprintf("Alert: %s health check failing: %d consecutive failures (%s); self-healing ladder: %s",
		r.Service, r.ConsecutiveFailures, text.Clip(r.Detail, 200), step)
	now := s.d.Now()
	start := now.Add(-time.Duration(max(r.ConsecutiveFailures-1, 0)) * s.cfg.HealthInterval)
	return alert.Alert{Source: alert.SourceHealth, Text: text, Status: "firing", Service: r.Service, Namespace: ns, Kind: alert.KindHealth,
		Attempts: r.ConsecutiveFailures, StartsAt: start, Labels: map[string]string{"alertname": "HealthCheckFailing", "ladder": step.String()},
		Fingerprint: alert.Fingerprint("health check failing; ladder "+step.String(), target)}
}

// scaleRound proposes, for each configured workload, what the scaling rules
// may allow; the job runs in the workload's lane.
func (s *Server) scaleRound(t *term) {
	for _, w := range s.cfg.ScaleWorkloads {
		s.submit(t, &job{kind: jobScale, lane: w.String(), workload: w, busy: "scale:" + w.String()})
	}
}

// runScale proposes a scale up to the policy's maximum; the guard allows
// only what a firing rule allows (clamped to one step) or refuses. When no
// up rule fires, it proposes a scale down to the minimum, judged the same
// way. Executed changes are notified.
func (s *Server) runScale(ctx context.Context, j *job) {
	pol := s.d.Registry.Policy().Scaling
	reason := "scaling loop: the rules are evaluated every " + s.cfg.ScalePeriod.String()
	run := tools.NewRun(0, s.d.Mode, NoApprover{}, 1)
	o := s.invokeIn(ctx, run, "scale-loop-up", tools.ScaleDeployment, scaleArgs{Namespace: j.workload.Namespace, Name: j.workload.Name, Replicas: int32(pol.Max), Reason: reason})
	if o.Status == tools.StatusRefused && !gateRule(o.Rule) {
		o = s.invokeIn(ctx, run, "scale-loop-down", tools.ScaleDeployment, scaleArgs{Namespace: j.workload.Namespace, Name: j.workload.Name, Replicas: int32(pol.Min), Reason: reason})
	}
	log := s.jobLog(j).With("status", string(o.Status), "rule", o.Rule)
	switch o.Status {
	case tools.StatusExecuted, tools.StatusDryRun:
		log.Info("scaling loop: "+o.Summary, "reason", o.Reason)
		msg := "Scaling loop: " + o.Summary
		if o.Status == tools.StatusDryRun {
			msg = "Scaling loop (observe mode, not applied): " + o.Summary
		}
		s.notify(ctx, msg+" (rule "+o.Rule+")", "info", j.workload.Name)
	case tools.StatusRefused:
		log.Debug("scaling loop: no change", "reason", o.Reason)
	default:
		log.Warn("scaling loop: proposal failed", "error", o.Error)
	}
}

// scaleArgs are the arguments of scaleDeployment.
type scaleArgs struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Replicas  int32  `json:"replicas"`
	Reason    string `json:"reason,omitempty"`
}

// gateRule reports refusals that no other proposal can get past.
func gateRule(rule string) bool {
	switch rule {
	case guard.RuleDisabledScaling, guard.RulePolicyInvalid, guard.RuleAutoscalerOwned, guard.RuleOptOut, guard.RuleReplicasZero,
		guard.RuleReplicasInvalid, guard.RuleNamespaceNotAllowed, guard.RuleModeApproveNoTerm, guard.RuleModeApprove, guard.RuleModeInvalid:
		return true
	}
	return false
}

// escalationRound queues an escalation run for each firing alert that has
// fired for ESCALATION_HOURS (the guard's ShouldEscalate, from the alert's
// own start) and was not escalated yet.
func (s *Server) escalationRound(ctx context.Context, t *term) {
	pol := s.d.Registry.Policy().Alerting
	if !pol.Enabled || pol.EscalateAfter <= 0 {
		return
	}
	now := s.d.Now()
	fps, err := s.led.due(ctx, now, pol.EscalateAfter, s.cfg.FiringTTL)
	if err != nil {
		s.log.Warn("escalation round failed", "error", err.Error())
	}
	for _, fp := range fps {
		f, ok, err := s.led.firing(ctx, fp)
		if err != nil || !ok || f.Escalated || !pol.ShouldEscalate(f.Alert.StartsAt, now) {
			continue
		}
		s.submit(t, &job{kind: jobEscalate, lane: f.Lane, fp: fp, alert: f.Alert, busy: "escalation:" + fp})
	}
}

// submit queues a loop job unless the same one is queued or running.
func (s *Server) submit(t *term, j *job) {
	if !s.claimBusy(j.busy) {
		return
	}
	j.term, j.queued = t.id, s.d.Clock.Now()
	if err := s.q.push(j); err != nil {
		s.releaseBusy(j.busy)
		s.log.Warn("loop job not queued: "+err.Error(), "job", string(j.kind), "lane", j.lane)
	}
}

// notify tells the team through the registry's notify tool.
func (s *Server) notify(ctx context.Context, message, severity, service string) {
	args := map[string]string{"message": text.Clip(message, 2900), "severity": severity}
	if service != "" {
		args["service"] = service
	}
	if o := s.invoke(ctx, "serve-notify", tools.Notify, args); o.Status != tools.StatusOK {
		s.log.Warn("notification not sent", "status", string(o.Status), "error", o.Error, "reason", o.Reason)
	}
}

// invoke makes one call through the registry's gate in a run of its own.
func (s *Server) invoke(ctx context.Context, id string, tool tools.Name, args any) tools.Outcome {
	return s.invokeIn(ctx, tools.NewRun(0, s.d.Mode, NoApprover{}, 1), id, tool, args)
}

func (s *Server) invokeIn(ctx context.Context, run *tools.Run, id string, tool tools.Name, args any) tools.Outcome {
	raw, err := json.Marshal(args)
	if err != nil {
		return tools.Outcome{Tool: tool, Status: tools.StatusInvalid, Error: err.Error()}
	}
	o := s.d.Registry.Invoke(ctx, run, tools.Call{ID: id + "-" + strconv.FormatUint(s.calls.Add(1), 10), Tool: tool, Args: raw})
	s.m.outcome(o)
	for _, f := range o.AuditErrors {
		s.log.Error("history not recorded", "call", id, "what", f.What, "error", f.Err)
	}
	return o
}
