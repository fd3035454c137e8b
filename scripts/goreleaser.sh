#!/usr/bin/env bash
# goreleaser, pinned: installs it from the Go module proxy into $(go env GOPATH)/bin
# when that version is missing (kept out of the product's go.mod), then runs it
# with the arguments given, from the repository root.
#
#   scripts/goreleaser.sh check
#   scripts/goreleaser.sh release --snapshot --clean --skip=docker
#
# Without a git remote (this repository has none yet) goreleaser cannot read
# the git state and silently stamps commit "none" and date 0001-01-01 into a
# snapshot; so when there is no remote this gives git, for this run only and
# through its environment, the URL the project's module path names. Nothing is
# fetched from it and the repository's config is not touched.
set -euo pipefail

GORELEASER_VERSION=${GORELEASER_VERSION:-v2.15.1}
GO=${GO:-go}

cd "$(dirname "$0")/.."
export PATH="$PATH:$($GO env GOPATH)/bin"

have=$(goreleaser --version 2>/dev/null | awk '/^GitVersion:/ {print $2}') || true
if [[ $have != "$GORELEASER_VERSION" ]]; then
	echo "goreleaser.sh: installing goreleaser $GORELEASER_VERSION${have:+ (found $have)}: several minutes the first time" >&2
	$GO install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
fi

if [[ -z $(git remote 2>/dev/null) ]]; then
	n=${GIT_CONFIG_COUNT:-0}
	export "GIT_CONFIG_KEY_$n=remote.origin.url" "GIT_CONFIG_VALUE_$n=https://github.com/duet-company/ops-skill.git"
	export GIT_CONFIG_COUNT=$((n + 1))
fi

exec goreleaser "$@"
