#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for the integration tests:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (pods
# reach Running on a simulated node, no kubelet).
#
#   scripts/testenv/kube.sh up|down|status
#
# All five binaries build from the Go module proxy through the separate module
# in scripts/testenv/kube/ (about 10 minutes cold on 2 cores) and are cached
# under $HOME/.cache/ops-skill/kube-<version>-kwok-<version>-etcd-<version>/,
# so later runs start in seconds. etcd is the one Kubernetes itself requires
# (Debian's 3.4 cannot report watch progress, which leaves every informer of
# the controllers and kwok tens of seconds behind). Data, logs and pids live in .testenv/kube/; the
# connection settings are written to .testenv/env.d/kube.env (KUBECONFIG=…).
# Everything binds 127.0.0.1 only, on free ports chosen at the first start.
set -euo pipefail

K8S_VERSION=v1.37.2
KWOK_VERSION=v0.8.0
ETCD_VERSION=v3.7.0 # as required by k8s.io/kubernetes $K8S_VERSION (see kube/go.mod)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MODDIR=$ROOT/scripts/testenv/kube
STATE=$ROOT/.testenv/kube
ENVFILE=$ROOT/.testenv/env.d/kube.env
CACHE=${OPS_SKILL_CACHE:-$HOME/.cache/ops-skill}/kube-$K8S_VERSION-kwok-$KWOK_VERSION-etcd-$ETCD_VERSION
BIN=$CACHE/bin
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
# persistentvolume-binder-controller binds the claims the volume tests pre-bind
# to their PersistentVolumes (no provisioner runs here).
CONTROLLERS=deployment-controller,replicaset-controller,statefulset-controller,disruption-controller,serviceaccount-controller,serviceaccount-token-controller,namespace-controller,garbage-collector-controller,node-lifecycle-controller,persistentvolume-binder-controller

