#!/usr/bin/env bash
# The live workload model (scripts/testenv/workload): watches the local
# cluster's Deployments, StatefulSets and pods and publishes the series
# ops-skill's metric templates read (cAdvisor, kube-state-metrics, kubelet
# volume stats, HTTP metrics) from a load scenario and each workload's real
# state; the test Prometheus scrapes it every second (a file_sd target in
# .testenv/scrape.d/, which prometheus.sh's config reads).
#   scripts/testenv/workload.sh up|down|status
# Needs kube up (KUBECONFIG from .testenv/env.d/kube.env). The scenario starts
# from scripts/testenv/workload/scenario.json (WORKLOAD_SCENARIO overrides) and
# is changed at run time: POST $OPS_WORKLOAD_URL/scenario/workloads with a
# load, PUT /scenario, GET /scenario (see workload/main.go).
# Env file .testenv/env.d/workload.env: OPS_WORKLOAD_URL, OPS_WORKLOAD_SCRAPE_INTERVAL
source "$(dirname "${BASH_SOURCE[0]}")/component-lib.sh"
comp_init workload

PIDFILE="$STATE/workload.pid"
TARGETS="$TESTENV/scrape.d/workload.json"

build_workload() {
	local key out
	key=$(cd "$ROOT" && src_hash scripts/testenv/workload go.mod go.sum)
	out="$CACHE/workload/$key/workload"
	if [ ! -x "$out" ]; then
		log "building the workload model ($key)"
		mkdir -p "$(dirname "$out")"
		(cd "$ROOT" && go build -trimpath -o "$out.tmp.$$" ./scripts/testenv/workload) && mv "$out.tmp.$$" "$out"
	fi
	WORKLOAD_BIN=$out
}

healthy() { curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null; }

running() { pid_alive "$PIDFILE" && [ -s "$STATE/workload.port" ] && healthy "$(cat "$STATE/workload.port")"; }

publish() {
	local p
	p=$(cat "$STATE/workload.port")
	mkdir -p "$(dirname "$TARGETS")"
	printf '[{"targets":["127.0.0.1:%s"],"labels":{"component":"workload"}}]\n' "$p" >"$TARGETS.tmp"
	mv "$TARGETS.tmp" "$TARGETS"
	write_env "OPS_WORKLOAD_URL=http://127.0.0.1:$p" "OPS_WORKLOAD_SCRAPE_INTERVAL=1s"
}

comp_up() {
	command -v curl >/dev/null || apt_install curl
	local kubeconfig
	kubeconfig=$(sed -n 's/^KUBECONFIG=//p' "$ENV_D/kube.env" 2>/dev/null || true)
	[ -n "$kubeconfig" ] || die "kube is not up (no $ENV_D/kube.env): run scripts/testenv/kube.sh up first"
	build_workload
	if running; then
		publish
		log "already running at http://127.0.0.1:$(cat "$STATE/workload.port")"
		return 0
	fi
	stop_pid "$PIDFILE" "workload model"
	local port
	port=$(pick_port workload)
	start_bg "$PIDFILE" "$STATE/workload.log" "$WORKLOAD_BIN" -listen "127.0.0.1:$port" -kubeconfig "$kubeconfig" \
		-scenario "${WORKLOAD_SCENARIO:-$ROOT/scripts/testenv/workload/scenario.json}"
	wait_until 30 "workload model on 127.0.0.1:$port" healthy "$port" ||
		die "the workload model did not start; see $STATE/workload.log"
	publish
}

comp_down() {
	remove_env
	rm -f "$TARGETS"
	stop_pid "$PIDFILE" "workload model"
}

comp_status() {
	if running; then
		echo "workload: running at http://127.0.0.1:$(cat "$STATE/workload.port") (pid $(cat "$PIDFILE"))"
		return 0
	fi
	echo "workload: stopped"
	return 3
}

main_dispatch "$@"
