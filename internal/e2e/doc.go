// Package e2e holds the end-to-end tests (build tag e2e, `make e2e`): the
// built ops-skill binary, configured as a user would (kubeconfig,
// PROMETHEUS_URL, ALERT_WEBHOOK), plays the spec's incidents on the local
// stack of scripts/testenv, where the live workload model
// (scripts/testenv/workload) makes the metrics answer to what ops-skill does.
// The assertions read the cluster, Prometheus and a webhook receiver.
package e2e
