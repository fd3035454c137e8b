// Package guard is the guardrail policy of ops-skill: pure functions that take a
// proposed action, the live observations gathered for it and the persisted
// state of the target, and return a Decision (allow, clamp or refuse) naming the
// rule that decided and the inputs it used.
//
// The package does no I/O and reads no clock: every time decision uses the
// `now` passed in, so the same inputs always give the same decision. Every
// decision fails closed: an invalid policy, an unknown metric, an unreadable
// state or a zero Decision never allows a write.
//
// The policies:
//
//   - ScalingPolicy.Decide: replica changes from sustained metric windows
//     (scale up on CPU, scale out on error rate, scale down on CPU), with
//     stabilisation after a scale, a scale-down cooldown after a scale up,
//     clamping to the firing rules and to [Min, Max], and refusals for
//     autoscaler-owned, opted-out and scaled-to-zero workloads.
//   - HealingPolicy: the restart → replace → escalate ladder, a restart budget
//     per hour, no restart of a paused rollout, OOM detection and bounded memory
//     raises.
//   - PartitionPolicy.Decide: which partitions may be dropped.
//   - AlertPolicy: alert and notification cooldowns, escalation timing.
//   - Scope, Mode and RunBudget: namespace allowlist, observe/approve/auto modes
//     and a cap on writes per run.
//
// WorkloadState is the small per-workload record (last scales, restarts,
// memory baseline) that the caller persists, on Kubernetes as an annotation
// written in the same update as the change.
package guard
