package guard

import (
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/units"
)

// Policy is the whole guardrail policy of one ops-skill: built once from the
// configuration (package policy), it is what the tool gate enforces, and the
// rules planner, the verification targets and the model's guardrail sentence
// are derived from it, so none of them can disagree.
type Policy struct {
	Scope      Scope
	Scaling    ScalingPolicy
	Healing    HealingPolicy
	Partitions PartitionPolicy
	Volumes    VolumePolicy
	Alerting   AlertPolicy
	// NotifyEnabled false refuses the notify tool (ALERT_ENABLED=false).
	NotifyEnabled bool
	// Targets are the values under which a verification counts as resolved.
	Targets Targets
}

// Targets say when the signal of an alert is back to normal.
type Targets struct {
	CPUPct       float64 // CPU utilisation below this is resolved (the scale-up threshold)
	ErrorRatePct float64 // error rate below this is resolved (the scale-out threshold)
	LatencyMs    float64 // p99 latency below this is resolved
	DiskPct      float64 // disk usage below this is resolved
}

// Sentence is the policy in one line, for the model's system prompt.
func (p Policy) Sentence() string {
	s, h := p.Scaling, p.Healing
	return fmt.Sprintf("scale up on CPU>%.0f%% for %s (+%d), out on errors>%.0f%% for %s (+%d), down on CPU<%.0f%% for %s; replicas %d-%d; %d restarts/h; memory x%.0f max %s after OOM; drop partitions older than %dd",
		s.Up.Threshold, units.Duration(s.Up.Sustain), s.Up.Step, s.Out.Threshold, units.Duration(s.Out.Sustain), s.Out.Step,
		s.Down.Threshold, units.Duration(s.Down.Sustain), s.Min, s.Max, h.RestartBudgetPerHour,
		h.MemoryMaxFactor, units.IBytes(h.MemoryCeiling), p.RetentionDays())
}

// RetentionDays is the partition retention in whole days.
func (p Policy) RetentionDays() int { return int(p.Partitions.Retention / (24 * time.Hour)) }
