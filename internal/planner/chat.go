package planner

import (
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// request answers an operator's conversation request by the intent code
// detected: health, auto-scale, history, storage, what-if, status, scale,
// restart, an incident described in words, or help. Code has already filled
// in what a follow-up leaves unsaid ("and for frontend?", "scale it to 3",
// "why?": agent.Conversation), so a follow-up left here had nothing to follow.
func (r *Rules) request(c conversation) turn {
	switch c.facts.Intent {
	case alert.IntentHealth:
		return r.healthCheck(c, false)
	case alert.IntentAutoscale:
		return r.healthCheck(c, true)
	case alert.IntentHistory:
		return r.history(c)
	case alert.IntentStorage:
		return r.storage(c)
	case alert.IntentWhatIf:
		return r.whatIf(c)
	case alert.IntentStatus:
		return r.status(c)
	case alert.IntentScale:
		return r.scaleTo(c)
	case alert.IntentRestart:
		return r.restart(c)
	case alert.IntentIncident:
		return r.incident(c)
	case alert.IntentFollowUp:
		return say("Follow up on what? Ask about a service first, e.g. \"status of backend\", then \"and for frontend?\".")
	}
	return say(helpText)
}

const helpText = `I can check the platform's health ("check system health"), scale what the rules call for ("check system health and auto-scale if needed"), explain what I did ("why did you scale backend?", or just "why?" after an action), show disk usage and growth ("show ClickHouse disk growth"), say what the rules would do ("what would you do if CPU stayed at 90%?"), show one service ("status of frontend", then "and for backend?"), scale or restart one ("scale it to 3", "restart frontend": the guardrails decide), or handle an alert you paste.`

// incident handles a problem described in a conversation like an alert of
// its kind.
func (r *Rules) incident(c conversation) turn {
	if c.facts.Service == "" {
		return say("Which service? Name it, e.g. \"backend CPU is at 90%\".")
	}
	return r.playbook(c)
}

// scaleTo sets the subject's replicas as asked; the guard decides what is
// allowed (steps, bounds, windows) and says why when it is not.
func (r *Rules) scaleTo(c conversation) turn {
	if c.facts.Service == "" || c.facts.Replicas <= 0 {
		return say("Scale what, to how many? e.g. \"scale backend to 4\".")
	}
	if o, ok := c.acted(tools.ScaleDeployment); ok {
		return say(operatorWrite(o))
	}
	args := r.workload(c)
	args["replicas"], args["reason"] = c.facts.Replicas, "operator asked in chat"
	return turn{calls: []call{{tools.ScaleDeployment, args}}}
}

// restart restarts the subject's pods as asked; the guard's restart budget
// decides.
func (r *Rules) restart(c conversation) turn {
	if c.facts.Service == "" {
		return say("Restart what? e.g. \"restart frontend\".")
	}
	if o, ok := c.acted(tools.RestartPods); ok {
		return say(operatorWrite(o))
	}
	args := r.workload(c)
	args["reason"] = "operator asked in chat"
	return turn{calls: []call{{tools.RestartPods, args}}}
}

// operatorWrite says what came of a write the operator asked for.
func operatorWrite(o tools.Outcome) string {
	switch o.Status {
	case tools.StatusRefused:
		return fmt.Sprintf("Not done: the guard refused (%s): %s.", o.Rule, o.Reason)
	case tools.StatusFailed:
		return "It failed: " + why(o)
	case tools.StatusDryRun:
		return "Observe mode: " + o.Summary + " (nothing changed)."
	}
	if o.Decision != nil && o.Decision.Verdict == guard.Clamp {
		return fmt.Sprintf("Done within the guardrails, not as asked: %s (%s: %s).", o.Summary, o.Rule, o.Decision.Reason)
	}
	return "Done: " + o.Summary + "."
}

// healthCheck runs the health matrix and, for auto-scale, reads every
// service's CPU and scales those the scale-up rule calls for.
func (r *Rules) healthCheck(c conversation, scale bool) turn {
	hs, ok := last[[]platform.HealthResult](c, tools.CheckHealth, nil)
	if !ok {
		if o, tried := c.called(tools.CheckHealth, nil); tried {
			return say("The health checks could not run: " + firstNonEmpty(o.Error, o.Reason))
		}
		return turn{calls: []call{{tools.CheckHealth, map[string]any{}}}}
	}
	if !scale {
		return say(healthTable(hs))
	}
	if _, ok := c.called(tools.QueryMetrics, nil); !ok {
		var calls []call
		for _, h := range hs {
			a := map[string]any{"namespace": c.facts.Namespace, "name": h.Service, "metric": "cpu_utilization", "range": "15m"}
			calls = append(calls, call{tools.QueryMetrics, a}, call{tools.GetServiceStatus, map[string]any{"namespace": c.facts.Namespace, "name": h.Service}})
		}
		return turn{calls: calls}
	}
	if _, ok := c.acted(tools.ScaleDeployment); ok {
		return say(r.wrapUp(c))
	}
	calls, notes := r.scaleCandidates(c, hs)
	text := healthTable(hs) + "\n" + strings.Join(notes, "\n")
	if len(calls) == 0 {
		return say(text + "\nDecision: no scaling needed.")
	}
	return turn{report: plan.Report{Text: text}, calls: calls}
}

// scaleCandidates proposes a scale-up for each service whose CPU is above the
// threshold now; the guard decides whether the window is sustained.
func (r *Rules) scaleCandidates(c conversation, hs []platform.HealthResult) ([]call, []string) {
	var calls []call
	var notes []string
	for _, h := range hs {
		m, ok := c.metricOf("cpu_utilization", c.facts.Namespace+"/"+h.Service)
		st, stOK := last[tools.ServiceStatus](c, tools.GetServiceStatus, func(o tools.Outcome) bool { return o.Target == c.facts.Namespace+"/"+h.Service })
		if !ok || !stOK {
			continue
		}
		cpu := lastOf(m)
		switch {
		case cpu <= r.p.ScaleUpThreshold:
			notes = append(notes, fmt.Sprintf("- %s: CPU %.0f%%, %d replicas: no scaling", h.Service, cpu, st.Replicas))
		case st.AutoscaledBy != "":
			notes = append(notes, fmt.Sprintf("- %s: CPU %.0f%% but replicas belong to %s", h.Service, cpu, st.AutoscaledBy))
		case st.Replicas >= r.p.MaxReplicas:
			notes = append(notes, fmt.Sprintf("- %s: CPU %.0f%% at the maximum of %d replicas", h.Service, cpu, r.p.MaxReplicas))
		default:
			notes = append(notes, fmt.Sprintf("- %s: CPU %.0f%%: scale %d → %d", h.Service, cpu, st.Replicas, st.Replicas+r.p.UpStep))
			calls = append(calls, call{tools.ScaleDeployment, map[string]any{"namespace": c.facts.Namespace, "name": h.Service,
				"replicas": st.Replicas + r.p.UpStep, "reason": "operator asked to auto-scale; CPU above threshold"}})
		}
	}
	return calls, notes
}

func healthTable(hs []platform.HealthResult) string {
	failing := 0
	lines := []string{}
	for _, h := range hs {
		state := "ok"
		if !h.OK {
			state, failing = "FAILING ("+text.Clip(h.Detail, 80)+")", failing+1
		}
		lines = append(lines, fmt.Sprintf("- %s %s: %s", h.Service, h.Check, state))
	}
	head := fmt.Sprintf("Health: %d of %d checks passing.", len(hs)-failing, len(hs))
	return head + "\n" + strings.Join(lines, "\n")
}

// history answers "why did you …?": from the conversation when the last
// request acted on the subject, else from the recorded actions.
func (r *Rules) history(c conversation) turn {
	if t, ok := r.whyLast(c); ok {
		return t
	}
	ans, ok := last[tools.HistoryAnswer](c, tools.QueryHistory, nil)
	if !ok {
		if o, tried := c.called(tools.QueryHistory, nil); tried {
			return say("The history could not be read: " + why(o))
		}
		args := map[string]any{"what": "actions", "since": "7d"}
		if c.facts.Service != "" {
			args["namespace"], args["name"] = c.facts.Namespace, c.facts.Service
		}
		return turn{calls: []call{{tools.QueryHistory, args}}}
	}
	if len(ans.Entries) == 0 {
		return say(fmt.Sprintf("I find no action on %s in the last %s.", firstNonEmpty(c.facts.Service, "any workload"), ans.Since))
	}
	lines := []string{fmt.Sprintf("Actions in the last %s, newest first:", ans.Since)}
	for _, e := range ans.Entries {
		line := fmt.Sprintf("- %s %s", e.At.UTC().Format("2006-01-02 15:04"), e.Summary)
		if e.Rule != "" {
			line += fmt.Sprintf(" [%s, rule %s]", e.Status, e.Rule)
		}
		lines = append(lines, line)
	}
	if ans.More > 0 {
		lines = append(lines, fmt.Sprintf("- and %d older, not shown", ans.More))
	}
	return say(strings.Join(lines, "\n"))
}

// storage reports disk usage and growth; it changes nothing.
func (r *Rules) storage(c conversation) turn {
	rep, ok := last[tools.StorageReport](c, tools.CheckStorage, nil)
	if !ok {
		if o, tried := c.called(tools.CheckStorage, nil); tried {
			return say("Storage could not be read: " + why(o))
		}
		return turn{calls: []call{{tools.CheckStorage, map[string]any{}}}}
	}
	rep2 := diskDiagnosis(rep)
	rep2.Text = "No change made: ask me to handle a disk alert to clean up."
	return answer(rep2)
}

// status shows one service.
func (r *Rules) status(c conversation) turn {
	if c.facts.Service == "" {
		return r.healthCheck(c, false)
	}
	st, ok := last[tools.ServiceStatus](c, tools.GetServiceStatus, nil)
	if !ok {
		if o, tried := c.called(tools.GetServiceStatus, nil); tried {
			return say("The service could not be read: " + why(o))
		}
		return turn{calls: []call{{tools.GetServiceStatus, r.workload(c)}, {tools.QueryMetrics, r.queryArgs(c, "cpu_utilization", "15m")}}}
	}
	if _, ok := c.metric("cpu_utilization"); !ok && !c.queried("cpu_utilization") {
		return turn{calls: []call{{tools.QueryMetrics, r.queryArgs(c, "cpu_utilization", "15m")}}}
	}
	text := fmt.Sprintf("%s: %s, %d/%d ready", st.Target, st.Status, st.Ready, st.Replicas)
	if m, ok := c.metric("cpu_utilization"); ok {
		if s, ok := first(m); ok {
			text += fmt.Sprintf("; CPU %.0f%% (min %.0f, max %.0f over %s, %s)", s.Last, s.Min, s.Max, m.Range, s.Trend)
		}
	}
	return say(text)
}

// whatIf explains what the rules would do, without doing it.
func (r *Rules) whatIf(c conversation) turn {
	replicas := int32(0)
	if c.facts.Service != "" {
		st, ok := last[tools.ServiceStatus](c, tools.GetServiceStatus, nil)
		if _, tried := c.called(tools.GetServiceStatus, nil); !ok && !tried {
			return turn{calls: []call{{tools.GetServiceStatus, r.workload(c)}}}
		}
		replicas = st.Replicas
	}
	return say(r.whatIfText(c, replicas))
}

func (r *Rules) whatIfText(c conversation, replicas int32) string {
	p, v := r.p, c.facts.Value
	who := firstNonEmpty(c.facts.Service, "a workload")
	switch c.facts.Kind {
	case "cpu":
		if v <= p.ScaleUpThreshold {
			return fmt.Sprintf("At %.0f%% CPU nothing happens: scale-up needs CPU above %.0f%% for %s.", v, p.ScaleUpThreshold, units.Duration(p.UpWindow))
		}
		steps := ""
		if replicas > 0 {
			var seq []string
			for n := replicas + p.UpStep; n <= p.MaxReplicas && len(seq) < 4; n += p.UpStep {
				seq = append(seq, fmt.Sprint(n))
			}
			steps = fmt.Sprintf(" %s has %d replicas: %s, each after its own window.", who, replicas, strings.Join(seq, " → "))
		}
		return fmt.Sprintf("If CPU stayed at %.0f%% (above %.0f%%) for %s, I would scale %s up by %d replica; another step only after a full new window above the threshold measured after the scale, never above %d replicas.%s Nothing was changed now.",
			v, p.ScaleUpThreshold, units.Duration(p.UpWindow), who, p.UpStep, p.MaxReplicas, steps)
	case "error_rate":
		return fmt.Sprintf("If the error rate stayed above %.0f%% for %s, I would scale %s out by %d replicas at once, up to %d. Nothing was changed now.", p.ErrorRateThreshold, units.Duration(p.OutWindow), who, p.OutStep, p.MaxReplicas)
	case "disk":
		return fmt.Sprintf("If disk usage stayed high, I would drop partitions whose newest row is older than %d days (never the newest, bounded per run) and report growth and days to full. Nothing was changed now.", p.RetentionDays)
	case "memory", "crashloop":
		return fmt.Sprintf("If pods were OOM-killed, I would raise the memory limit at most x%.0f per incident, roll the pods, and escalate the leak to engineers. Nothing was changed now.", p.MemoryFactor)
	}
	return "Tell me the condition, e.g. \"what would you do if backend CPU stayed at 90%?\"."
}

// whyLast explains the last request's writes on the subject, with the
// planner's reasons and the guard's rules, without reading the history.
func (r *Rules) whyLast(c conversation) (turn, bool) {
	ctx := c.ctx
	if len(ctx.LastActions) == 0 || (c.facts.Service != "" && c.facts.Service != ctx.Subject.Name) {
		return turn{}, false
	}
	var lines []string
	for _, o := range ctx.LastActions {
		line := fmt.Sprintf("- %s %s: %s", o.Tool, o.Status, firstNonEmpty(o.Summary, o.Reason))
		if o.Rule != "" {
			line += fmt.Sprintf(" [rule %s", o.Rule)
			if o.Reason != "" && o.Status != tools.StatusRefused {
				line += ": " + o.Reason
			}
			line += "]"
		}
		lines = append(lines, line)
	}
	rep := ctx.LastReport
	why := "Because of what I found:"
	if len(rep.Diagnosis) > 0 || rep.Cause != "" || rep.Decision != "" {
		lines = append([]string{why}, lines...)
		var found []string
		found = append(found, rep.Diagnosis...)
		if rep.Cause != "" {
			found = append(found, "cause: "+rep.Cause)
		}
		if rep.Decision != "" {
			found = append(found, "decision: "+rep.Decision)
		}
		lines = append(lines[:1], append([]string{"  " + strings.Join(found, "; ")}, lines[1:]...)...)
	}
	return say(strings.Join(lines, "\n")), true
}
