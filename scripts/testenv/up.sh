#!/usr/bin/env bash
# Brings up the whole local stack of real servers for the integration tests
# (kube first, then every other component script here in name order) and
# writes their connection settings, concatenated, to .testenv/env:
#
#   scripts/testenv/up.sh            # or: make testenv-up
#   set -a; . .testenv/env; set +a   # KUBECONFIG=…, PROMETHEUS_URL=…, …
#
# A component script is scripts/testenv/<name>.sh taking up|down|status;
# up.sh, down.sh and helpers (*-lib.sh, lib*.sh, _*.sh) are not components.
# Every component is idempotent, so running this again only starts what is
# missing. Stop everything with scripts/testenv/down.sh (make testenv-down).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/testenv/components.sh
. scripts/testenv/components.sh

start=$(date +%s%N)
for name in $(components); do
	t=$(date +%s%N)
	bash "scripts/testenv/$name.sh" up
	echo "testenv: $name up in $((($(date +%s%N) - t) / 1000000)) ms" >&2
done
mkdir -p .testenv/env.d
{
	echo "# written by scripts/testenv/up.sh; load with: set -a; . .testenv/env; set +a"
	for f in .testenv/env.d/*.env; do
		[[ -f $f ]] && cat "$f"
	done
} >.testenv/env.tmp
mv .testenv/env.tmp .testenv/env
echo "testenv: up in $((($(date +%s%N) - start) / 1000000)) ms; settings in .testenv/env" >&2
