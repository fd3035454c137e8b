#!/usr/bin/env bash
# package-test: build the release packages with goreleaser (snapshot, nothing
# published), check that every piece is in dist/ and says what it should,
# install the .deb with dpkg, run the installed binary, remove the package.
#
#   make package-test                       # host platform only (goreleaser --single-target)
#   PACKAGE_TEST_ALL=1 make package-test    # every platform of .goreleaser.yaml
#
# Needs root (dpkg -i) and a Debian-like system; installs goreleaser and krew
# (from the Go module proxy; goreleaser by scripts/goreleaser.sh) and rpm (apt)
# when they are missing. Any missing piece fails
# the run with a message saying which.
set -euo pipefail

ALERT="Alert: Backend service CPU at 85% for 5 minutes"
KREW_VERSION=${KREW_VERSION:-v0.4.3}
GO=${GO:-go}

cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
fail() {
	printf 'package-test: FAIL: %s\n' "$*" >&2
	exit 1
}
ok() { printf '  ok   %s\n' "$*"; }
# expect FILE WHAT PATTERN: FILE has a line matching the extended regexp PATTERN.
expect() { grep -Eq -- "$3" "$1" || fail "$2: no line matching /$3/ in $1"; }

[[ $(id -u) == 0 ]] || fail "run as root: the test installs the .deb with dpkg"
command -v dpkg-deb >/dev/null || fail "dpkg-deb is missing: this test needs a Debian-like system"
if dpkg-query -W -f='${Status}' ops-skill 2>/dev/null | grep -q "install ok installed"; then
	fail "an ops-skill package is already installed; remove it first (dpkg -r ops-skill), this test will not replace it"
fi

step "tools"
goreleaser() { GO=$GO bash scripts/goreleaser.sh "$@"; } # pinned, installed when missing
goreleaser --version | awk '/^GitVersion:/ {print "  goreleaser " $2}'
if ! command -v rpm >/dev/null; then
	echo "installing rpm (to list the .rpm's files)"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rpm >/dev/null; } ||
		fail "could not install rpm with apt-get"
fi

step "goreleaser check"
goreleaser check >/dev/null 2>&1 || { goreleaser check || true; fail "goreleaser check"; }
ok ".goreleaser.yaml is valid"

step "goreleaser release --snapshot"
# The image needs docker buildx and a daemon, which the project's machines do not have.
args=(release --snapshot --clean --skip=docker)
if [[ ${PACKAGE_TEST_ALL:-} != 1 ]]; then
	# `goreleaser release` has no --single-target: build from a copy of the
	# config whose only change is this machine's platform in builds.
	goos=$($GO env GOOS) goarch=$($GO env GOARCH)
	config=$(mktemp --suffix=.yaml)
	sed -e "s/^    goos: \[linux, darwin\]\$/    goos: [$goos]/" \
		-e "s/^    goarch: \[amd64, arm64\]\$/    goarch: [$goarch]/" .goreleaser.yaml >"$config"
	[[ $(grep -c "^    goos: \[$goos\]\$\|^    goarch: \[$goarch\]\$" "$config") == 2 ]] ||
		fail "could not narrow .goreleaser.yaml's builds to $goos/$goarch (did goos/goarch change form?)"
	args+=(--config "$config")
fi
log=$(mktemp)
if ! goreleaser "${args[@]}" >"$log" 2>&1; then
	tail -40 "$log"
	fail "goreleaser ${args[*]} (log above)"
fi
grep -E 'took: |• [0-9.]+[KM]iB +path=dist/ops-skill' "$log" | sed 's/^ */  /' || true
rm -f "$log" "${config:-}"
ok "goreleaser ${args[*]}"

# goreleaser marks the commit -dirty only when it also found a tag, so either form is right here.
head=$(git rev-parse HEAD)
commit="$head(-dirty)?"
version=v$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' dist/metadata.json)
[[ $version != v ]] || fail "dist/metadata.json has no version"
echo "  expecting version $version, commit $head"

