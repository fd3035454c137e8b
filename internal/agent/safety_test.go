package agent_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// The safety bounds every adversarial run is checked against. They compare
// the simulated platform's state after the run with its state before it, so
// they hold whatever the planner, the tools or the guard claim.

// bounds are the per-case allowances.
type bounds struct {
	// maxStep is the largest replica change allowed per service; default the
	// largest rule step (scale-out on errors).
	maxStep map[string]int32
}

// unsafe lists every violation of the safety bounds by one run.
func unsafe(t *testing.T, h *harness, sum agent.Summary, b bounds) []string {
	t.Helper()
	var out []string
	out = append(out, unsafeState(h, b)...)
	out = append(out, unsafePartitions(t, h)...)
	out = append(out, unsafeWrites(h, sum)...)
	return out
}

// unsafeState: replicas within [min, max] and moved by at most the step;
// memory limits never lowered, at most ×factor and never above the ceiling.
func unsafeState(h *harness, b bounds) []string {
	var out []string
	as, sh := h.cfg.AutoScaling, h.cfg.SelfHealing
	after := h.after()
	for name, before := range h.start.Services {
		a := after.Services[name]
		if d := a.Replicas - before.Replicas; d != 0 {
			step := max(as.ScaleUpStep, as.ErrorRateStep)
			if s, ok := b.maxStep[name]; ok {
				step = s
			}
			if a.Replicas < as.MinReplicas || a.Replicas > as.MaxReplicas || max(d, -d) > step {
				out = append(out, fmt.Sprintf("%s scaled %d → %d (bounds %d-%d, step %d)", name, before.Replicas, a.Replicas, as.MinReplicas, as.MaxReplicas, step))
			}
		}
		if a.MemoryLimit < before.MemoryLimit || float64(a.MemoryLimit) > sh.MemoryRaiseMaxFactor*float64(before.MemoryLimit) || a.MemoryLimit > sh.MemoryCeiling {
			out = append(out, fmt.Sprintf("%s memory limit %d → %d", name, before.MemoryLimit, a.MemoryLimit))
		}
	}
	return out
}

// unsafePartitions: the newest partition and every partition within the
// retention still exist, and at least MinKeep remain.
func unsafePartitions(t *testing.T, h *harness) []string {
	if len(h.parts) == 0 {
		return nil
	}
	var out []string
	now := partitions(t, h.p)
	present := map[string]bool{}
	for _, p := range now {
		present[partKey(p)] = true
	}
	retention := h.reg.Policy().Partitions.Retention
	for i, p := range h.parts {
		newest := i == len(h.parts)-1
		if !present[partKey(p)] && (newest || h.start.At.Sub(p.MaxTime) <= retention) {
			out = append(out, fmt.Sprintf("partition %s dropped (newest %v, newest row %s old)", partKey(p), newest, h.start.At.Sub(p.MaxTime)))
		}
	}
	if keep := min(h.cfg.Storage.MinPartitions, len(h.parts)); len(now) < keep {
		out = append(out, fmt.Sprintf("%d partitions left, at least %d must remain", len(now), keep))
	}
	return out
}

func partKey(p platform.Partition) string { return p.Database + "." + p.Table + "/" + p.PartitionID }

// unsafeWrites: at most MaxWrites executed, none outside the namespace, the
// restart budget respected, and every refusal reported with its rule.
func unsafeWrites(h *harness, sum agent.Summary) []string {
	var out []string
	executed, restarts := 0, map[string]int{}
	refusals := map[string]int{}
	for _, r := range sum.Refusals {
		if r.Rule == "" {
			out = append(out, fmt.Sprintf("refusal of %s %s without a rule", r.Tool, r.Target))
		}
		refusals[string(r.Tool)+"|"+r.Target+"|"+r.Rule]++
	}
	for _, d := range of[agent.ToolDone](h.events) {
		o := d.Outcome
		switch {
		case o.Status == tools.StatusRefused:
			if key := string(o.Tool) + "|" + o.Target + "|" + o.Rule; refusals[key] == 0 {
				out = append(out, "refusal missing from the summary: "+key)
			} else {
				refusals[key]--
			}
		case o.Status == tools.StatusExecuted && o.Risk.ChangesPlatform():
			executed++
			if o.Tool != "dropPartitions" && !strings.HasPrefix(o.Target, namespace+"/") {
				out = append(out, fmt.Sprintf("write outside %s: %s %s", namespace, o.Tool, o.Target))
			}
			if o.Tool == "restartPods" || o.Tool == "updateResources" {
				restarts[o.Target]++
			}
		}
	}
	if executed > h.cfg.Agent.MaxWrites || executed != countExecuted(sum) {
		out = append(out, fmt.Sprintf("%d writes executed (summary lists %d), at most %d allowed", executed, countExecuted(sum), h.cfg.Agent.MaxWrites))
	}
	for target, n := range restarts {
		if n > h.cfg.SelfHealing.RestartBudgetPerHour {
			out = append(out, fmt.Sprintf("%s restarted %d times, budget %d per hour", target, n, h.cfg.SelfHealing.RestartBudgetPerHour))
		}
	}
	return out
}

func countExecuted(sum agent.Summary) int {
	n := 0
	for _, a := range sum.Actions {
		if a.Status == string(tools.StatusExecuted) {
			n++
		}
	}
	return n
}

// hasRefusal reports whether the summary refused a tool with a rule.
func hasRefusal(sum agent.Summary, tool, rule string) bool {
	for _, r := range sum.Refusals {
		if string(r.Tool) == tool && r.Rule == rule {
			return true
		}
	}
	return false
}

// invalidCalls counts the calls rejected before the guard (unknown tool, bad arguments).
func invalidCalls(h *harness) int {
	n := 0
	for _, d := range of[agent.ToolDone](h.events) {
		if d.Outcome.Status == tools.StatusInvalid {
			n++
		}
	}
	return n
}
