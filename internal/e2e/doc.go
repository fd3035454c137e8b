// Package e2e holds the end-to-end tests (build tag e2e, `make e2e`): the
// built ops-skill binary, configured as a user would (kubeconfig,
// PROMETHEUS_URL, CLICKHOUSE_URL, ALERT_WEBHOOK), plays the spec's incidents
// on the local stack of scripts/testenv, where the live workload model
// (scripts/testenv/workload) makes the metrics answer to what ops-skill does
// and ClickHouse (chDB) holds real partitions on a volume of known size.
// The assertions read the cluster, Prometheus, ClickHouse's system tables
// and a webhook receiver. Each incident's run is recorded and compared with
// its simulated scenario through ops-skill eval --parity.
package e2e
