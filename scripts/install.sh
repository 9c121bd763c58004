#!/usr/bin/env bash
# Installs what building and testing Keygate needs on Debian 12, skipping whatever is already there
# at the right version (a warm run takes a few seconds). Safe to re-run. Root or sudo is needed only
# for apt packages and global npm packages.
#
#   apt:   chromium, postgresql, mosquitto-clients, mosquitto (mosquitto_passwd, mosquitto_ctrl
#          for the import tests), protobuf-compiler, libssl-dev, pkg-config
#          (+ nodejs/npm if there is no node)
#   rust:  wasm32-unknown-unknown target, rustfmt, clippy
#   (no cargo install: tools/build-site, a workspace crate, builds the site with wasm-bindgen and
#   the WASM splitter as libraries at the versions Cargo.lock pins)
#   npm:   binaryen 123.0.0 (wasm-opt for release builds), end2end/ dependencies (npm ci)
#   pip:   python-dotenv and standardwebhooks, in a venv of their own (lib.sh's test_python_venv),
#          for the tests

set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$KEYGATE_ROOT"

BINARYEN_VERSION=123.0.0
PYTHON_DOTENV_VERSION=1.2.4
STANDARDWEBHOOKS_VERSION=1.1.0
NODE_MIN_MAJOR=20 # @playwright/test in end2end/ needs node >= 20
RUSTC_MIN=1.94    # rmqtt 0.24
# fonts-noto-color-emoji: the UI uses emoji icons; without it screenshots show empty boxes.
# libssl-dev, pkg-config: the test broker's rmqtt-web-hook builds reqwest with native-tls (OpenSSL).
APT_PACKAGES=(chromium postgresql mosquitto-clients mosquitto protobuf-compiler libssl-dev pkg-config fonts-noto-color-emoji curl ca-certificates)

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

apt_missing() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || printf '%s\n' "$pkg"
  done
}

install_apt_packages() {
  local want=("${APT_PACKAGES[@]}") missing
  command -v cc >/dev/null 2>&1 || want+=(build-essential)
  command -v node >/dev/null 2>&1 || want+=(nodejs)
  command -v npm >/dev/null 2>&1 || want+=(npm)
  command -v python3 >/dev/null 2>&1 || want+=(python3)
  # Debian's python3 makes venvs only with python3-venv (which holds its ensurepip).
  python3 -c 'import ensurepip' >/dev/null 2>&1 || want+=(python3-venv)
  mapfile -t missing < <(apt_missing "${want[@]}")
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update
    as_root apt-get install -y "${missing[@]}"
  else
    ok "apt: ${APT_PACKAGES[*]}"
  fi
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing after installing the chromium package"
}

install_rust_components() {
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust with rustup (rustc >= $RUSTC_MIN)"
  local rustc_version component
  rustc_version=$(rustc --version | awk '{print $2}')
  version_ge "$rustc_version" "$RUSTC_MIN" || die "rustc $rustc_version is too old: Keygate needs >= $RUSTC_MIN"
  if ! command -v rustup >/dev/null 2>&1; then
    warn "no rustup: assuming the wasm32-unknown-unknown target, rustfmt and clippy are installed"
    return
  fi
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "rustup: adding wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
      log "rustup: adding $component"
      rustup component add "$component"
    fi
  done
  ok "rust: rustc $rustc_version, wasm32-unknown-unknown, rustfmt, clippy"
}

npm_global() {
  local prefix
  prefix=$(npm prefix -g 2>/dev/null)
  if [ -w "$prefix/lib" ] || [ -w "$prefix" ]; then
    npm install -g --no-audit --no-fund "$@"
  else
    as_root npm install -g --no-audit --no-fund "$@"
  fi
  hash -r
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Why node comes from npm when it is too old: Debian 12's nodejs is 18, and the npm registry's
# `node` package carries a newer binary.
install_node() {
  if [ "$(node_major)" -lt "$NODE_MIN_MAJOR" ]; then
    log "node $(node --version 2>/dev/null || echo none) is older than $NODE_MIN_MAJOR: installing node@22 from npm"
    npm_global node@22
    [ "$(node_major)" -ge "$NODE_MIN_MAJOR" ] || die "node >= $NODE_MIN_MAJOR needed, have $(node --version) at $(command -v node)"
  fi
  ok "node $(node --version), npm $(npm --version 2>/dev/null)"
}

wasm_opt_ok() { wasm-opt --version 2>/dev/null | grep -qE "^wasm-opt version ${BINARYEN_VERSION%%.*}( |$)"; }

# Why binaryen comes from npm: Debian's binaryen (108) produces WASM that breaks hydration.
install_wasm_opt() {
  if wasm_opt_ok; then
    ok "wasm-opt ${BINARYEN_VERSION%%.*} ($(command -v wasm-opt))"
    return
  fi
  if dpkg-query -W -f='${Status}\n' binaryen 2>/dev/null | grep -q '^install ok installed$'; then
    log "removing Debian's binaryen (its wasm-opt breaks hydration)"
    as_root apt-get remove -y binaryen
  fi
  log "binaryen@$BINARYEN_VERSION: installing from npm"
  npm_global "binaryen@$BINARYEN_VERSION"
  wasm_opt_ok || die "wasm-opt: expected version ${BINARYEN_VERSION%%.*}, first on PATH is $(command -v wasm-opt || echo nothing): $(wasm-opt --version 2>&1 || true)"
}

# Never `npx playwright install`: the browser tests use /usr/bin/chromium.
install_end2end() {
  local lock_sum stamp=end2end/node_modules/.keygate-package-lock.sha256
  lock_sum=$(sha256sum end2end/package-lock.json | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ] && [ -d end2end/node_modules/@playwright/test ]; then
    ok "end2end: node_modules match package-lock.json"
    return
  fi
  log "end2end: npm ci"
  (cd end2end && npm ci --no-audit --no-fund)
  printf '%s\n' "$lock_sum" >"$stamp"
}

# Why python-dotenv: the app's tests check that the credentials file reads back as written both in
# sh and in what Python programs load .env files with. Why standardwebhooks: the server's event
# tests verify each credential event's signature with Standard Webhooks' reference implementation.
# A venv keeps the machine's Python as it is.
install_test_python() {
  local venv
  venv=$(test_python_venv)
  if "$venv/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(m.version("python-dotenv") != sys.argv[1] or m.version("standardwebhooks") != sys.argv[2])' \
    "$PYTHON_DOTENV_VERSION" "$STANDARDWEBHOOKS_VERSION" >/dev/null 2>&1; then
    ok "python-dotenv $PYTHON_DOTENV_VERSION, standardwebhooks $STANDARDWEBHOOKS_VERSION ($venv)"
    return
  fi
  log "python-dotenv $PYTHON_DOTENV_VERSION, standardwebhooks $STANDARDWEBHOOKS_VERSION: installing into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "python-dotenv==$PYTHON_DOTENV_VERSION" "standardwebhooks==$STANDARDWEBHOOKS_VERSION"
}

started=$SECONDS
# Only one install at a time (start.sh and test.sh may run together).
exec 9>"${TMPDIR:-/tmp}/keygate-install.lock"
flock 9

install_apt_packages
install_rust_components
install_node
install_wasm_opt
install_end2end
install_test_python
log "install.sh: everything in place ($((SECONDS - started)) s)"
