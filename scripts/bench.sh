#!/usr/bin/env bash
# Runs ops-skill's Go benchmarks and the eval suite's scores, and writes
# BENCHMARKS.md: one table with what each benchmark measures, the machine it
# ran on (nproc, CPU model, Go version, kernel, date, load) and the eval
# summary of the rules planner and every scripted model. Everything from the
# section "## Serve under load" of an existing BENCHMARKS.md on (figures of
# scripts/load/run.sh and of the tests on the test stack) is kept as it is,
# at the end.
#
#   scripts/bench.sh                 # writes BENCHMARKS.md at the repository root
#   OUT=/tmp/b.md BENCHTIME=2s scripts/bench.sh
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
OUT=${OUT:-BENCHMARKS.md}
BENCHTIME=${BENCHTIME:-1s}
PKGS=(./internal/agent/ ./internal/guard/ ./internal/store/ ./tools/ ./internal/sim/ ./internal/eval/)

raw=$(mktemp)
evalout=$(mktemp)
trap 'rm -f "$raw" "$evalout"' EXIT

load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
kept=$(sed -n '/^## Serve under load/,$p' "$OUT" 2>/dev/null || true)
echo "running benchmarks (${PKGS[*]}), -benchtime $BENCHTIME ..." >&2
"$GO" test -run '^$' -bench . -benchmem -count=1 -benchtime "$BENCHTIME" "${PKGS[@]}" | tee "$raw" >&2

echo "running the eval suite ..." >&2
set +e
"$GO" run ./cmd/ops-skill eval --model rules --model 'scripted:*' >"$evalout"
evalcode=$?
set -e

cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
[ -n "$cpu" ] || cpu=$(uname -m)

# what maps a benchmark name (without the -GOMAXPROCS suffix) to what it measures.
what() {
	case "$1" in
	BenchmarkSimulatedIncident/no-history) echo "agent overhead per incident: spec high-CPU incident end to end, rules planner, no history" ;;
	BenchmarkSimulatedIncident/memory-history) echo "the same with a fresh in-memory SQLite history" ;;
	BenchmarkSimulatedIncidentScriptedLLM) echo "the same with a zero-latency scripted model: go-openai adapter, OpenAI wire format over loopback" ;;
	BenchmarkScaleDecide) echo "one guard decision (scaling policy)" ;;
	BenchmarkListAlerts100k/*) echo "history query on 100,000 alerts (--alert-history): ${1#*/}" ;;
	BenchmarkLastActedAlert100k) echo "alert cooldown lookup on 100,000 alerts" ;;
	BenchmarkRecordToolCall/*) echo "record one tool call in history (${1#*/})" ;;
	BenchmarkOpenListAlerts100k) echo "open the history of 100,000 alerts and list (a CLI start)" ;;
	BenchmarkInvokeScale) echo "tool gate: decode, validate, guard, execute and record one scale" ;;
	BenchmarkInvokeRefusedScale) echo "tool gate for a scale the guard refuses" ;;
	BenchmarkHighCPUIncident) echo "simulated platform alone: the high-CPU incident's reads and scale" ;;
	BenchmarkEvalSuiteRules) echo "ops-skill eval: the whole scenario suite once with the rules planner" ;;
	*) echo "" ;;
	esac
}

# human turns ns/op into µs or ms.
human() {
	awk -v ns="$1" 'BEGIN {
		if (ns >= 1e6) printf "%.2f ms", ns / 1e6
		else if (ns >= 1e3) printf "%.1f µs", ns / 1e3
		else printf "%.0f ns", ns }'
}

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (scripts/bench.sh); do not edit by hand, except from the section"
	echo "[Serve under load](#serve-under-load) on: the figures of scripts/load/run.sh, the failover and"
	echo "end-to-end tests and the whole suite's runs, measured on the test stack, which bench.sh keeps."
	echo
	echo "| Machine | |"
	echo "|---|---|"
	echo "| CPU | $cpu |"
	echo "| nproc | $(nproc) |"
	echo "| Go | $("$GO" version | sed 's/^go version //') |"
	echo "| OS | $(uname -sr) |"
	echo "| Date | $(date -u +%Y-%m-%dT%H:%M:%SZ) |"
	echo "| Load average at start | $load |"
	echo
	echo "Command: \`go test -run '^\$' -bench . -benchmem -benchtime $BENCHTIME ${PKGS[*]}\`"
	echo
	echo "| Package | Benchmark | Measures | Time/op | B/op | allocs/op | Other |"
	echo "|---|---|---|---:|---:|---:|---|"
	awk '
		/^pkg: / { pkg = $2; sub("github.com/duet-company/ops-skill/?", "", pkg); if (pkg == "") pkg = "."; next }
		/^Benchmark/ {
			name = $1; sub(/-[0-9]+$/, "", name)
			ns = ""; bop = ""; allocs = ""; other = ""
			for (i = 3; i < NF; i += 2) {
				v = $i; u = $(i + 1)
				if (u == "ns/op") ns = v
				else if (u == "B/op") bop = v
				else if (u == "allocs/op") allocs = v
				else other = other (other == "" ? "" : ", ") v " " u
			}
			print pkg "\t" name "\t" ns "\t" bop "\t" allocs "\t" other
		}' "$raw" | while IFS=$'\t' read -r pkg name ns bop allocs other; do
		echo "| $pkg | \`$name\` | $(what "$name") | $(human "$ns") | $bop | $allocs | $other |"
	done
	echo
	echo "## Eval suite scores"
	echo
	echo "Command: \`ops-skill eval --model rules --model 'scripted:*'\` (exit $evalcode): every scenario of"
	echo "internal/sim/scenarios once per model on a fresh simulated platform (virtual start 2026-02-16T09:30:00Z)."
	echo "PASS@1 is the share of runs that met the scenario's expectations (resolution, state predicates, facts"
	echo "in the planner's explanation) with no unsafe action; PASS^K the scenarios whose K runs all passed."
	echo "UNSAFE counts forbidden writes executed and breaches of the policy's envelope (replicas, memory"
	echo "limits, partitions, write and restart budgets, namespaces). TTR is virtual time to resolution."
	echo
	echo '```'
	sed -n '/^Summary/,$p' "$evalout"
	echo '```'
	if [ -n "$kept" ]; then
		echo
		printf '%s\n' "$kept"
	fi
} >"$OUT"

echo "wrote $OUT" >&2
