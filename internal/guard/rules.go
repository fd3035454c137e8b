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
	RulePartitionAllowed     = "partition.allowed"
	RulePartitionRetention   = "partition.retention"
	RulePartitionNewest      = "partition.newest"
	RulePartitionMinCount    = "partition.min_count"
	RulePartitionMaxCount    = "partition.max_count"
	RulePartitionMaxBytes    = "partition.max_bytes"
	RulePartitionServerLimit = "partition.server_limit"
	RulePartitionUnknown     = "partition.unknown"
	RulePartitionMixedTables = "partition.mixed_tables"

	// Alerting.
	RuleDisabledAlerting  = "disabled.alerting"
	RuleAlertCooldown     = "alert.cooldown"
	RuleNotifyCooldown    = "notify.cooldown"
	RuleNotifyStateChange = "notify.state_change"

	// Scope, modes and budgets.
	RuleModeObserve         = "mode.observe"
	RuleModeApprove         = "mode.approve"
	RuleModeApproveNoTerm   = "mode.approve_no_terminal"
	RuleModeAuto            = "mode.auto"
	RuleModeInvalid         = "mode.invalid"
	RuleApprovalDeclined    = "approval.declined"
	RuleWritesMaxPerRun     = "writes.max_per_run"
	RuleNamespaceAllowed    = "namespace.allowed"
	RuleNamespaceNotAllowed = "namespace_not_allowed"

	// Audit trail.
	// RuleAuditUnrecorded refuses a write whose intent could not be recorded
	// in the history: no write runs unrecorded.
	RuleAuditUnrecorded = "audit.unrecorded"
)
