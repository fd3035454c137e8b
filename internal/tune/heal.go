package tune

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

// hitRules are the refusals tune counts as cooldown and budget hits.
var hitRules = map[string]bool{
	guard.RuleCooldownDownAfterUp: true, guard.RuleStabilizationUp: true, guard.RuleStabilizationDown: true,
	guard.RuleRestartBudget: true, guard.RuleNotifyCooldown: true, guard.RuleAlertCooldown: true, guard.RuleRestartLadder: true,
}

const restartTool = string(tools.RestartPods)

func nameOf(target string) string {
	_, name, ok := strings.Cut(target, "/")
	if !ok {
		return target
	}
	return name
}

// restarts lists the executed restarts of each workload, oldest first.
func restarts(calls []store.ToolCallRecord) map[string][]store.ToolCallRecord {
	out := map[string][]store.ToolCallRecord{}
	for _, c := range calls {
		if c.Tool == restartTool && c.Verdict == store.VerdictExecuted {
			out[c.Target] = append(out[c.Target], c)
		}
	}
	return out
}

// maxPerHour is the most restarts in any hour (a sliding window).
func maxPerHour(rs []store.ToolCallRecord) int {
	best, lo := 0, 0
	for hi := range rs {
		for rs[hi].At.Sub(rs[lo].At) >= time.Hour {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

func isReplace(c store.ToolCallRecord) bool { return strings.Contains(c.Args, `"pods"`) }

func serviceStats(h History, alerts []AlertStat, o Options) map[string]*ServiceStat {
	out := map[string]*ServiceStat{}
	get := func(name string) *ServiceStat {
		s := out[name]
		if s == nil {
			s = &ServiceStat{Service: name, Hits: map[string]int{}}
			out[name] = s
		}
		return s
	}
	for _, e := range h.Scales {
		s := get(e.Name)
		switch direction(e) {
		case 1:
			s.ScaleUps++
		case -1:
			s.ScaleDowns++
		}
	}
	for w, pairs := range reversals(h.Scales, o) {
		get(nameOf(w)).Reversals = len(pairs)
	}
	for w, rs := range restarts(h.Calls) {
		s := get(nameOf(w))
		for _, c := range rs {
			if isReplace(c) {
				s.Replacements++
			} else {
				s.Restarts++
			}
		}
		s.MaxRestartsPerHour = maxPerHour(rs)
	}
	for _, c := range h.Calls {
		if c.Verdict == store.VerdictRefuse && hitRules[c.Rule] && c.Target != "" {
			get(nameOf(c.Target)).Hits[c.Rule]++
		}
	}
	ladders(h.Decisions, o.Policy.Healing, get)
	for _, a := range h.Alerts {
		if a.Outcome == store.OutcomeEscalated && a.Service != "" {
			get(a.Service).Escalated++
		}
	}
	for _, a := range alerts {
		if a.CooldownHits > 0 && a.Service != "" {
			get(a.Service).Hits[guard.RuleAlertCooldown] += a.CooldownHits
		}
	}
	return out
}

// loopFindings reports workloads restarted again and again: more restarts
// in an hour than the budget allows, or restarts in several incidents.
func loopFindings(h History, stats map[string]*ServiceStat, o Options) []Finding {
	incidents := incidentsOf(h.Alerts)
	var out []Finding
	for w, rs := range restarts(h.Calls) {
		s := stats[nameOf(w)]
		alerts := map[int64]bool{}
		for _, c := range rs {
			alerts[c.AlertID] = true
		}
		budgetHits := s.Hits[guard.RuleRestartBudget]
		if len(alerts) < o.min() && budgetHits == 0 && s.MaxRestartsPerHour < max(o.Policy.Healing.RestartBudgetPerHour, 1) {
			continue
		}
		f := Finding{Problem: SelfHealLoop, Service: nameOf(w),
			Summary: fmt.Sprintf("%s was restarted %d times and had pods replaced %d times in %d incidents (at most %d in one hour); the restart budget refused %d more",
				w, s.Restarts, s.Replacements, len(alerts), s.MaxRestartsPerHour, budgetHits)}
		for _, c := range rs {
			step := "restart"
			if isReplace(c) {
				step = "replace"
			}
			f.Evidence = append(f.Evidence, Evidence{At: c.At, Incident: incidents[c.AlertID], AlertID: c.AlertID, Detail: step})
		}
		f.Suggestion = escalateSooner(o)
		out = append(out, f)
	}
	return out
}

// escalateSooner: limit consecutive restarts and replace instead — the
// ladder replaces one failure after the restart threshold — then escalate.
func escalateSooner(o Options) Suggestion {
	h := o.Policy.Healing
	note := "restarts do not fix the cause: look at the logs of the failing check and fix it; a person is needed"
	if h.ReplacementThreshold > h.RestartThreshold+1 {
		return Suggestion{Updates: []string{fmt.Sprintf("self_healing.replacement_threshold=%d", h.RestartThreshold+1)},
			Note: "replace pods one failure after the restart threshold, and escalate sooner; " + note}
	}
	return Suggestion{Note: note}
}

func sortedStats(m map[string]*ServiceStat) []ServiceStat {
	out := make([]ServiceStat, 0, len(m))
	for _, s := range m {
		if len(s.Hits) == 0 {
			s.Hits = nil
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}

func sortFindings(fs []Finding) {
	order := map[Problem]int{FalsePositive: 0, Thrashing: 1, SelfHealLoop: 2}
	sort.SliceStable(fs, func(i, j int) bool {
		if order[fs[i].Problem] != order[fs[j].Problem] {
			return order[fs[i].Problem] < order[fs[j].Problem]
		}
		return fs[i].Service+fs[i].Kind < fs[j].Service+fs[j].Kind
	})
}

// ladders sets each workload's highest rung from its restart decisions.
func ladders(decisions []store.DecisionRecord, pol guard.HealingPolicy, get func(string) *ServiceStat) {
	top := map[string]guard.Step{}
	for _, d := range decisions {
		if d.Kind != store.DecisionRestart {
			continue
		}
		b, err := guard.DecodeBasis(d.Basis)
		if err != nil || b.Restart == nil {
			continue
		}
		if step := pol.Ladder(b.Restart.ConsecutiveFailures); step > top[d.Target] {
			top[d.Target] = step
		}
	}
	for w, step := range top {
		get(nameOf(w)).Ladder = step.String()
	}
}
