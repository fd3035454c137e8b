package planner

import (
	"fmt"

	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// foreignVolume answers a disk alert on a volume that is not ClickHouse's:
// nothing there may be dropped. When the alert names the claim, it reads the
// volume and, at or above the disk target, expands it by the policy's step
// (the guard checks the class, the growth per incident and the ceiling);
// below the target, with the usage unknown, on a class that does not allow
// it or when the guard refuses, it escalates with the usage, the growth and
// the days to full.
func (r *Rules) foreignVolume(c conversation) turn {
	claim, ok := subjectClaim(c)
	if !ok {
		return r.unnamedVolume(c)
	}
	vol, read := last[tools.VolumeStatus](c, tools.GetVolume, nil)
	if !read {
		o, tried := c.called(tools.GetVolume, nil)
		if !tried {
			return turn{calls: []call{{tools.GetVolume, map[string]any{"namespace": claim.Namespace, "name": claim.Name}}}}
		}
		rep := r.volumeReport(c)
		rep.Diagnosis = append(rep.Diagnosis, "the volume "+claim.String()+" could not be read: "+why(o))
		rep.Decision = "no change: escalated to a person to free space or expand the volume."
		return answer(rep)
	}
	rep := r.volumeReport(c, volumeLines(vol)...)
	if o, done := c.acted(tools.ExpandVolume); done {
		rep.Decision = afterExpansion(vol, o)
		return answer(rep)
	}
	to := r.p.Volumes.Limit(vol.RequestedBytes)
	if why := r.noExpansion(vol, to); why != "" {
		rep.Decision = why
		return answer(rep)
	}
	args := map[string]any{"namespace": claim.Namespace, "name": claim.Name, "size": units.ExactIBytes(to),
		"reason": fmt.Sprintf("volume %.0f%% full", vol.Usage())}
	rep.Decision = fmt.Sprintf("expand %s from %s to %s (×%g, the most one incident allows), then verify its capacity.",
		vol.Target, vol.Requested, units.IBytes(to), r.p.Volumes.MaxGrowthFactor)
	return turn{report: rep, calls: []call{{tools.ExpandVolume, args}}}
}

// subjectClaim is the claim the alert names, when it names one.
func subjectClaim(c conversation) (platform.VolumeRef, bool) {
	s := c.facts.Subject
	if s == nil || s.Object.Kind != platform.ObjectPVC || s.Object.Name == "" {
		return platform.VolumeRef{}, false
	}
	return platform.VolumeRef{Namespace: firstNonEmpty(s.Object.Namespace, c.facts.Namespace), Name: s.Object.Name}, true
}

// volumeReport is what every answer about another workload's volume says.
func (r *Rules) volumeReport(c conversation, lines ...string) plan.Report {
	return plan.Report{Diagnosis: append(subjectLines(c), lines...),
		Cause: fmt.Sprintf("the volume of %s is filling up; it is not ClickHouse's (%s), so there are no partitions to drop.", c.facts.Service, r.p.StorageWorkload)}
}

// volumeLines describe the claim: its class, its sizes, its usage.
func volumeLines(v tools.VolumeStatus) []string {
	class := "StorageClass " + v.StorageClass + " allows expansion"
	switch {
	case v.ClassProblem != "":
		class = "StorageClass unknown (" + v.ClassProblem + ")"
	case !v.AllowExpansion:
		class = "StorageClass " + v.StorageClass + " does not allow expansion"
	}
	state := ""
	if v.Expansion != tools.ExpansionComplete {
		state = " (expansion " + string(v.Expansion) + ")"
	}
	lines := []string{fmt.Sprintf("Volume: %s, %s requested, capacity %s%s; %s", v.Target, v.Requested, v.Capacity, state, class)}
	return append(lines, "Usage: "+usageLine(v))
}

// usageLine is the usage, the growth and the days to full, where known.
func usageLine(v tools.VolumeStatus) string {
	if !v.UsageKnown() {
		return "unknown (" + v.UsageNote + ")"
	}
	s := fmt.Sprintf("%.0f%% of %s", v.Usage(), v.Capacity)
	switch {
	case v.GrowthPerDay == "":
		s += ", growth unknown"
	case v.DaysToFull > 0:
		s += fmt.Sprintf(", growing %s/day, full in %.1f days", v.GrowthPerDay, v.DaysToFull)
	default:
		s += ", not growing"
	}
	return s
}

// noExpansion says why the volume is not expanded, or "" to expand it to to.
func (r *Rules) noExpansion(v tools.VolumeStatus, to int64) string {
	switch {
	case !v.UsageKnown():
		return fmt.Sprintf("no change: the usage of %s cannot be read, so nothing shows it needs more space; escalated with what is known.", v.Target)
	case v.Usage() < r.p.DiskTargetPct:
		return fmt.Sprintf("no expansion: %s is %.0f%% full, below the %.0f%% target.", v.Target, v.Usage(), r.p.DiskTargetPct)
	case v.Expansion != tools.ExpansionComplete:
		return fmt.Sprintf("no change: an expansion of %s is already under way (%s); escalated if it does not complete.", v.Target, v.Expansion)
	case v.ClassProblem != "":
		return fmt.Sprintf("cannot expand %s: %s; escalated to a person to free space or expand it.", v.Target, v.ClassProblem)
	case !v.AllowExpansion:
		return fmt.Sprintf("cannot expand %s: its StorageClass %s does not allow expansion; escalated to a person to free space or move the data.", v.Target, v.StorageClass)
	case to <= v.RequestedBytes:
		return fmt.Sprintf("cannot expand %s: it already requests %s, the volume ceiling; escalated.", v.Target, v.Requested)
	}
	return ""
}

// afterExpansion is the decision once the expansion ran or was refused.
func afterExpansion(v tools.VolumeStatus, o tools.Outcome) string {
	switch o.Status {
	case tools.StatusRefused:
		return fmt.Sprintf("the expansion was refused by the guard (%s): %s. Escalated: usage %s.", o.Rule, o.Reason, usageLine(v))
	case tools.StatusFailed:
		return "the expansion failed: " + why(o) + ". Escalated: usage " + usageLine(v) + "."
	case tools.StatusDryRun:
		return "observe mode: " + o.Summary + "."
	}
	d := o.Summary
	if res, ok := o.Result.(tools.ExpandResult); ok {
		d += "; " + res.Note
	}
	if o.Reason != "" {
		d += " (" + o.Reason + ")"
	}
	return d + "."
}
