#!/usr/bin/env bash
# Alertmanager (Debian's prometheus-alertmanager 0.25) on loopback, routing
# every alert to `ops-skill serve` with a bearer token.
#   scripts/testenv/alertmanager.sh up|down|status
# The receiver "ops-skill" has two webhook configs, one per serve replica, at
# the addresses given in ALERTMANAGER_RECEIVER_ADDRS: start
#   ops-skill serve --listen <addr> --auth-token-file $ALERTMANAGER_TOKEN_FILE
# on one or both (a follower answers 503 and Alertmanager retries it).
# Alerts are fired through its API: POST $ALERTMANAGER_URL/api/v2/alerts.
# Env file .testenv/env.d/alertmanager.env:
#   ALERTMANAGER_URL, ALERTMANAGER_BIN (to start more instances with a
#   config of their own, as the integration tests do), ALERTMANAGER_TOKEN_FILE,
#   ALERTMANAGER_RECEIVER_ADDRS (comma-separated host:port)
source "$(dirname "${BASH_SOURCE[0]}")/component-lib.sh"
comp_init alertmanager

PIDFILE="$STATE/alertmanager.pid"
TOKEN="$STATE/token"

am_bin() { command -v prometheus-alertmanager || command -v alertmanager; }

ready() { curl -fsS "http://127.0.0.1:$1/-/ready" >/dev/null; }

running() { pid_alive "$PIDFILE" && [ -s "$STATE/alertmanager.port" ] && ready "$(cat "$STATE/alertmanager.port")"; }

# receiver_port N: a port for serve replica N, reserved (not listened on).
receiver_port() {
	local file="$STATE/receiver$1.port" p
	if [ -s "$file" ]; then
		cat "$file"
		return
	fi
	p=$(pick_port "receiver$1")
	echo "$p"
}

write_config() {
	local r1=$1 r2=$2
	cat >"$STATE/alertmanager.yml" <<EOF
# Written by scripts/testenv/alertmanager.sh: everything goes to ops-skill,
# quickly (the tests wait for deliveries).
route:
  receiver: ops-skill
  group_by: [alertname, namespace, service]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: ops-skill
    webhook_configs:
      - url: http://127.0.0.1:$r1/webhook
        send_resolved: true
        max_alerts: 50
        http_config:
          authorization: {type: Bearer, credentials_file: $TOKEN}
      - url: http://127.0.0.1:$r2/webhook
        send_resolved: true
        max_alerts: 50
        http_config:
          authorization: {type: Bearer, credentials_file: $TOKEN}
EOF
}

publish() {
	write_env "ALERTMANAGER_URL=http://127.0.0.1:$(cat "$STATE/alertmanager.port")" "ALERTMANAGER_BIN=$(am_bin)" \
		"ALERTMANAGER_TOKEN_FILE=$TOKEN" \
		"ALERTMANAGER_RECEIVER_ADDRS=127.0.0.1:$(cat "$STATE/receiver1.port"),127.0.0.1:$(cat "$STATE/receiver2.port")"
}

comp_up() {
	am_bin >/dev/null || apt_install prometheus-alertmanager
	command -v curl >/dev/null || apt_install curl
	if running; then
		publish
		log "already running at http://127.0.0.1:$(cat "$STATE/alertmanager.port")"
		return 0
	fi
	comp_down_quiet
	if [ ! -s "$TOKEN" ]; then
		(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TOKEN")
	fi
	local port r1 r2
	port=$(pick_port alertmanager)
	r1=$(receiver_port 1)
	r2=$(receiver_port 2)
	write_config "$r1" "$r2"
	mkdir -p "$STATE/data"
	start_bg "$PIDFILE" "$STATE/alertmanager.log" "$(am_bin)" --config.file="$STATE/alertmanager.yml" \
		--storage.path="$STATE/data" --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
		--log.level=info
	wait_until 15 "alertmanager on 127.0.0.1:$port" ready "$port" ||
		die "alertmanager did not start; see $STATE/alertmanager.log"
	publish
}

comp_down_quiet() { stop_pid "$PIDFILE" alertmanager; }

comp_down() {
	remove_env
	comp_down_quiet
	rm -rf "$STATE/data" "$STATE/alertmanager.yml" "$STATE/token"
}

comp_status() {
	if running; then
		echo "alertmanager: running at http://127.0.0.1:$(cat "$STATE/alertmanager.port") (pid $(cat "$PIDFILE"))"
		return 0
	fi
	echo "alertmanager: stopped"
	return 3
}

main_dispatch "$@"