step "what dist/ holds"
one() { # one GLOB WHAT: the single file matching GLOB
	local f
	f=$(compgen -G "$1" | head -1) || true
	[[ -n $f && -s $f ]] || fail "$2: nothing matches $1"
	echo "$f"
}
arch=$(dpkg --print-architecture)
deb=$(one "dist/ops-skill_*_${arch}.deb" "deb package")
rpm=$(one "dist/ops-skill-*.rpm" "rpm package")
formula=$(one "dist/homebrew/Formula/ops-skill.rb" "Homebrew formula")
krew=$(one "dist/krew/ops-skill.yaml" "krew manifest")
tarball=$(one "dist/ops-skill_*_linux_${arch}.tar.gz" "archive")
krewtar=$(one "dist/kubectl-ops_skill_*_linux_${arch}.tar.gz" "krew archive")
one dist/checksums.txt "checksums" >/dev/null
ok "deb, rpm, formula, krew manifest, archives, checksums"

# The deb: the binary, the kubectl plugin link and the docs where a package puts them.
dpkg-deb -c "$deb" >"$deb.list"
expect "$deb.list" "deb contents" ' \./usr/bin/ops-skill$'
expect "$deb.list" "deb contents" ' \./usr/bin/kubectl-ops_skill -> /usr/bin/ops-skill$'
expect "$deb.list" "deb contents" ' \./usr/share/doc/ops-skill/deploy/rbac\.yaml$'
dpkg-deb -f "$deb" Package Version Maintainer Description >"$deb.fields"
expect "$deb.fields" "deb control" '^Package: ops-skill$'
expect "$deb.fields" "deb control" '^Maintainer: .+<.+@.+>$'
expect "$deb.fields" "deb control" '^Description: .+'
rm -f "$deb.list" "$deb.fields"
ok "$deb: /usr/bin/ops-skill, /usr/bin/kubectl-ops_skill, docs, control fields"

rpm -qpl "$rpm" 2>/dev/null >"$rpm.list" || fail "rpm -qpl $rpm"
expect "$rpm.list" "rpm contents" '^/usr/bin/ops-skill$'
expect "$rpm.list" "rpm contents" '^/usr/bin/kubectl-ops_skill$'
rpm -qpi "$rpm" 2>/dev/null >"$rpm.info"
expect "$rpm.info" "rpm header" '^Name *: ops-skill$'
expect "$rpm.info" "rpm header" '^License *: .+'
rm -f "$rpm.list" "$rpm.info"
ok "$rpm: /usr/bin/ops-skill, /usr/bin/kubectl-ops_skill, name, license"

expect "$formula" "formula" '^class OpsSkill < Formula$'
expect "$formula" "formula install line" '^ *bin\.install "ops-skill"$'
expect "$formula" "formula kubectl link" 'bin\.install_symlink "ops-skill" => "kubectl-ops_skill"'
expect "$formula" "formula test" 'ops-skill version'
expect "$formula" "formula archive" "url \".*/$(basename "$tarball")\""
ok "$formula: class, install line, kubectl link, test, archive URL"

# The krew manifest: plugin ops-skill (so `kubectl krew install ops-skill`, run as
# `kubectl ops-skill`), whose archive holds the binary under the name kubectl looks up.
expect "$krew" "krew manifest" '^kind: Plugin$'
expect "$krew" "krew plugin name" '^  name: ops-skill$'
expect "$krew" "krew bin" '^ *(- )?bin: kubectl-ops_skill$'
expect "$krew" "krew version" "^  version: $version\$"
expect "$krew" "krew archive" "uri: .*/$(basename "$krewtar")\$"
sum=$(sha256sum "$krewtar" | cut -d' ' -f1)
expect "$krew" "krew checksum of $(basename "$krewtar")" "sha256: $sum\$"
tar -tzf "$krewtar" | grep -qx 'kubectl-ops_skill' || fail "$krewtar has no kubectl-ops_skill at its top"
tar -tzf "$tarball" | grep -qx 'ops-skill' || fail "$tarball has no ops-skill at its top"
ok "$krew: plugin ops-skill, bin kubectl-ops_skill, version, archive and its sha256"

# krew itself installs the plugin from the manifest and the archive, offline.
step "krew install --manifest dist/krew/ops-skill.yaml"
export PATH="$PATH:$($GO env GOPATH)/bin"
if ! command -v krew >/dev/null; then
	echo "installing krew $KREW_VERSION"
	$GO install "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION" || fail "go install krew $KREW_VERSION"
