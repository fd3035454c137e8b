#!/usr/bin/env bash
# PostgreSQL 15 (preinstalled, else Debian's postgresql-15) on loopback, run
# as the postgres user with trust authentication for local test use only.
#   scripts/testenv/postgres.sh up|down|status
# Env file .testenv/env.d/postgres.env: POSTGRES_ADDR, POSTGRES_USER,
# POSTGRES_BIN_DIR (initdb, pg_ctl: to start more instances)
source "$(dirname "${BASH_SOURCE[0]}")/component-lib.sh"
comp_init postgres

PGDATA="$STATE/data"

find_bin_dir() {
	local d
	for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
		[ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && {
			echo "$d"
			return 0
		}
	done
	return 1
}

as_pg() {
	if [ "$(id -un)" = postgres ]; then "$@"; else as_root runuser -u postgres -- "$@"; fi
}

running() {
	[ -s "$STATE/postgres.port" ] && [ -f "$PGDATA/postmaster.pid" ] &&
		as_pg "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1 && port_in_use "$(cat "$STATE/postgres.port")"
}

publish() {
	write_env "POSTGRES_ADDR=127.0.0.1:$(cat "$STATE/postgres.port")" "POSTGRES_USER=postgres" "POSTGRES_BIN_DIR=$BIN"
}

comp_up() {
	BIN=$(find_bin_dir) || {
		apt_install postgresql-15
		BIN=$(find_bin_dir) || die "no PostgreSQL server binaries found"
	}
	id postgres >/dev/null 2>&1 || die "the postgres user is missing"
	if running; then
		publish
		log "already running at 127.0.0.1:$(cat "$STATE/postgres.port")"
		return 0
	fi
	comp_down_quiet
	local port
	port=$(pick_port postgres)
	mkdir -p "$PGDATA" "$STATE/sock"
	as_root chown postgres: "$PGDATA" "$STATE/sock"
	as_root chmod 700 "$PGDATA"
	as_pg "$BIN/initdb" -D "$PGDATA" -U postgres -A trust --no-sync >"$STATE/initdb.log" 2>&1 ||
		die "initdb failed; see $STATE/initdb.log"
	as_root touch "$STATE/postgres.log"
	as_root chown postgres: "$STATE/postgres.log"
	as_pg "$BIN/pg_ctl" -D "$PGDATA" -l "$STATE/postgres.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $STATE/sock -c fsync=off" start >/dev/null ||
		die "postgres did not start; see $STATE/postgres.log"
	log "postgres on 127.0.0.1:$port"
	publish
}

comp_down_quiet() {
	if [ -f "$PGDATA/postmaster.pid" ]; then
		as_pg "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
		log "postgres stopped"
	fi
	rm -rf "$PGDATA" "$STATE/sock"
}

comp_down() {
	BIN=$(find_bin_dir) || BIN=/nonexistent
	remove_env
	comp_down_quiet
}

comp_status() {
	BIN=$(find_bin_dir) || BIN=/nonexistent
	if running; then
		echo "postgres: running at 127.0.0.1:$(cat "$STATE/postgres.port") (data $PGDATA)"
		return 0
	fi
	echo "postgres: stopped"
	return 3
}

main_dispatch "$@"