log() { printf 'kube: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- install ----
need_tools() {
	command -v go >/dev/null || die "go is not installed (this machine kind ships it in /usr/local/go)"
	local missing=() t
	for t in openssl curl; do command -v "$t" >/dev/null || missing+=("$t"); done
	if ((${#missing[@]})); then
		log "installing ${missing[*]} from Debian"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

# The cache is keyed by the versions and by the build module's go.sum.
build_key() { cat "$MODDIR/go.mod" "$MODDIR/go.sum" | sha256sum | cut -c1-16; }

build() {
	local key; key=$(build_key)
	if [[ -x $BIN/kwok && -x $BIN/etcd && -f $CACHE/key && $(cat "$CACHE/key") == "$key" ]]; then
		return
	fi
	log "building kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION, kwok $KWOK_VERSION and etcd $ETCD_VERSION (about 10 min cold)"
	local v=k8s.io/component-base/version tmp start
	# Stale build dirs are those of builds that died (no live process writes
	# into one older than a day); the new one goes when this script ends,
	# however it ends, unless it became $BIN.
	find "${CACHE%/*}" -maxdepth 1 -name 'build.??????' -type d -mtime +0 -exec rm -rf {} + 2>/dev/null || true
	tmp=$(mktemp -d "${CACHE%/*}/build.XXXXXX" 2>/dev/null || { mkdir -p "${CACHE%/*}"; mktemp -d "${CACHE%/*}/build.XXXXXX"; })
	# shellcheck disable=SC2064 # $tmp is expanded now, on purpose
	trap "rm -rf '$tmp'" EXIT
	start=$(date +%s)
	(cd "$MODDIR" && GOWORK=off GOFLAGS=-mod=mod go build -trimpath \
		-ldflags "-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=37 -X $v.gitTreeState=clean" \
		-o "$tmp/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler sigs.k8s.io/kwok/cmd/kwok)
	(cd "$MODDIR" && GOWORK=off GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
	if [[ -x $BIN/kwok && -x $BIN/etcd && -f $CACHE/key && $(cat "$CACHE/key") == "$key" ]]; then
		# Another stack (a second worktree) finished the same build first:
		# keep its binaries, which may be running or starting, and drop ours.
		rm -rf "$tmp"
	else
		rm -rf "$BIN" && mkdir -p "$CACHE" && mv "$tmp" "$BIN" && echo "$key" >"$CACHE/key"
	fi
	log "built in $(($(date +%s) - start))s into $BIN"
}

# ------------------------------------------------------------------ state ----
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
	local p low=32768
	# Listen below the ephemeral range: outgoing connections never take these ports.
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[[ $low -gt 12000 ]] || low=30000
	for _ in $(seq 200); do
		p=$((10000 + RANDOM % (low - 10000)))
		if port_free "$p" && ! grep -qs "=$p\$" "$STATE/ports"; then echo "$p"; return; fi
	done
	die "no free port found on 127.0.0.1"
}

# Ports are chosen once and kept, so the kubeconfig stays valid across restarts.
ports() {
	mkdir -p "$STATE"
	if [[ ! -f $STATE/ports ]]; then
		: >"$STATE/ports"
		for name in ETCD_PORT ETCD_PEER_PORT API_PORT KWOK_PORT; do
			echo "$name=$(pick_port)" >>"$STATE/ports"
		done
	fi
	# shellcheck disable=SC1091
	. "$STATE/ports"
}

pki() {
	local d=$STATE/pki
	[[ -f $d/tokens.csv ]] && return
	mkdir -p "$d/serving" && chmod 700 "$d"
	openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
	openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
	echo "$(openssl rand -hex 24),ops-skill-test-admin,ops-skill-test-admin,system:masters" >"$d/tokens.csv"
	chmod 600 "$d"/*
}

kubeconfig() {
	local token; token=$(cut -d, -f1 "$STATE/pki/tokens.csv")
	umask 077
	cat >"$STATE/kubeconfig" <<-EOF
	apiVersion: v1
	kind: Config
	clusters:
	- name: ops-skill-test
	  cluster:
	    server: https://127.0.0.1:$API_PORT
	    certificate-authority: $STATE/pki/serving/apiserver.crt
	users:
	- name: admin
	  user:
	    token: $token
	contexts:
	- name: ops-skill-test
	  context: {cluster: ops-skill-test, user: admin, namespace: default}
	current-context: ops-skill-test
	EOF
}

# kwok's stages (node initialise, heartbeat with lease, pod ready/delete) come
# from the kwok module itself; ClusterLogs serves canned logs for every pod.
kwok_config() {
	local stage mod
	mod=$(cd "$MODDIR" && GOWORK=off go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
	mkdir -p "$STATE/logs"
	# CRI log format, as a kubelet keeps it: time, stream, tag, text.
	printf '%s stdout F %s\n' 2026-01-01T00:00:00.000000000Z "INFO starting" \
		2026-01-01T00:00:01.000000000Z "INFO listening on :8080" \
		2026-01-01T00:00:02.000000000Z "ERROR connection to database refused" \
		2026-01-01T00:00:03.000000000Z "INFO request served" >"$STATE/logs/current.log"
	printf '%s stdout F %s\n' 2026-01-01T00:00:00.000000000Z "INFO starting" \
		2026-01-01T00:00:05.000000000Z "FATAL out of memory: killed" >"$STATE/logs/previous.log"
	{
		for stage in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
			pod/fast/pod-ready.yaml pod/fast/pod-delete.yaml; do
			cat "$mod/kustomize/stage/$stage"
			echo "---"
		done
		cat <<-EOF
		apiVersion: kwok.x-k8s.io/v1alpha1
		kind: ClusterLogs
		metadata: {name: canned}
		spec:
		  logs:
		  - logsFile: $STATE/logs/current.log
		    previousLogsFile: $STATE/logs/previous.log
		    follow: false
		EOF
	} >"$STATE/kwok.yaml"
}

# ---------------------------------------------------------------- process ----
pid_of() { cat "$STATE/$1.pid" 2>/dev/null || true; }

running() {
	local pid; pid=$(pid_of "$1")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$1"
}

start() {
	local name=$1 exe=$2; shift 2
	running "$name" && return
	setsid "$exe" "$@" >>"$STATE/$name.log" 2>&1 </dev/null &
	echo $! >"$STATE/$name.pid"
}

stop() {
	local name=$1 pid
	running "$name" || { rm -f "$STATE/$name.pid"; return; }
	pid=$(pid_of "$name")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$STATE/$name.pid"
}

# wait_for NAME SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local what=$1 secs=$2; shift 2
	for _ in $(seq $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return
		running "${what%% *}" || die "$what exited; see $STATE/${what%% *}.log"
		sleep 0.1
	done
	die "$what not ready after ${secs}s; see $STATE/${what%% *}.log"
}

kubectl_get() { # a tiny client: GET a path with the admin token
	curl -fsS --cacert "$STATE/pki/serving/apiserver.crt" \
		-H "Authorization: Bearer $(cut -d, -f1 "$STATE/pki/tokens.csv")" "https://127.0.0.1:$API_PORT$1"
}

# kube_request METHOD PATH BODY [CONTENT-TYPE]
kube_request() {
	curl -fsS --cacert "$STATE/pki/serving/apiserver.crt" -X "$1" -H "Content-Type: ${4:-application/json}" \
		-H "Authorization: Bearer $(cut -d, -f1 "$STATE/pki/tokens.csv")" "https://127.0.0.1:$API_PORT$2" -d "$3"
}

kube_post() { kube_request POST "$1" "$2"; }

start_etcd() {
	start etcd "$BIN/etcd" --name default --data-dir "$STATE/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" --log-level warn
	wait_for "etcd" 20 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
}

start_apiserver() {
	start kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
		--endpoint-reconciler-type none --cert-dir "$STATE/pki/serving" \
		--token-auth-file "$STATE/pki/tokens.csv" --authorization-mode RBAC \
		--service-account-key-file "$STATE/pki/sa.pub" --service-account-signing-key-file "$STATE/pki/sa.key" \
		--service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.0.0.0/24 \
		--kubelet-preferred-address-types InternalIP --profiling=false
	wait_for "kube-apiserver" 60 kubectl_get /readyz
}

# The node lifecycle controller waits 5 minutes (not 50 s) for the kwok
# node's heartbeat: on 2 busy cores a starved kwok renews its lease late, and
# the node then went NotReady for a few seconds, which made every pod not
# ready mid-test (seen in CI: "waiting for 3 Running pods ... last saw 0").
# The simulated node cannot really fail, so a late heartbeat is only load.
# kwok's heartbeat-with-lease stage patches the node's status only every 10-20
# minutes and relies on the node Lease in between: without
# --node-lease-duration-seconds kwok keeps no Lease, the controller marked the
# node NotReady 5 minutes after each status patch, and every pod on it got
# Ready=False for good (kwok does not make them ready again).
start_controllers() {
	start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$STATE/kubeconfig" \
		--leader-elect=false --controllers "$CONTROLLERS" --bind-address 127.0.0.1 --secure-port 0 \
		--service-account-private-key-file "$STATE/pki/sa.key" --root-ca-file "$STATE/pki/serving/apiserver.crt" \
		--concurrent-deployment-syncs 2 --concurrent-replicaset-syncs 2 --node-monitor-grace-period 5m
	start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$STATE/kubeconfig" --leader-elect=false \
		--bind-address 127.0.0.1 --secure-port 0
	start kwok "$BIN/kwok" --kubeconfig "$STATE/kubeconfig" --config "$STATE/kwok.yaml" \
		--manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
		--node-lease-duration-seconds 40 --node-ip 127.0.0.1 --node-port "$KWOK_PORT" --server-address "127.0.0.1:$KWOK_PORT"
}

# The simulated node: kwok manages it (annotation), untainted, roomy. Its
# addresses are loopback ones, so the API server reaches kwok's kubelet API
# (pod logs) on 127.0.0.1 and nothing else; they are set again on every up.
ensure_node() {
	local status
	status='{"addresses":[{"type":"InternalIP","address":"127.0.0.1"},{"type":"Hostname","address":"kwok-node-0"}],
		"daemonEndpoints":{"kubeletEndpoint":{"Port":'$KWOK_PORT'}},
		"allocatable":{"cpu":"64","memory":"256Gi","pods":"500"},"capacity":{"cpu":"64","memory":"256Gi","pods":"500"}}'
	if ! kubectl_get /api/v1/nodes/kwok-node-0 >/dev/null 2>&1; then
		kube_post /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"kwok-node-0",
			"annotations":{"kwok.x-k8s.io/node":"fake","node.alpha.kubernetes.io/ttl":"0"},
			"labels":{"type":"kwok","kubernetes.io/hostname":"kwok-node-0","kubernetes.io/os":"linux"}},
			"status":'"$status"'}' >/dev/null
	fi
	kube_request PATCH /api/v1/nodes/kwok-node-0/status '{"status":'"$status"'}' application/merge-patch+json >/dev/null
}

node_ready() {
	local n; n=$(kubectl_get /api/v1/nodes/kwok-node-0 | tr -d ' \n')
	[[ $n == *'"type":"Ready","status":"True"'* && $n != *node.kubernetes.io/not-ready* ]]
}

write_env() {
	mkdir -p "${ENVFILE%/*}"
	cat >"$ENVFILE" <<-EOF
	KUBECONFIG=$STATE/kubeconfig
	OPS_SKILL_TEST_KUBE_DIR=$STATE
	EOF
}

# ------------------------------------------------------------------ verbs ----
up() {
	local t0; t0=$(date +%s%N)
	need_tools
	build
	ports
	pki
	kwok_config
	kubeconfig
	start_etcd
	# Clients of an API server that went away recover slowly (informer
	# backoff): when it has to be started, restart them with it.
	if ! running kube-apiserver; then
		stop kwok; stop kube-scheduler; stop kube-controller-manager
	fi
	start_apiserver
	start_controllers
	ensure_node
	wait_for "kwok" 60 node_ready
	write_env
	log "up in $((($(date +%s%N) - t0) / 1000000)) ms: KUBECONFIG=$STATE/kubeconfig"
}

down() {
	local c pids=()
	for c in "${COMPONENTS[@]}"; do
		running "$c" && pids+=("$(pid_of "$c")")
	done
	if ((${#pids[@]})); then
		kill "${pids[@]}" 2>/dev/null || true
		# A test cluster need not drain: the API server would wait a minute for watches.
		for _ in $(seq 30); do kill -0 "${pids[@]}" 2>/dev/null || break; sleep 0.1; done
		kill -9 "${pids[@]}" 2>/dev/null || true
	fi
	for c in "${COMPONENTS[@]}"; do rm -f "$STATE/$c.pid"; done
	rm -rf "$STATE/etcd" "$ENVFILE"
	log "stopped"
}

status() {
	local rc=0 c
	for c in "${COMPONENTS[@]}"; do
		if running "$c"; then echo "$c: running (pid $(pid_of "$c"))"; else echo "$c: stopped"; rc=3; fi
	done
	if [[ -f $STATE/ports ]] && . "$STATE/ports" && kubectl_get /readyz >/dev/null 2>&1; then
		echo "kube-apiserver: ready at https://127.0.0.1:$API_PORT"
	else
		rc=3
	fi
	return $rc
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