fi
krewroot=$(mktemp -d)
KREW_ROOT=$krewroot krew install --manifest "$krew" --archive "$krewtar" </dev/null >"$krewroot/log" 2>&1 ||
	{ cat "$krewroot/log"; fail "krew install --manifest $krew --archive $krewtar"; }
[[ -L $krewroot/bin/kubectl-ops_skill ]] || fail "krew linked no kubectl-ops_skill into its bin/"
env -i PATH="$krewroot/bin:/usr/bin:/bin" HOME="$krewroot" kubectl-ops_skill version >"$krewroot/version" ||
	fail "the plugin krew installed does not run"
expect "$krewroot/version" "version of the plugin krew installed" "^ops-skill version $version\$"
rm -rf "$krewroot"
ok "krew installed plugin ops-skill as kubectl-ops_skill, and it runs"

step "dpkg -i"
dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"
trap 'dpkg -r ops-skill >/dev/null 2>&1 || true' EXIT
[[ $(command -v ops-skill) == /usr/bin/ops-skill ]] || fail "ops-skill is not /usr/bin/ops-skill on the PATH after dpkg -i"
ok "installed $(dpkg-query -W -f='${Package} ${Version}' ops-skill)"

# The installed binary runs in a clean environment: no LLM, webhook or cluster
# settings of this machine, and its own state directory.
home=$(mktemp -d)
run() { env -i PATH=/usr/bin:/bin HOME="$home" OPS_SKILL_STATE_DIR="$home/state" "$@"; }

step "ops-skill version"
run ops-skill version | tee "$home/version"
expect "$home/version" "ops-skill version" "^ops-skill version $version\$"
expect "$home/version" "ops-skill version" "^commit: +$commit\$"
expect "$home/version" "ops-skill version" '^date: +[0-9]{4}-[0-9]{2}-[0-9]{2}T'
run ops-skill version -o json >"$home/version.json"
expect "$home/version.json" "ops-skill version -o json" "\"commit\": \"$commit\""
expect "$home/version.json" "ops-skill version -o json" "\"version\": \"$version\""
expect "$home/version.json" "ops-skill version -o json" "\"platform\": \"linux/$arch\""
run ops-skill --version | cmp -s - "$home/version" || fail "--version differs from ops-skill version"
ok "version $version, commit $head (text, JSON, --version)"

step "ops-skill --simulate \"$ALERT\""
set +e
run ops-skill --simulate "$ALERT" >"$home/incident" 2>&1
code=$?
set -e
cat "$home/incident"
[[ $code == 0 ]] || fail "the simulated incident exited $code, want 0"
expect "$home/incident" "simulated incident" '^Outcome: resolved$'
ok "exit 0, Outcome: resolved"

step "kubectl ops-skill"
run kubectl-ops_skill --help >"$home/plugin-help" 2>&1 || fail "kubectl-ops_skill --help"
expect "$home/plugin-help" "help run as the kubectl plugin" 'kubectl ops-skill'
if command -v kubectl >/dev/null; then
	env -i PATH=/usr/bin:/bin:"$(dirname "$(command -v kubectl)")" HOME="$home" kubectl ops-skill version >"$home/plugin" 2>&1 ||
		{ cat "$home/plugin"; fail "kubectl ops-skill version"; }
	expect "$home/plugin" "kubectl ops-skill version" "^commit: +$commit\$"
	ok "kubectl ops-skill version (kubectl found the plugin)"
else
	ok "kubectl-ops_skill runs (no kubectl here to run it through)"
fi
rm -rf "$home"

step "dpkg -r"
trap - EXIT
dpkg -r ops-skill >/dev/null || fail "dpkg -r ops-skill"
[[ ! -e /usr/bin/ops-skill && ! -e /usr/bin/kubectl-ops_skill ]] || fail "/usr/bin/ops-skill is still there after dpkg -r"
ok "removed"

printf '\npackage-test: PASS in %ss: %s (%s), %s (%s)\n' "$(($(date +%s) - started))" \
	"$(basename "$deb")" "$(du -h "$deb" | cut -f1)" "$(basename "$rpm")" "$(du -h "$rpm" | cut -f1)"
