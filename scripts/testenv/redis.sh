#!/usr/bin/env bash
# Redis (Debian's redis-server) on loopback, no persistence.
#   scripts/testenv/redis.sh up|down|status
# Env file .testenv/env.d/redis.env: REDIS_ADDR, REDIS_SERVER_BIN (to start
# more instances, e.g. to stop one in a test)
source "$(dirname "${BASH_SOURCE[0]}")/component-lib.sh"
comp_init redis

PIDFILE="$STATE/redis.pid"

# pong PORT: the server answers PING with +PONG (RESP over bash's /dev/tcp).
pong() {
	local reply
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'PING\r\n' >&3
	read -r -t 2 reply <&3 || true
	exec 3>&-
	[ "${reply%$'\r'}" = "+PONG" ]
}

running() { pid_alive "$PIDFILE" && [ -s "$STATE/redis.port" ] && pong "$(cat "$STATE/redis.port")"; }

publish() {
	write_env "REDIS_ADDR=127.0.0.1:$(cat "$STATE/redis.port")" "REDIS_SERVER_BIN=$(command -v redis-server)"
}

comp_up() {
	command -v redis-server >/dev/null || apt_install redis-server
	if running; then
		publish
		log "already running at 127.0.0.1:$(cat "$STATE/redis.port")"
		return 0
	fi
	comp_down_quiet
	local port
	port=$(pick_port redis)
	start_bg "$PIDFILE" "$STATE/redis.log" redis-server --bind 127.0.0.1 --port "$port" --save "" \
		--appendonly no --dir "$STATE" --daemonize no
	wait_until 10 "redis on 127.0.0.1:$port" pong "$port" || die "redis did not start; see $STATE/redis.log"
	publish
}

comp_down_quiet() { stop_pid "$PIDFILE" redis; }

comp_down() {
	remove_env
	comp_down_quiet
}

comp_status() {
	if running; then
		echo "redis: running at 127.0.0.1:$(cat "$STATE/redis.port") (pid $(cat "$PIDFILE"))"
		return 0
	fi
	echo "redis: stopped"
	return 3
}

main_dispatch "$@"
