#!/usr/bin/env bash
# Prometheus (Debian's package) scraping the project's test exporter
# (internal/prom/testexporter) and the file_sd targets other components write
# to .testenv/scrape.d/*.json (the workload model) every second, on loopback.
#   scripts/testenv/prometheus.sh up|down|status
# Env file .testenv/env.d/prometheus.env:
#   PROMETHEUS_URL, OPS_TEST_EXPORTER_URL, PROMETHEUS_BIN, PROMTOOL_BIN,
#   PROMETHEUS_SCRAPE_INTERVAL
source "$(dirname "${BASH_SOURCE[0]}")/component-lib.sh"
comp_init prometheus

PROM_PID="$STATE/prometheus.pid"
EXP_PID="$STATE/exporter.pid"

ensure_installed() {
	if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
		apt_install prometheus
	fi
	command -v curl >/dev/null || apt_install curl
	command -v go >/dev/null || die "go is needed to build the test exporter"
}

# build_exporter: builds the exporter once per source version, into the cache.
build_exporter() {
	local key out
	key=$(cd "$ROOT" && src_hash internal/prom/testexporter go.mod go.sum)
	out="$CACHE/testexporter/$key/testexporter"
	if [ ! -x "$out" ]; then
		log "building the test exporter ($key)"
		mkdir -p "$(dirname "$out")"
		(cd "$ROOT" && go build -trimpath -o "$out.tmp.$$" ./internal/prom/testexporter) && mv "$out.tmp.$$" "$out"
	fi
	EXPORTER_BIN=$out
}

ready() { curl -fsS "http://127.0.0.1:$1/-/ready" >/dev/null; }

# scraped PORT: the exporter target has been scraped successfully.
scraped() {
	curl -fsS "http://127.0.0.1:$1/api/v1/query" --data-urlencode 'query=up{job="ops-test-exporter"} == 1' |
		grep -q '"value"'
}

running() {
	pid_alive "$PROM_PID" && pid_alive "$EXP_PID" && [ -s "$STATE/prometheus.port" ] &&
		ready "$(cat "$STATE/prometheus.port")"
}

write_config() {
	cat >"$STATE/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ops-test-exporter
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$1']
  # Other components' scrape targets (workload.sh writes workload.json here).
  - job_name: testenv
    honor_labels: true
    file_sd_configs:
      - files: ['$TESTENV/scrape.d/*.json']
        refresh_interval: 5s
EOF
}

publish() {
	local pp ep
	pp=$(cat "$STATE/prometheus.port")
	ep=$(cat "$STATE/exporter.port")
	write_env "PROMETHEUS_URL=http://127.0.0.1:$pp" "OPS_TEST_EXPORTER_URL=http://127.0.0.1:$ep" \
		"PROMETHEUS_BIN=$(command -v prometheus)" "PROMTOOL_BIN=$(command -v promtool)" \
		"PROMETHEUS_SCRAPE_INTERVAL=1s"
}

comp_up() {
	ensure_installed
	build_exporter
	if running; then
		publish
		log "already running at http://127.0.0.1:$(cat "$STATE/prometheus.port")"
		return 0
	fi
	comp_down_quiet
	local ep pp
	ep=$(pick_port exporter)
	start_bg "$EXP_PID" "$STATE/exporter.log" "$EXPORTER_BIN" -listen "127.0.0.1:$ep"
	wait_until 10 "test exporter on 127.0.0.1:$ep" curl -fsS "http://127.0.0.1:$ep/control/series" ||
		die "test exporter did not start; see $STATE/exporter.log"
	pp=$(pick_port prometheus)
	write_config "$ep"
	mkdir -p "$STATE/data" "$TESTENV/scrape.d"
	start_bg "$PROM_PID" "$STATE/prometheus.log" prometheus --config.file="$STATE/prometheus.yml" \
		--storage.tsdb.path="$STATE/data" --storage.tsdb.retention.time=1d \
		--web.listen-address="127.0.0.1:$pp" --log.level=warn
	wait_until 30 "prometheus ready on 127.0.0.1:$pp" ready "$pp" ||
		die "prometheus did not start; see $STATE/prometheus.log"
	wait_until 30 "exporter scraped" scraped "$pp" || die "prometheus did not scrape the exporter; see $STATE/prometheus.log"
	publish
}

comp_down_quiet() {
	stop_pid "$PROM_PID" prometheus
	stop_pid "$EXP_PID" "test exporter"
	rm -rf "$STATE/data"
}

comp_down() {
	remove_env
	comp_down_quiet
}

comp_status() {
	if running; then
		echo "prometheus: running at http://127.0.0.1:$(cat "$STATE/prometheus.port") (pid $(cat "$PROM_PID")), exporter at http://127.0.0.1:$(cat "$STATE/exporter.port") (pid $(cat "$EXP_PID"))"
		return 0
	fi
	echo "prometheus: stopped"
	return 3
}

main_dispatch "$@"
