// Package policy builds, once, the guardrail policy of ops-skill from its
// configuration. The tool gate enforces the result; the rules planner
// (planner.PolicyFrom), the agent's verification targets and the model's
// guardrail sentence (guard.Policy.Sentence) are derived from the same value.
package policy

import (
	"time"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

// Verification targets that are not configuration keys.
const (
	// DiskTargetPct is the disk usage below which a disk alert counts as resolved.
	DiskTargetPct = 75
	// LatencyTargetMs is the p99 latency below which a latency alert counts as resolved.
	LatencyTargetMs = 500
)

// FromConfig is the one guard.Policy of a configuration.
func FromConfig(cfg config.Config) guard.Policy {
	a, s, st := cfg.AutoScaling, cfg.SelfHealing, cfg.Storage
	return guard.Policy{
		Scope: guard.Scope{AllowedNamespaces: cfg.Kubernetes.AllowedNamespaces},
		Scaling: guard.ScalingPolicy{Enabled: a.Enabled, Min: int64(a.MinReplicas), Max: int64(a.MaxReplicas),
			Up:         guard.Rule{Threshold: a.ScaleUpThreshold, Sustain: a.ScaleUpDuration, Step: int64(a.ScaleUpStep)},
			Down:       guard.Rule{Threshold: a.ScaleDownThreshold, Sustain: a.ScaleDownDuration, Step: int64(a.ScaleDownStep)},
			Out:        guard.Rule{Threshold: a.ErrorRateThreshold, Sustain: a.ErrorRateDuration, Step: int64(a.ErrorRateStep)},
			SampleStep: tools.SampleStep, OptOutAnnotation: a.OptOutAnnotation},
		Healing: guard.HealingPolicy{Enabled: s.Enabled, RestartThreshold: s.RestartThreshold, ReplacementThreshold: s.ReplacementThreshold,
			RestartBudgetPerHour: s.RestartBudgetPerHour, MemoryMaxFactor: s.MemoryRaiseMaxFactor, MemoryCeiling: s.MemoryCeiling},
		Partitions: guard.PartitionPolicy{Workload: st.ClickHouseWorkload, Retention: time.Duration(st.RetentionDays) * 24 * time.Hour, MinKeep: st.MinPartitions,
			MaxPerRun: st.MaxPartitionsPerRun, MaxBytesPerRun: uint64(st.MaxBytesPerRun)},
		Volumes:       guard.VolumePolicy{MaxGrowthFactor: st.VolumeMaxGrowthFactor, Ceiling: st.VolumeCeiling},
		Alerting:      guard.AlertPolicy{Enabled: cfg.Alerting.Enabled, Cooldown: cfg.Alerting.Cooldown, EscalateAfter: cfg.Alerting.EscalationAfter()},
		NotifyEnabled: cfg.Alerting.Enabled,
		Targets: guard.Targets{CPUPct: a.ScaleUpThreshold, ErrorRatePct: a.ErrorRateThreshold,
			LatencyMs: LatencyTargetMs, DiskPct: DiskTargetPct},
	}
}
