package agent

import (
	"fmt"
	"strings"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// headline is the one-line resolution of a run, as in the spec's
// "Resolution: Auto-scaled from 3 to 5 replicas".
func headline(r *run) string {
	var done []string
	dry := false
	for _, o := range r.outcomes {
		if !o.Risk.ChangesPlatform() || (o.Status != tools.StatusExecuted && o.Status != tools.StatusDryRun) {
			continue
		}
		if o.Status == tools.StatusDryRun {
			dry = true
			done = append(done, dryPhrase(o))
			continue
		}
		done = append(done, actionPhrase(o))
	}
	v := r.sum.Verification
	if r.sum.Resolution == Cancelled {
		return cancelledHeadline(done, dry, v != nil)
	}
	switch {
	case len(done) > 0 && dry:
		return "Would " + strings.Join(done, ", ") + " (observe mode: nothing changed)"
	case len(done) > 0:
		h := capitalise(strings.Join(done, ", then "))
		if r.escalate {
			h += "; escalated to engineering"
		}
		return h
	case v != nil && v.Result == platform.VerifyResolved:
		return "No action needed: " + v.Signal + " " + v.After
	case r.sum.Error != "":
		return "Failed: " + text.Clip(r.sum.Error, 200)
	case r.escalate:
		return "No safe automatic action; escalated to engineering"
	}
	return "No action taken"
}

// cancelledHeadline says what a cancelled run had done: "Scaled
// ai-data-labs/backend from 3 to 4 replicas; cancelled before verification".
func cancelledHeadline(done []string, dry, verified bool) string {
	switch {
	case len(done) == 0:
		return "Cancelled before any change"
	case dry:
		return "Would " + strings.Join(done, ", ") + " (observe mode: nothing changed); cancelled"
	case verified:
		return capitalise(strings.Join(done, ", then ")) + "; cancelled"
	}
	return capitalise(strings.Join(done, ", then ")) + "; cancelled before verification"
}

func actionPhrase(o tools.Outcome) string {
	p := o.Params
	switch o.Tool {
	case tools.ScaleDeployment:
		return fmt.Sprintf("scaled %s from %v to %v replicas", o.Target, p["from"], p["to"])
	case tools.RestartPods:
		if p["action"] == "replace" {
			return "replaced pods of " + o.Target
		}
		return "restarted " + o.Target
	case tools.UpdateResources:
		s := fmt.Sprintf("raised the memory limit of %s from %v to %v", o.Target, p["from"], p["to"])
		if rr, ok := o.Result.(tools.ResourcesResult); ok && len(rr.Recycled) > 0 {
			s += fmt.Sprintf(" and recycled its not-ready pods %s", strings.Join(rr.Recycled, ", "))
		}
		return s
	case tools.ExpandVolume:
		return fmt.Sprintf("expanded volume %s from %v to %v", o.Target, p["from"], p["to"])
	case tools.DropPartitions:
		if dr, ok := o.Result.(tools.DropResult); ok {
			return fmt.Sprintf("dropped %d partitions of %s older than %v, freeing %s", len(dr.Dropped), dr.Table, p["retention"], dr.Freed)
		}
	}
	return o.Summary
}

// dryPhrase is what a dry run would have done, in the plan's own words
// ("scale ai-data-labs/backend from 3 to 4 replicas").
func dryPhrase(o tools.Outcome) string {
	s := strings.TrimPrefix(o.Summary, "would ")
	if i := strings.Index(s, " ("); i > 0 {
		s = s[:i]
	}
	return s
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
