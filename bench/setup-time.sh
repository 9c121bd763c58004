#!/usr/bin/env bash
# Time from a clean checkout to a running dashboard, as a newcomer gets it with ./scripts/start.sh:
# a fresh clone, an empty cargo home (every crate is downloaded again) and an empty target folder.
# Debian packages, the wasm32 target and binaryen stay installed: on a fresh machine
# scripts/install.sh adds them in under a minute (BENCHMARKS.md has the figures).
#
# Usage: bench/setup-time.sh [clone-dir]   (default /tmp/keygate-setup-time; deleted first)
# Prints each phase and the total; leaves start.sh's log in clone-dir.log.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
clone=${1:-/tmp/keygate-setup-time}
port=3999
rm -rf "$clone" "$clone.cargo-home"
git clone -q "$KEYGATE_ROOT" "$clone"
mkdir -p "$clone.cargo-home"

started=$(date +%s)
(
  cd "$clone"
  export CARGO_HOME="$clone.cargo-home"
  unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR CARGO_PROFILE_DEV_DEBUG
  exec ./scripts/start.sh --listen "127.0.0.1:$port" --mqtt-listen 127.0.0.1:18839
) >"$clone.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -fs -o /dev/null "http://127.0.0.1:$port/signin"; do
  kill -0 $pid 2>/dev/null || die "start.sh stopped before the dashboard answered: see $clone.log"
  sleep 1
done
total=$(($(date +%s) - started))
grep -E '^build-site: .*(done|written)|Finished' "$clone.log" || true
printf 'clean checkout -> dashboard answering on 127.0.0.1:%s: %d s (%d min %d s)\n' "$port" "$total" $((total / 60)) $((total % 60))
