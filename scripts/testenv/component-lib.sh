# shellcheck shell=bash
# Helpers shared by the component scripts (prometheus.sh, clickhouse.sh,
# redis.sh, postgres.sh). Each script is run from anywhere as
#   scripts/testenv/<name>.sh up|down|status
# keeps its data, logs and pids under .testenv/<name>/, binds 127.0.0.1 only
# on free ports it picks (reusing its previous port when free), is idempotent,
# and writes KEY=VALUE lines to .testenv/env.d/<name>.env while it runs.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TESTENV="$ROOT/.testenv"
ENV_D="$TESTENV/env.d"
CACHE="${OPS_SKILL_CACHE:-$HOME/.cache/ops-skill}"

# comp_init NAME: sets COMP and STATE and creates the directories.
comp_init() {
	COMP=$1
	STATE="$TESTENV/$COMP"
	mkdir -p "$STATE" "$ENV_D" "$CACHE"
}

log() { echo "[$COMP] $*" >&2; }
die() {
	echo "[$COMP] error: $*" >&2
	exit 1
}

# as_root CMD...: runs a command as root (sudo when not root).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_install PKG...: installs the Debian packages that are missing.
apt_install() {
	local missing=()
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# port_in_use PORT: true when something listens on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# listen_port_range prints "LOW SPAN": ports to listen on, below the kernel's
# ephemeral range, so a port that looks free is not taken a moment later by an
# outgoing connection (bind then fails with "address already in use").
listen_port_range() {
	local low=32768
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	if [ "$low" -gt 12000 ]; then
		echo "10000 $((low - 10000))"
	else
		echo "20000 40000"
	fi
}

# pick_port NAME: prints a free loopback port, the one saved under NAME when
# it is still free, and saves it.
pick_port() {
	local file="$STATE/$1.port" p
	if [ -s "$file" ]; then
		p=$(cat "$file")
		if ! port_in_use "$p"; then
			echo "$p"
			return 0
		fi
	fi
	local low span
	read -r low span < <(listen_port_range)
	for _ in $(seq 1 100); do
		p=$((low + RANDOM % span))
		if ! port_in_use "$p"; then
			echo "$p" >"$file"
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# pid_alive PIDFILE: true when the pid in the file runs.
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_until SECONDS DESCRIPTION CMD...: polls CMD every 0.1 s.
wait_until() {
	local secs=$1 what=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
	log "$what"
}

# stop_pid PIDFILE NAME: stops the process (TERM, then KILL after 10 s).
stop_pid() {
	local file=$1 name=$2 pid
	if ! pid_alive "$file"; then
		rm -f "$file"
		return 0
	fi
	pid=$(cat "$file")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name did not stop on TERM; killing $pid"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$file"
	log "$name stopped"
}

# start_bg PIDFILE LOG CMD...: starts CMD in the background, detached.
start_bg() {
	local pidfile=$1 logfile=$2
	shift 2
	nohup setsid "$@" >"$logfile" 2>&1 </dev/null &
	echo $! >"$pidfile"
}

# write_env KEY=VALUE...: writes the component's env file atomically.
write_env() {
	local tmp="$ENV_D/.$COMP.env.$$"
	printf '%s\n' "$@" >"$tmp"
	mv "$tmp" "$ENV_D/$COMP.env"
}

remove_env() { rm -f "$ENV_D/$COMP.env"; }

# src_hash PATH...: a short hash of files' contents and the Go version.
src_hash() {
	{
		go version
		find "$@" -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) ! -name '*_test.go' -print0 |
			sort -z | xargs -0 sha256sum
	} | sha256sum | cut -c1-16
}

# main_dispatch: runs up/down/status from "$1".
main_dispatch() {
	case "${1:-}" in
	up) comp_up ;;
	down) comp_down ;;
	status) comp_status ;;
	*)
		echo "usage: $0 up|down|status" >&2
		exit 2
		;;
	esac
}
