#!/usr/bin/env bash
# Kestrel's whole test suite, as README's test command (`npm test`) and CI (`.ci/run`) run it.
# On a fresh Debian machine with Node 20 it first installs what the tests need (idempotent), then
# runs: typecheck, unit tests (node:test), the training recipe's pytest suite, integration tests
# inside a real VS Code, and browser end-to-end tests. It ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip   # onnxruntime-node's postinstall would download; the CPU binary ships in the package
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
passed=0
failed=0

stage() { printf '\n=== %s ===\n' "$*"; }
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
# node's TAP summary lines: "# pass N" / "# fail N"
count_tap() {
  local p f
  p=$(grep -E '^# pass [0-9]+' "$1" | tail -1 | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+' "$1" | tail -1 | awk '{print $3}')
  if [ -z "$p" ]; then count 0 1; echo "(no test summary from $2: counted as one failure)"; else count "$p" "${f:-0}"; fi
}

stage "setup"
bash test/host/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi

stage "build"
if node esbuild.mjs --log-level=warning; then count 1 0; else count 0 1; echo "0 passed, 1 failed"; exit 1; fi

stage "typecheck"
if npx --no-install tsc --noEmit -p .; then count 1 0; else count 0 1; fi

stage "unit tests"
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$results/unit.tap" out/test/unit/
count_tap "$results/unit.tap" "unit tests"

stage "training recipe (pytest)"
if [ -d models/training ]; then
  OMP_NUM_THREADS=1 /usr/bin/python3 -m pytest models/training -q -p no:cacheprovider 2>&1 | tee "$results/pytest.txt"
  line=$(grep -E '[0-9]+ (passed|failed)' "$results/pytest.txt" | tail -1)
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | awk '{print $1}')
  f=$(grep -oE '[0-9]+ (failed|error|errors)' <<<"$line" | awk '{s+=$1} END {print s+0}')
  if [ -z "$line" ]; then count 0 1; else count "${p:-0}" "${f:-0}"; fi
fi

stage "integration tests in VS Code"
KESTREL_TEST_RESULTS="$results/integration.json" node test/integration/run.mjs
code=$?
if [ -s "$results/integration.json" ]; then
  count "$(node -p "require('$results/integration.json').passed")" "$(node -p "require('$results/integration.json').failed")"
  [ $code -ne 0 ] && [ "$(node -p "require('$results/integration.json').failed")" = 0 ] && count 0 1
else
  echo "(the integration run produced no results: counted as one failure)"; count 0 1
fi

stage "end-to-end tests in the browser"
node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$results/e2e.tap" test/e2e/
count_tap "$results/e2e.tap" "end-to-end tests"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
