#!/usr/bin/env bash
# Installs the tools (scripts/install.sh), builds the release binary and site (tools/build-site) and
# runs Keygate on http://127.0.0.1:3000 with its SQLite database in ./data (Ctrl-C stops it).
#
# Extra arguments go to `keygate` (see `keygate --help`; every flag is also an environment
# variable), e.g. `./scripts/start.sh --open-signup` or `./scripts/start.sh --listen 0.0.0.0:3000`.
# SKIP_INSTALL=1 skips the install step, SKIP_BUILD=1 the build.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$KEYGATE_ROOT"

if [ -z "${SKIP_INSTALL:-}" ]; then
  "$KEYGATE_ROOT/scripts/install.sh"
fi

target_dir=$(cargo_target_dir)
site_root=$(leptos_site_root)
bin="$target_dir/release/keygate"

if [ -z "${SKIP_BUILD:-}" ]; then
  log "building the release binary and site (tools/build-site --release; about 9 minutes the first time on 2 cores)"
  build_site --release
fi
[ -x "$bin" ] || die "no binary at $bin: run without SKIP_BUILD"
[ -d "$site_root/pkg" ] || die "no built site at $site_root: run without SKIP_BUILD"

# The binary's defaults: --listen 127.0.0.1:3000, DATABASE_URL sqlite://data/keygate.db (relative
# to this folder). Only the site root must be told: build-site writes it where Cargo.toml says
# (target/site in this folder even when CARGO_TARGET_DIR points elsewhere). It goes in through the
# environment (= --site-root) so that a --site-root argument can still override it.
mkdir -p data
export LEPTOS_SITE_ROOT="$site_root"
log "starting $bin with site $site_root and database ${DATABASE_URL:-sqlite://data/keygate.db}"
log "open http://${KEYGATE_LISTEN:-127.0.0.1:3000} (unless --listen says otherwise); Ctrl-C stops it"
exec "$bin" "$@"
