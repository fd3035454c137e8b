#!/usr/bin/env bash
# Stops every component of the local test stack started by up.sh, in the
# reverse order (kube last), and removes .testenv/env. Each component's data
# is wiped; build caches under $HOME/.cache/ops-skill stay.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/testenv/components.sh
. scripts/testenv/components.sh

rc=0
for name in $(components | tac); do
	bash "scripts/testenv/$name.sh" down || rc=1
done
rm -f .testenv/env
exit $rc
