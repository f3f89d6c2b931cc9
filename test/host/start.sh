#!/usr/bin/env bash
# `npm start`: run Kestrel from source in a real VS Code, in the browser, offline.
#
#   1. test/host/setup.sh      Debian packages, Node 24 and the VS Code server build (first run only)
#   2. npm ci                  only when node_modules is missing
#   3. node esbuild.mjs        build the extension, worker and webviews
#   4. sample workspace        .kestrel-test/sample-workspace, copied once from test/fixtures/workspace
#                              (kept afterwards, so your edits persist)
#   5. test/host/serve.mjs     start the server with Kestrel as a development extension and print the
#                              URL to open; Ctrl-C stops everything
#
# Environment: KESTREL_PORT (default 8080).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
log() { printf '[kestrel start] %s\n' "$*"; }

bash test/host/setup.sh

if [[ ! -d node_modules ]]; then
  log "node_modules missing: npm ci (onnxruntime-node's CUDA download skipped, the CPU build is bundled)"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci
fi

log "building: node esbuild.mjs"
node esbuild.mjs

SAMPLE=".kestrel-test/sample-workspace"
if [[ ! -d "$SAMPLE" ]]; then
  log "creating the sample workspace $SAMPLE from test/fixtures/workspace"
  mkdir -p "$(dirname "$SAMPLE")"
  cp -R test/fixtures/workspace "$SAMPLE"
else
  log "using the existing sample workspace $SAMPLE"
fi

exec node test/host/serve.mjs --workspace "$SAMPLE" --port "${KESTREL_PORT:-8080}"
