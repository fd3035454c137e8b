#!/usr/bin/env bash
# The official MCP Inspector's command-line client (npm package
# @modelcontextprotocol/inspector), installed once per version into the
# cache, for the end-to-end test that drives `ops-skill mcp` with it
# (cmd/ops-skill/e2e_mcp_test.go). Nothing runs: it is a client the test
# starts.
#   scripts/testenv/mcp-inspector.sh up|down|status
# Env file .testenv/env.d/mcp-inspector.env: OPS_SKILL_MCP_INSPECTOR
source "$(dirname "${BASH_SOURCE[0]}")/component-lib.sh"
comp_init mcp-inspector

INSPECTOR_VERSION=0.15.0
INSPECTOR_DIR="$CACHE/mcp-inspector-$INSPECTOR_VERSION"
INSPECTOR_BIN="$INSPECTOR_DIR/node_modules/.bin/mcp-inspector"

comp_up() {
	if [ ! -x "$INSPECTOR_BIN" ]; then
		command -v npm >/dev/null || apt_install npm
		log "installing @modelcontextprotocol/inspector@$INSPECTOR_VERSION"
		mkdir -p "$INSPECTOR_DIR"
		(cd "$INSPECTOR_DIR" && npm install --no-save --no-audit --no-fund --loglevel=error --prefix . \
			"@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >&2)
		[ -x "$INSPECTOR_BIN" ] || die "mcp-inspector missing after npm install"
	fi
	write_env "OPS_SKILL_MCP_INSPECTOR=$INSPECTOR_BIN"
	log "ready: $INSPECTOR_BIN"
}

comp_down() { remove_env; }

comp_status() {
	if [ -x "$INSPECTOR_BIN" ]; then
		echo "mcp-inspector: installed at $INSPECTOR_BIN"
		return 0
	fi
	echo "mcp-inspector: not installed"
	return 3
}

main_dispatch "$@"
