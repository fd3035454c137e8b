package planner

import (
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// cpu handles sustained high CPU (and latency or error-rate alerts of a service):
// confirm the window, look at load and impact, scale up by the rules' step.
func (r *Rules) cpu(c conversation) turn {
	st, ok := last[tools.ServiceStatus](c, tools.GetServiceStatus, nil)
	if !ok {
		return turn{calls: []call{{tools.GetServiceStatus, r.workload(c)}}}
	}
	if _, ok := c.metric("request_rate"); !ok && !c.queried("request_rate") {
		calls := []call{{tools.QueryMetrics, r.queryArgs(c, "request_rate", "30m")}, {tools.QueryMetrics, r.queryArgs(c, "latency_p99_ms", "30m")}, {tools.QueryMetrics, r.queryArgs(c, "error_rate", "15m")}}
		if _, ok := c.metric("cpu_utilization"); !ok {
			calls = append(calls, call{tools.QueryMetrics, r.queryArgs(c, "cpu_utilization", "15m")})
		}
		if c.facts.Kind == "error_rate" {
			calls = append(calls, call{tools.CheckHealth, map[string]any{}}) // errors often come from a dependency
		}
		return turn{calls: calls}
	}
	if o, ok := c.acted(tools.ScaleDeployment); ok {
		return say(r.cpuDone(c, st, o))
	}
	cpu, ok := c.metric("cpu_utilization")
	if !ok {
		// Asking again every turn would not bring the metrics source back.
		return answer(plan.Report{Diagnosis: []string{serviceLine(c, st), "CPU metrics could not be read."},
			Decision: "no action: a sustained rise cannot be confirmed without CPU samples."})
	}
	errs, _ := c.metric("error_rate")
	cpuNow, errNow := lastOf(cpu), lastOf(errs)
	diag := r.cpuDiagnosis(c, st, cpu)
	if dep, detail := failingDependency(c); dep != "" && cpuNow <= r.p.ScaleUpThreshold {
		diag.Cause = fmt.Sprintf("dependency %s is failing its health check (%s); more %s replicas would not help.", dep, detail, c.facts.Service)
		diag.Decision = fmt.Sprintf("no scale; escalate the %s failure.", dep)
		return answer(diag)
	}
	switch {
	case st.AutoscaledBy != "":
		diag.Decision = fmt.Sprintf("no manual scale: the replicas belong to %s.", st.AutoscaledBy)
		return answer(diag)
	case cpuNow <= r.p.ScaleUpThreshold && errNow <= r.p.ErrorRateThreshold:
		diag.Decision = fmt.Sprintf("no action: CPU is %.0f%% (threshold %.0f%%) and errors %.1f%%.", cpuNow, r.p.ScaleUpThreshold, errNow)
		return answer(diag)
	case st.Replicas >= r.p.MaxReplicas:
		diag.Decision = fmt.Sprintf("cannot scale: already at the maximum of %d replicas.", r.p.MaxReplicas)
		return answer(diag)
	}
	step := int32(0)
	if cpuNow > r.p.ScaleUpThreshold {
		step = r.p.UpStep
	}
	if errNow > r.p.ErrorRateThreshold && r.p.OutStep > step {
		step = r.p.OutStep
	}
	target := min(st.Replicas+step, r.p.MaxReplicas)
	args := r.workload(c)
	args["replicas"], args["reason"] = target, "sustained high CPU"
	diag.Decision = fmt.Sprintf("scale up from %d to %d replicas.", st.Replicas, target)
	return turn{report: diag, calls: []call{{tools.ScaleDeployment, args}}}
}

func serviceLine(c conversation, st tools.ServiceStatus) string {
	return fmt.Sprintf("Service: %s, %d replicas, %s", c.facts.Service, st.Replicas, st.Status)
}

func (r *Rules) cpuDiagnosis(c conversation, st tools.ServiceStatus, cpu tools.MetricSummary) plan.Report {
	lines := []string{serviceLine(c, st)}
	if s, ok := first(cpu); ok {
		lines = append(lines, fmt.Sprintf("CPU: %.0f%% now, min %.0f%% over %s", s.Last, s.Min, cpu.Range))
	}
	if req, ok := c.metric("request_rate"); ok {
		if s, ok := first(req); ok {
			lines = append(lines, fmt.Sprintf("Load: %.0f req/s, %s (min %.0f, max %.0f over %s)", s.Last, s.Trend, s.Min, s.Max, req.Range))
		}
	}
	if lat, ok := c.metric("latency_p99_ms"); ok {
		if s, ok := first(lat); ok {
			lines = append(lines, fmt.Sprintf("Impact: p99 latency %.0f ms (+%.0f ms over the window's best)", s.Last, s.Last-s.Min))
		}
	}
	return plan.Report{Diagnosis: lines}
}

func (r *Rules) cpuDone(c conversation, st tools.ServiceStatus, o tools.Outcome) string {
	switch o.Status {
	case tools.StatusRefused:
		return fmt.Sprintf("The scale of %s was refused by the guard (%s): %s. No other action.", c.facts.Service, o.Rule, o.Reason)
	case tools.StatusFailed:
		return "The scale failed: " + o.Error
	case tools.StatusDryRun:
		return fmt.Sprintf("Observe mode: %s.", o.Summary)
	}
	return fmt.Sprintf("Scaled %s: %s. Verification follows.", c.facts.Service, o.Summary)
}

// crashing handles a database or service that does not answer: read the pods and
// the crashed container's logs; OOM gets restart, a bounded memory raise and a
// scale, then an incident; a plain crash loop gets a restart and an incident.
func (r *Rules) crashing(c conversation) turn {
	st, ok := last[tools.ServiceStatus](c, tools.GetServiceStatus, nil)
	if !ok {
		return turn{calls: []call{{tools.GetServiceStatus, r.workload(c)}}}
	}
	if _, ok := c.called(tools.GetLogs, nil); !ok {
		logs := r.workload(c)
		logs["previous"], logs["tail"] = true, 20
		return turn{calls: []call{{tools.GetLogs, logs}, {tools.QueryMetrics, r.queryArgs(c, "memory_utilization", "30m")}}}
	}
	if st.CrashLooping == 0 && st.Ready >= st.Replicas && st.Replicas > 0 {
		return answer(plan.Report{Diagnosis: []string{fmt.Sprintf("%s has %d/%d pods ready and none crash-looping", c.facts.Service, st.Ready, st.Replicas)},
			Cause: "the failure is not in the pods.", Decision: "none."})
	}
	oom := st.OOMKilled > 0 || logsMention(c, "memory limit", "out of memory", "oom")
	restart, restarted := c.acted(tools.RestartPods)
	raise, raised := c.acted(tools.UpdateResources)
	switch {
	case !restarted && !raised:
		return r.heal(c, st, oom)
	case raised && raise.Status == tools.StatusExecuted && !clampedAtCeiling(raise):
		if t, ok := r.addReplica(c, st); ok {
			return t
		}
	}
	if _, ok := c.called(tools.CreateIncident, nil); !ok {
		return turn{report: plan.Report{Text: r.healOutcome(raise, raised, restart, restarted)}, calls: []call{{tools.CreateIncident, map[string]any{"title": r.incidentTitle(c, oom),
			"service": c.facts.Service, "severity": "high", "summary": r.crashDiagnosis(c, st, oom).String()}}}}
	}
	return say(r.wrapUp(c))
}

// heal makes the first move: a memory raise for OOM (the limit change rolls the
// pods: a restart alone would bring back pods that are killed again), a
// restart otherwise. Capacity is added only once the raise is known to have
// gone through, in a later turn.
func (r *Rules) heal(c conversation, st tools.ServiceStatus, oom bool) turn {
	diag := r.crashDiagnosis(c, st, oom)
	lim := memoryLimit(st)
	if !oom || lim == 0 {
		restart := r.workload(c)
		restart["reason"] = "pods in CrashLoopBackOff"
		diag.Decision = "restart the pods; a crash loop that is not OOM needs engineers, so open an incident."
		return turn{report: diag, calls: []call{{tools.RestartPods, restart}}}
	}
	mem := r.workload(c)
	mem["memoryLimit"], mem["reason"] = units.IBytes(int64(float64(lim)*r.p.MemoryFactor)), "OOMKilled: restart with a raised memory limit"
	diag.Decision = "restart the pods with a raised memory limit (a restart alone will not fix OOM), then add a replica if the raise holds."
	return turn{report: diag, calls: []call{{tools.UpdateResources, mem}}}
}

// addReplica restores capacity after a successful memory raise, except for a
// single-instance workload (often not horizontally scalable) or one at the maximum.
func (r *Rules) addReplica(c conversation, st tools.ServiceStatus) (turn, bool) {
	if _, done := c.acted(tools.ScaleDeployment); done || st.Replicas <= 1 || st.Replicas >= r.p.MaxReplicas {
		return turn{}, false
	}
	scale := r.workload(c)
	scale["replicas"], scale["reason"] = st.Replicas+1, "restore capacity after OOM"
	return turn{report: plan.Report{Text: "The memory raise went through; adding a replica."}, calls: []call{{tools.ScaleDeployment, scale}}}, true
}

// clampedAtCeiling reports a raise the guard capped at the memory ceiling: the
// new limit may still be too small, so no pod is added.
func clampedAtCeiling(o tools.Outcome) bool { return strings.Contains(o.Rule, "ceiling") }

func (r *Rules) healOutcome(raise tools.Outcome, raised bool, restart tools.Outcome, restarted bool) string {
	switch {
	case raised && raise.Status == tools.StatusRefused:
		return "The memory raise was refused (" + raise.Rule + "): " + raise.Reason + ". No replica added; engineers must act."
	case raised && clampedAtCeiling(raise):
		return "The memory raise was capped at the ceiling (" + raise.Reason + "); no replica added, since the pods may still be OOMKilled."
	case restarted && restart.Status == tools.StatusRefused:
		return "The restart was refused (" + restart.Rule + "): " + restart.Reason + "."
	}
	return "Opening an incident for the root cause."
}

func (r *Rules) crashDiagnosis(c conversation, st tools.ServiceStatus, oom bool) plan.Report {
	cause := "containers crash (not OOM): see the logs"
	if oom {
		cause = "Out of memory: containers OOMKilled (exit 137)"
	}
	lines := []string{fmt.Sprintf("Service: %s, %d/%d ready, %d in CrashLoopBackOff", c.facts.Service, st.Ready, st.Replicas, st.CrashLooping)}
	if l := logLine(c); l != "" {
		lines = append(lines, "Logs: "+l)
	}
	if lim := memoryLimit(st); lim > 0 {
		lines = append(lines, "Memory limit: "+units.IBytes(lim))
	}
	return plan.Report{Diagnosis: lines, Cause: cause}
}

func (r *Rules) incidentTitle(c conversation, oom bool) string {
	if oom {
		return c.facts.Service + " crash-looping from OOM: memory limit raised, root cause needs engineering"
	}
	return c.facts.Service + " crash-looping: restarted, root cause needs engineering"
}

// disk handles disk usage: drop partitions past the retention, report growth.
// Only ClickHouse's volume has partitions to drop: another workload's full
// volume is diagnosed and escalated.
func (r *Rules) disk(c conversation) turn {
	if w := r.p.StorageWorkload; w != "" && c.facts.Service != "" && c.facts.Service != w {
		return r.foreignVolume(c)
	}
	rep, ok := last[tools.StorageReport](c, tools.CheckStorage, nil)
	if !ok {
		if o, failed := c.called(tools.CheckStorage, nil); failed {
			return answer(plan.Report{Diagnosis: []string{"storage could not be read: " + why(o)}, Decision: "none."})
		}
		return turn{calls: []call{{tools.CheckStorage, map[string]any{}}}}
	}
	diag := diskDiagnosis(rep)
	if o, ok := c.acted(tools.DropPartitions); ok {
		return say("Cleanup: " + firstNonEmpty(o.Reason, o.Summary) + "\n" + r.diskPlan(rep))
	}
	if len(rep.Disks) > 0 && rep.Disks[0].UsagePct < r.p.DiskTargetPct {
		diag.Decision = fmt.Sprintf("no action: usage is below %.0f%%.", r.p.DiskTargetPct)
		return answer(diag)
	}
	if len(rep.Eligible) == 0 {
		diag.Decision = "nothing is older than the retention; storage must be expanded by a person."
		return answer(diag)
	}
	var calls []call
	seen := map[string]bool{}
	for _, p := range rep.Eligible {
		db, table, _ := strings.Cut(p.Table, ".")
		if !seen[p.Table] {
			seen[p.Table] = true
			calls = append(calls, call{tools.DropPartitions, map[string]any{"database": db, "table": table}})
		}
	}
	diag.Decision = fmt.Sprintf("drop partitions older than %s (%s).", rep.Retention, rep.EligibleSize)
	return turn{report: diag, calls: calls}
}

func diskDiagnosis(rep tools.StorageReport) plan.Report {
	var lines []string
	for _, d := range rep.Disks {
		lines = append(lines, "Path: "+d.Path, fmt.Sprintf("Usage: %s / %s (%.0f%%)", d.Used, d.Total, d.UsagePct))
	}
	lines = append(lines, "Growth rate: "+rep.GrowthPerDay+"/day")
	if rep.DaysToFull > 0 {
		lines = append(lines, fmt.Sprintf("Est. full: %.0f days", rep.DaysToFull))
	}
	if rep.EligibleSize != "" {
		lines = append(lines, fmt.Sprintf("Older than %s: %d partitions, %s", rep.Retention, max(rep.EligibleCount, len(rep.Eligible)), rep.EligibleSize))
	}
	return plan.Report{Diagnosis: lines}
}

func (r *Rules) diskPlan(rep tools.StorageReport) string {
	return fmt.Sprintf("Prevention: keep the %s retention as a daily cleanup; at %s/day plan storage expansion before the next cleanup window.", rep.Retention, rep.GrowthPerDay)
}

// health handles a failing health check: read the pods and logs, restart.
func (r *Rules) health(c conversation) turn {
	st, ok := last[tools.ServiceStatus](c, tools.GetServiceStatus, nil)
	if !ok {
		return turn{calls: []call{{tools.GetServiceStatus, r.workload(c)}, {tools.CheckHealth, map[string]any{"service": c.facts.Service}}}}
	}
	if _, ok := c.called(tools.GetLogs, nil); !ok {
		logs := r.workload(c)
		logs["tail"] = 20
		return turn{calls: []call{{tools.GetLogs, logs}}}
	}
	if o, ok := c.acted(tools.RestartPods); ok {
		if t, replace := r.replaceStep(c, st, o); replace {
			return t
		}
		return say(r.wrapUp(c))
	}
	failing, detail := healthFailing(c), healthDetail(c)
	check := "health check " + map[bool]string{true: "failing", false: "passing"}[failing]
	if detail != "" {
		check += " (" + detail + ")"
	}
	diag := plan.Report{Diagnosis: []string{fmt.Sprintf("Service: %s, %d/%d ready", c.facts.Service, st.Ready, st.Replicas), check}}
	if l := logLine(c); l != "" {
		diag.Diagnosis = append(diag.Diagnosis, "Logs: "+l)
	}
	if !failing {
		diag.Decision = "no action: the health check passes now."
		return answer(diag)
	}
	args := r.workload(c)
	args["reason"] = "health check failing"
	diag.Decision = "rollout restart."
	return turn{report: diag, calls: []call{{tools.RestartPods, args}}}
}

// replaceStep follows the ladder when the guard refused a rollout restart
// because the failures reached the replacement threshold: replace one pod (the
// guard never lets every ready pod go at once); its disruption budget decides.
func (r *Rules) replaceStep(c conversation, st tools.ServiceStatus, restart tools.Outcome) (turn, bool) {
	if restart.Status != tools.StatusRefused || !strings.Contains(restart.Reason, "replace") || len(st.Pods) == 0 {
		return turn{}, false
	}
	if _, replaced := c.called(tools.RestartPods, func(o tools.Outcome) bool { return o.Params["action"] == "replace" }); replaced {
		return turn{}, false
	}
	args := r.workload(c)
	args["pods"], args["reason"] = []string{st.Pods[0].Name}, "health check still failing at the replacement threshold"
	return turn{report: plan.Report{Text: "The restart ladder calls for replacing pods: replacing " + st.Pods[0].Name + "."}, calls: []call{{tools.RestartPods, args}}}, true
}

// unnamedVolume answers a disk alert on another workload's volume that
// names no claim: nothing ops-skill may drop lives there and no claim is
// known to expand, so it says what it found and escalates.
func (r *Rules) unnamedVolume(c conversation) turn {
	st, ok := last[tools.ServiceStatus](c, tools.GetServiceStatus, nil)
	if _, tried := c.called(tools.GetServiceStatus, nil); !ok && !tried {
		return turn{calls: []call{{tools.GetServiceStatus, r.workload(c)}}}
	}
	rep := plan.Report{Diagnosis: subjectLines(c), Cause: fmt.Sprintf("the volume of %s is filling up; it is not ClickHouse's (%s), so there are no partitions to drop.", c.facts.Service, r.p.StorageWorkload),
		Decision: "no change: escalate to a person to free space or expand the volume."}
	if ok {
		rep.Diagnosis = append(rep.Diagnosis, serviceLine(c, st))
	}
	return answer(rep)
}

// diagnose answers an alert the rules only diagnose (a node, an HPA at its
// maximum, a replica mismatch, a failed job): it reads the subject and
// escalates with the evidence, writing nothing.
func (r *Rules) diagnose(c conversation) turn {
	rep := plan.Report{Diagnosis: subjectLines(c)}
	if c.facts.Service != "" {
		st, ok := last[tools.ServiceStatus](c, tools.GetServiceStatus, nil)
		if _, tried := c.called(tools.GetServiceStatus, nil); !ok && !tried {
			return turn{calls: []call{{tools.GetServiceStatus, r.workload(c)}}}
		}
		if ok {
			if _, read := c.called(tools.GetLogs, nil); !read {
				logs := r.workload(c)
				logs["tail"], logs["previous"] = 20, st.CrashLooping > 0
				return turn{calls: []call{{tools.GetLogs, logs}}}
			}
			rep.Diagnosis = append(rep.Diagnosis, serviceLine(c, st)+fmt.Sprintf(", %d/%d ready", st.Ready, st.Replicas))
			if st.AutoscaledBy != "" {
				rep.Diagnosis = append(rep.Diagnosis, "replicas owned by "+st.AutoscaledBy+": never scaled against it")
			}
			if st.CrashLooping > 0 {
				rep.Diagnosis = append(rep.Diagnosis, fmt.Sprintf("%d pods in CrashLoopBackOff", st.CrashLooping))
			}
			if l := logLine(c); l != "" {
				rep.Diagnosis = append(rep.Diagnosis, "Logs: "+l)
			}
		}
	}
	what := "this alert"
	if c.facts.Family != "" {
		what = "a " + string(c.facts.Family) + " alert"
	}
	rep.Decision = "no change: " + what + " is one the rules diagnose but do not act on; escalated with the evidence."
	if c.facts.Runbook != "" {
		rep.FollowUp = "runbook: " + c.facts.Runbook
	}
	return answer(rep)
}

// subjectLines say what the alert named and what it belongs to.
func subjectLines(c conversation) []string {
	s := c.facts.Subject
	if s == nil {
		return nil
	}
	line := "Subject: " + s.Chain()
	switch {
	case s.Node != "":
		line += fmt.Sprintf(" (%d pods: %s)", len(s.Pods), strings.Join(firstN(s.Pods, 5), ", "))
	case s.Workload.Name == "":
		line += " (no workload owns it)"
	}
	return []string{line}
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}
