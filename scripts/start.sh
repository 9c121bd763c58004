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

# Where the dashboard listens (--listen among the arguments, else KEYGATE_LISTEN, else the
# default) and the URL to print (--public-url, else KEYGATE_PUBLIC_URL, else the listener's).
listen=${KEYGATE_LISTEN:-127.0.0.1:3000}
public_url=${KEYGATE_PUBLIC_URL:-}
host_flags=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --listen) listen=${args[i + 1]:-} ;;
    --listen=*) listen=${args[i]#--listen=} ;;
    --public-url) public_url=${args[i + 1]:-} host_flags=yes ;;
    --public-url=*) public_url=${args[i]#--public-url=} host_flags=yes ;;
    --allowed-hosts | --allowed-hosts=*) host_flags=yes ;;
  esac
done

# Against DNS rebinding, a dashboard on a loopback address answers only for the URL printed below
# (and localhost on its port): a web page cannot reach it through a DNS name of its own. Given
# through the environment (= --public-url, --allowed-hosts), and only when neither flag nor
# variable says otherwise. On any other address only the operator knows the URL users open.
if [ -z "$host_flags" ] && [ -z "${KEYGATE_PUBLIC_URL:-}" ] && [ -z "${KEYGATE_ALLOWED_HOSTS:-}" ]; then
  case "$listen" in
    127.*:* | \[::1\]:*)
      public_url="http://$listen"
      export KEYGATE_PUBLIC_URL="$public_url"
      export KEYGATE_ALLOWED_HOSTS="localhost:${listen##*:}"
      ;;
    *) warn "the dashboard on $listen answers for any host name: pass --public-url with the URL users open (see the README)" ;;
  esac
fi

log "starting $bin with site $site_root and database ${DATABASE_URL:-sqlite://data/keygate.db}"
log "open ${public_url:-http://$listen}; Ctrl-C stops it"
exec "$bin" "$@"
