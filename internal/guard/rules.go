package guard

// Rule names, as recorded in Decision.Rule and shown to the operator.
const (
	RulePolicyInvalid = "policy.invalid"

	// Scaling.
	RuleScaleUpCPU          = "scale_up.cpu"
	RuleScaleOutErrorRate   = "scale_out.error_rate"
	RuleScaleDownCPU        = "scale_down.cpu"
	RuleScaleDownErrorRate  = "scale_down.error_rate"
	RuleScaleDownNotReady   = "scale_down.pods_not_ready"
	RuleMaxReplicas         = "max_replicas"
	RuleMinReplicas         = "min_replicas"
	RuleReplicasZero        = "replicas_zero"
	RuleReplicasInvalid     = "replicas_invalid"
	RuleNoChange            = "no_change"
	RuleAutoscalerOwned     = "autoscaler_owned"
	RuleOptOut              = "opt_out"
	RuleCooldownDownAfterUp = "cooldown.scale_down_after_up"
	RuleStabilizationUp     = "stabilization.scale_up"
	RuleStabilizationDown   = "stabilization.scale_down"
	RuleMetricUnknown       = "metric_unknown"
	RuleDisabledScaling     = "disabled.auto_scaling"

	// Self-healing.
	RuleDisabledHealing        = "disabled.self_healing"
	RuleRestartRollout         = "restart.rollout"
	RuleRestartReplace         = "restart.replace"
	RuleRestartInvalidAction   = "restart.invalid_action"
	RuleRestartPaused          = "restart.paused"
	RuleRestartBudget          = "restart.budget"
	RuleRestartLadder          = "restart.ladder"
	RuleRestartNoPods          = "restart.no_pods"
	RuleRestartForeignPod      = "restart.foreign_pod"
	RuleRestartReplaceAll      = "restart.replace_all"
	RuleRestartNeedsMemory     = "restart.crashloop_needs_memory"
	RuleMemoryRaise            = "memory.raise"
	RuleMemoryMaxFactor        = "memory.max_factor"
	RuleMemoryCeiling          = "memory.ceiling"
	RuleMemoryNoDecrease       = "memory.no_decrease"
	RuleMemoryUnknownContainer = "memory.unknown_container"
	RuleMemoryNoLimit          = "memory.no_limit"
	RuleMemoryStale            = "memory.stale"
	RuleMemoryNoOOM            = "memory.no_oom"

	// Partitions.
	RulePartitionAllowed      = "partition.allowed"
	RulePartitionRetention    = "partition.retention"
	RulePartitionNewest       = "partition.newest"
	RulePartitionMinCount     = "partition.min_count"
	RulePartitionMaxCount     = "partition.max_count"
	RulePartitionMaxBytes     = "partition.max_bytes"
	RulePartitionServerLimit  = "partition.server_limit"
	RulePartitionUnknown      = "partition.unknown"
	RulePartitionMixedTables  = "partition.mixed_tables"
	RulePartitionNoneEligible = "partition.none_eligible"

	// Volumes.
	RuleVolumeExpand            = "volume.expand"
	RuleVolumeExpansionDisabled = "volume.expansion_disabled"
	RuleVolumeClassUnknown      = "volume.class_unknown"
	RuleVolumeNotBound          = "volume.not_bound"
	RuleVolumeShrink            = "volume.shrink"
	RuleVolumeGrowth            = "volume.growth"
	RuleVolumeCeiling           = "volume.ceiling"

	// Alerting.
	RuleDisabledAlerting  = "disabled.alerting"
	RuleAlertCooldown     = "alert.cooldown"
	RuleNotifyCooldown    = "notify.cooldown"
	RuleNotifyStateChange = "notify.state_change"
	RuleNotifyStale       = "notify.stale"
	RuleNotifyBudget      = "notify.max_per_run"

	// Scope, modes and budgets.
	RuleModeObserve         = "mode.observe"
	RuleModeApprove         = "mode.approve"
	RuleModeApproveNoTerm   = "mode.approve_no_terminal"
	RuleModeAuto            = "mode.auto"
	RuleModeInvalid         = "mode.invalid"
	RuleApprovalDeclined    = "approval.declined"
	RuleWritesMaxPerRun     = "writes.max_per_run"
	RuleWritesDuplicate     = "writes.duplicate"
	RuleStateUnreadable     = "state.unreadable"
	RuleNamespaceAllowed    = "namespace.allowed"
	RuleNamespaceNotAllowed = "namespace_not_allowed"
	// RulePromQLNamespace refuses raw PromQL with a selector whose own
	// namespace matcher reaches outside the namespaces the query is
	// confined to (the one asked for, else the allowlist).
	RulePromQLNamespace = "scope.promql_namespace"

	// Audit trail.
	// RuleAuditUnrecorded refuses a write whose intent could not be recorded
	// in the history: no write runs unrecorded.
	RuleAuditUnrecorded = "audit.unrecorded"
)

// Rules is the catalogue: every rule name a decision, a violation or a tool
// may carry. A rule name is never built anywhere else.
func Rules() []string {
	return []string{
		RulePolicyInvalid, RuleScaleUpCPU, RuleScaleOutErrorRate, RuleScaleDownCPU, RuleScaleDownErrorRate,
		RuleScaleDownNotReady, RuleMaxReplicas, RuleMinReplicas, RuleReplicasZero, RuleReplicasInvalid,
		RuleNoChange, RuleAutoscalerOwned, RuleOptOut, RuleCooldownDownAfterUp, RuleStabilizationUp,
		RuleStabilizationDown, RuleMetricUnknown, RuleDisabledScaling, RuleDisabledHealing, RuleRestartRollout,
		RuleRestartReplace, RuleRestartInvalidAction, RuleRestartPaused, RuleRestartBudget, RuleRestartLadder,
		RuleRestartNoPods, RuleRestartForeignPod, RuleRestartReplaceAll, RuleRestartNeedsMemory, RuleMemoryRaise,
		RuleMemoryMaxFactor, RuleMemoryCeiling, RuleMemoryNoDecrease, RuleMemoryUnknownContainer,
		RuleMemoryNoLimit, RuleMemoryStale, RuleMemoryNoOOM, RulePartitionAllowed, RulePartitionRetention,
		RulePartitionNewest, RulePartitionMinCount, RulePartitionMaxCount, RulePartitionMaxBytes,
		RulePartitionServerLimit, RulePartitionUnknown, RulePartitionMixedTables, RulePartitionNoneEligible,
		RuleVolumeExpand, RuleVolumeExpansionDisabled, RuleVolumeClassUnknown, RuleVolumeNotBound, RuleVolumeShrink,
		RuleVolumeGrowth, RuleVolumeCeiling,
		RuleDisabledAlerting, RuleAlertCooldown, RuleNotifyCooldown, RuleNotifyStateChange, RuleNotifyStale, RuleNotifyBudget, RuleModeObserve,
		RuleModeApprove, RuleModeApproveNoTerm, RuleModeAuto, RuleModeInvalid, RuleApprovalDeclined, RuleAuditUnrecorded,
		RuleWritesMaxPerRun, RuleWritesDuplicate, RuleStateUnreadable, RuleNamespaceAllowed,
		RuleNamespaceNotAllowed, RulePromQLNamespace,
	}
}
