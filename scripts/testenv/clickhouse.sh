#!/usr/bin/env bash
# ClickHouse for the integration tests: the current engine (chDB, ClickHouse
# as a library, from the npm package @chdb/lib-linux-x64-gnu) behind
# chdbfront, the project's small cgo HTTP front (scripts/testenv/chdbfront),
# on loopback. See README.md for why this and not Debian's 2018 server.
#   scripts/testenv/clickhouse.sh up|down|status
# Env file .testenv/env.d/clickhouse.env:
#   CLICKHOUSE_URL (HTTP protocol), CLICKHOUSE_ENGINE, CHDB_FRONT_BIN (to start
#   more instances, e.g. with another server config), CLICKHOUSE_LEGACY_SERVER_BIN
#   (Debian's 18.16 server, installed but not started: the native-protocol test
#   starts its own)
source "$(dirname "${BASH_SOURCE[0]}")/component-lib.sh"
comp_init clickhouse

CHDB_VERSION=26.7.3-stable.1
CHDB_DIR="$CACHE/chdb-$CHDB_VERSION"
CHDB_LIB="$CHDB_DIR/node_modules/@chdb/lib-linux-x64-gnu"
PIDFILE="$STATE/chdbfront.pid"

# install_chdb: the library, once per version, into the cache (178 MB download).
install_chdb() {
	[ -f "$CHDB_LIB/libchdb.so" ] && return 0
	command -v npm >/dev/null || apt_install npm
	log "installing @chdb/lib-linux-x64-gnu@$CHDB_VERSION"
	mkdir -p "$CHDB_DIR"
	(cd "$CHDB_DIR" && npm install --no-save --no-audit --no-fund --loglevel=error --prefix . \
		"@chdb/lib-linux-x64-gnu@$CHDB_VERSION" >&2)
	[ -f "$CHDB_LIB/libchdb.so" ] || die "libchdb.so missing after npm install"
}

# build_front: the cgo front, once per source and library version.
build_front() {
	local key out
	command -v go >/dev/null || die "go is needed to build chdbfront"
	command -v gcc >/dev/null || apt_install gcc libc6-dev
	key=$(cd "$ROOT/scripts/testenv/chdbfront" && { src_hash .; echo "$CHDB_VERSION"; } | sha256sum | cut -c1-16)
	out="$CACHE/chdbfront/$key/chdbfront"
	if [ ! -x "$out" ]; then
		log "building chdbfront ($key)"
		mkdir -p "$(dirname "$out")"
		(cd "$ROOT/scripts/testenv/chdbfront" && CGO_ENABLED=1 \
			CGO_LDFLAGS="-L$CHDB_LIB -Wl,-rpath,$CHDB_LIB" go build -trimpath -o "$out.tmp.$$" .) && mv "$out.tmp.$$" "$out"
	fi
	FRONT_BIN=$out
}

ping_ok() { curl -fsS "http://127.0.0.1:$1/ping" | grep -q '^Ok'; }
query_ok() { curl -fsS "http://127.0.0.1:$1/" --data-binary 'SELECT 1' | grep -q '^1$'; }

running() { pid_alive "$PIDFILE" && [ -s "$STATE/http.port" ] && ping_ok "$(cat "$STATE/http.port")"; }

publish() {
	write_env "CLICKHOUSE_URL=http://127.0.0.1:$(cat "$STATE/http.port")/" \
		"CLICKHOUSE_ENGINE=chdb-$CHDB_VERSION" "CHDB_FRONT_BIN=$FRONT_BIN" \
		"CLICKHOUSE_LEGACY_SERVER_BIN=$(command -v clickhouse-server)"
}

comp_up() {
	command -v curl >/dev/null || apt_install curl
	command -v clickhouse-server >/dev/null || apt_install clickhouse-server
	install_chdb
	build_front
	if running; then
		publish
		log "already running at http://127.0.0.1:$(cat "$STATE/http.port")/"
		return 0
	fi
	comp_down_quiet
	local port
	port=$(pick_port http)
	mkdir -p "$STATE/data"
	start_bg "$PIDFILE" "$STATE/chdbfront.log" "$FRONT_BIN" -listen "127.0.0.1:$port" -path "$STATE/data"
	wait_until 30 "chdbfront on 127.0.0.1:$port" query_ok "$port" ||
		die "chdbfront did not start; see $STATE/chdbfront.log"
	publish
}

comp_down_quiet() {
	stop_pid "$PIDFILE" chdbfront
	rm -rf "$STATE/data"
}

comp_down() {
	remove_env
	comp_down_quiet
}

comp_status() {
	if running; then
		echo "clickhouse: running at http://127.0.0.1:$(cat "$STATE/http.port")/ (chdb $CHDB_VERSION, pid $(cat "$PIDFILE"))"
		return 0
	fi
	echo "clickhouse: stopped"
	return 3
}

main_dispatch "$@"
