// Package serve is `ops-skill serve`: automatic operations without a person
// typing a command. It receives Alertmanager's webhook, runs the health-check
// matrix, the scaling rules and the escalation timers, and hands everything
// to the same agent, planner, guard and notifications as the CLI.
//
// # Alert intake
//
// POST /webhook takes Alertmanager's payload (version 4; unknown fields are
// tolerated, truncatedAlerts is logged and counted). A request is
// authenticated first (a bearer token or basic-auth credentials, compared in
// constant time; anonymous requests are refused unless explicitly allowed:
// 401), its body is bounded (413), it is decoded (400), and each alert
// becomes a job: a firing alert an agent run, a resolved alert the closing of
// what its firing opened. The answer comes at once (202 when something was
// queued, 200 when everything was a duplicate); the work happens in a bounded
// queue with one lane per subject (agent.CorrelationKey: the workload's
// namespace/name), so two runs never act on the same workload at once and the
// alerts of one subject run in order: the first opens its incident, the
// later ones join it. A delivery whose jobs do not fit is refused
// as a whole with 503 and Retry-After, so Alertmanager retries it.
//
// # Idempotence
//
// An alert instance is its Alertmanager fingerprint, its start time and its
// status (DeliveryKey). The group is left out: the same alert routed through
// two groups is one problem. A duplicate — the same notification from both
// Alertmanager peers, a retry, a repeat — is recognised in memory at intake
// (before the alert is even parsed) and answered without touching the
// database; the ledger in the history store (UpdateState, an atomic
// read-modify-write shared by processes that share the store) is checked
// again when the job runs, so restarts and replicas act once too. An
// instance is acted on at most once: a run left "running" by a replica that
// died may have acted, so it is not run again until ClaimTimeout has passed;
// a run cancelled before it acted (lost lease, shutdown) may run again; if
// the ledger cannot be read, the job does not act.
//
// A resolved alert drops a queued run of its firing instance, marks that
// instance done in the ledger (a late firing delivery does not act on a
// resolved alert), resolves the incident the firing run opened or joined
// (found by fingerprint in the firing record) unless other alerts of that
// incident still fire (the resolution goes on its timeline), stops its
// escalation timer, and tells the team when it had been escalated.
//
// # Loops
//
// While leading, three loops run: the health-check matrix every
// HEALTH_CHECK_INTERVAL through the registry's checkHealth tool (the same
// checker whose consecutive-failure counts the guard reads), where a service
// the self-healing ladder puts at restart, replace or escalate becomes a
// synthetic "health check failing" alert for the agent; the scaling rules
// for the configured workloads, where the loop only proposes
// scaleDeployment through the registry's gate and the guard allows, clamps
// or refuses; and the escalation timers, where a firing alert still firing
// ESCALATION_HOURS after its own start (guard.AlertPolicy.ShouldEscalate)
// is run again and escalated, once. The timers live in the store, so a new
// leader escalates what its predecessor was waiting on; a run that did not
// get to decide (skipped by the alert cooldown, failed, cancelled) leaves
// its timer armed for the next round, and one that decided ends it (in
// observe mode too, where it pages nobody).
//
// # Several replicas: every replica receives, only the leader acts
//
// With a cluster, replicas elect a leader with a coordination.k8s.io Lease
// (client-go's leaderelection, LeaseElector). Every replica authenticates,
// bounds and decodes what it receives, but only the leader queues and acts;
// a follower answers 503 with Retry-After, and Alertmanager retries — through
// the Service, the retry reaches the leader, or reaches this replica after a
// failover. This was chosen over forwarding to the leader because a 2xx is
// then only ever given by the replica that will do the work: a follower
// cannot acknowledge a delivery and lose it when the leader it forwarded to
// dies, and no replica needs to know another's address. Readiness does not
// depend on being the leader (a rollout would stall otherwise): /readyz is
// ready when the store answers and the leadership is known.
//
// A leader stops acting before its renew deadline: client-go ends the
// leadership when it cannot renew within RenewDeadline, and a watchdog on
// the lease's own renewals ends it earlier if the renew loop hangs; queued
// jobs of the term are dropped (their ledger entries stay unclaimed, so a
// redelivery runs them) and in-flight runs are cancelled (the agent records
// the cancellation). The lease timing must leave LeaseDuration >
// RenewDeadline + RetryPeriod, so the old leader has stopped before anyone
// may take over. Without a cluster (--simulate), Solo makes the one
// instance the leader.
//
// # Operation
//
// /healthz (liveness), /readyz, /metrics (client_golang on the caller's own
// registry: alerts received, deliveries de-duplicated, actions by tool and
// outcome, refusals by rule, runs, LLM calls and tokens, queue depth, loop
// durations, leadership), structured JSON logs that never contain a secret,
// and a graceful shutdown: on SIGTERM the server stops accepting, lets queued
// and in-flight work finish within the grace period, cancels what remains
// (recorded in history), and only then releases the lease.
package serve
