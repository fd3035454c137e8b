#!/usr/bin/env bash
# Loopback load on `ops-skill serve`, compared with a bare net/http handler in
# the same run: a storm of identical deliveries (and the check, in serve's
# history, that it produced exactly one action), distinct deliveries, and the
# resident memory of serve. Arguments go to the Go program (scripts/load):
#   scripts/load/run.sh [-storm 10000] [-distinct 2000] [-c 32] [-json] [-replicas N] [-store URL]
# -store (or OPS_SKILL_STORE_URL) is serve's store: empty for a SQLite file, or
# a postgres:// URL, in which each run gets a new schema, dropped after. On the
# test stack's PostgreSQL (scripts/testenv/postgres.sh up, or make testenv-up):
#   set -a; . .testenv/env; set +a
#   scripts/load/run.sh -replicas 3 -store "postgres://$POSTGRES_USER@$POSTGRES_ADDR/postgres?sslmode=disable"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
make -s build
exec go run ./scripts/load -bin bin/ops-skill "$@"
