package planner

import (
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// request answers an operator's conversation request by the intent code
// detected: health, auto-scale, history, storage, what-if, status, help.
func (r *Rules) request(c conversation) turn {
	switch c.facts.Intent {
	case "health":
		return r.healthCheck(c, false)
	case "autoscale":
		return r.healthCheck(c, true)
	case "history":
		return r.history(c)
	case "storage":
		return r.storage(c)
	case "what_if":
		return r.whatIf(c)
	case "status":
		return r.status(c)
	}
	return say(helpText)
}

const helpText = `I can check the platform's health ("check system health"), scale what the rules call for ("check system health and auto-scale if needed"), explain what I did ("why did you scale backend?"), show disk usage and growth ("show ClickHouse disk growth"), say what the rules would do ("what would you do if CPU stayed at 90%?"), show one service ("status of frontend"), or handle an alert you paste.`

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

// history answers "why did you …?" from the recorded actions.
func (r *Rules) history(c conversation) turn {
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
