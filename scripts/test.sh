#!/usr/bin/env bash
# Keygate's whole test suite, as CI runs it: installs the tools (scripts/install.sh), starts
# PostgreSQL, then formatting, clippy, Rust tests, a site build (tools/build-site) and the Playwright browser
# tests against the built `keygate`. Prints a summary; exits non-zero if anything failed.
#
#   scripts/test.sh                      everything
#   scripts/test.sh fmt clippy           only some groups: fmt, clippy, test, e2e
#   scripts/test.sh e2e -- --grep smoke  arguments after -- go to `playwright test`
#
# Environment: KEYGATE_FAIL_FAST=1 stops at the first failure; KEYGATE_TEST_POSTGRES_URL set by the
# caller is used as is (no local PostgreSQL is started); CARGO_TARGET_DIR is honoured.
#
# Never `cargo build/test --workspace`: it unifies the `ssr` and `hydrate` features of `app`.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$KEYGATE_ROOT" || exit 1

all_groups=(fmt clippy test e2e)
groups=()
playwright_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --)
      shift
      playwright_args=("$@")
      break
      ;;
    fmt | clippy | test | e2e) groups+=("$1") ;;
    -h | --help)
      sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument '$1' (groups: ${all_groups[*]}; see --help)" ;;
  esac
  shift
done
[ ${#groups[@]} -gt 0 ] || groups=("${all_groups[@]}")
want() {
  local g
  for g in "${groups[@]}"; do [ "$g" = "$1" ] && return 0; done
  return 1
}

# --- stage bookkeeping ----------------------------------------------------------------------------
suite_started=$SECONDS
stage_names=()
stage_results=()
stage_times=()
failures=0

summary() {
  local i total=$((SECONDS - suite_started))
  printf '\n%s==> Summary%s\n' "$_kg_bold" "$_kg_off"
  for i in "${!stage_names[@]}"; do
    local colour=$_kg_green
    case "${stage_results[$i]}" in FAIL) colour=$_kg_red ;; SKIP) colour='' ;; esac
    printf '  %s%-4s%s  %-18s %4ss\n' "$colour" "${stage_results[$i]}" "$_kg_off" "${stage_names[$i]}" "${stage_times[$i]}"
  done
  if [ "$failures" -eq 0 ]; then
    printf '%sAll stages passed%s in %dm%02ds.\n' "$_kg_bold$_kg_green" "$_kg_off" $((total / 60)) $((total % 60))
  else
    printf '%s%d stage(s) failed%s after %dm%02ds.\n' "$_kg_bold$_kg_red" "$failures" "$_kg_off" $((total / 60)) $((total % 60))
  fi
}

record() { # name result seconds
  stage_names+=("$1")
  stage_results+=("$2")
  stage_times+=("$3")
}

# run NAME COMMAND...: runs one stage and records PASS/FAIL. Returns the command's status.
run() {
  local name=$1 started=$SECONDS status
  shift
  printf '\n%s==> [%s]%s %s\n' "$_kg_bold$_kg_blue" "$name" "$_kg_off" "$*"
  "$@"
  status=$?
  if [ $status -eq 0 ]; then
    record "$name" PASS $((SECONDS - started))
  else
    record "$name" FAIL $((SECONDS - started))
    failures=$((failures + 1))
    printf '%s==> [%s] failed (exit %d)%s\n' "$_kg_bold$_kg_red" "$name" $status "$_kg_off"
    if [ -n "${KEYGATE_FAIL_FAST:-}" ]; then
      summary
      exit 1
    fi
  fi
  return $status
}

skip() { # name reason
  printf '\n%s==> [%s] skipped:%s %s\n' "$_kg_bold" "$1" "$_kg_off" "$2"
  record "$1" SKIP 0
}

# --- PostgreSQL (Debian's packages) ---------------------------------------------------------------
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd /tmp && runuser -u postgres -- "$@")
  else
    (cd /tmp && sudo -u postgres "$@")
  fi
}

# Why the tests start PostgreSQL themselves: every store and server test runs on both engines, and
# CI has nothing but Debian's packages; this creates and starts Debian's cluster when it is down and
# exports KEYGATE_TEST_POSTGRES_URL for a superuser the tests may create databases with.
start_postgres() {
  if [ -n "${KEYGATE_TEST_POSTGRES_URL:-}" ]; then
    echo "using KEYGATE_TEST_POSTGRES_URL from the environment"
    return 0
  fi
  command -v pg_lsclusters >/dev/null 2>&1 || {
    echo "PostgreSQL is not installed (scripts/install.sh installs it)"
    return 1
  }
  local version cluster=main status port i
  version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n1)
  [ -n "$version" ] || {
    echo "no PostgreSQL server under /usr/lib/postgresql"
    return 1
  }
  if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    as_root pg_createcluster "$version" "$cluster" || return 1
  fi
  status=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')
  port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')
  if [ "$status" != online ]; then
    as_root pg_ctlcluster "$version" "$cluster" start || return 1
  fi
  for i in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.2
  done
  pg_isready -h 127.0.0.1 -p "$port" || return 1
  # A superuser for the tests (they create and drop their own databases); idempotent.
  as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -qAt <<'SQL' || return 1
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keygate') THEN
    CREATE ROLE keygate LOGIN SUPERUSER PASSWORD 'keygate';
  ELSE
    ALTER ROLE keygate LOGIN SUPERUSER PASSWORD 'keygate';
  END IF;
END
$$;
SQL
  export KEYGATE_TEST_POSTGRES_URL="postgres://keygate:keygate@127.0.0.1:$port/postgres"
  PGPASSWORD=keygate psql -h 127.0.0.1 -p "$port" -U keygate -d postgres -qAtc 'select version()' || return 1
  echo "KEYGATE_TEST_POSTGRES_URL=$KEYGATE_TEST_POSTGRES_URL"
}

# --- the suite ------------------------------------------------------------------------------------
if ! run install "$KEYGATE_ROOT/scripts/install.sh"; then
  summary
  exit 1
fi

target_dir=$(cargo_target_dir)
echo "cargo target directory: $target_dir"
# The Python with python-dotenv (the app's tests read the credentials file with it) and
# standardwebhooks (the server's event tests verify signatures with it).
KEYGATE_TEST_PYTHON="$(test_python_venv)/bin/python"
export KEYGATE_TEST_PYTHON
# The real external rmqtt broker that the server tests
# (server/tests/integration/broker/external_rmqtt.rs) and the browser tests (end2end/tests/rmqtt.ts)
# start; built once, by whichever group needs it first.
export KEYGATE_TEST_RMQTT_BIN="$target_dir/debug/rmqtt-test-broker"
test_broker_status=
build_test_broker() {
  if [ -z "$test_broker_status" ]; then
    run build-test-broker cargo build -p rmqtt-test-broker
    test_broker_status=$?
  fi
  return "$test_broker_status"
}

if want fmt; then
  run fmt cargo fmt --all -- --check
fi

if want clippy; then
  # Every native package in one run: each crate they share is checked once, not once per package
  # (the app alone was checked twice, with ssr and as the server's dependency). The browser build
  # stays apart: its `hydrate` feature must not meet `ssr`.
  run clippy cargo clippy -p app -p server -p rmqtt-test-broker -p rmqtt-alone -p test-engines -p build-site \
    --features app/ssr --all-targets -- -D warnings
  run clippy-frontend cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
fi

if want test; then
  if run postgres start_postgres; then
    run test-app cargo test -p app --features ssr
    run test-test-engines cargo test -p test-engines
    build_test_broker
    run test-test-broker cargo test -p rmqtt-test-broker
    run test-server cargo test -p server
    # The broker again, driven by Debian's mosquitto_pub / mosquitto_sub from a shell script.
    if run build-keygate cargo build -p server --bin keygate; then
      run test-mqtt-cli server/tests/cli/mosquitto_clients.sh "$target_dir/debug/keygate"
    else
      skip test-mqtt-cli "the keygate binary did not build"
    fi
  else
    skip test-app "PostgreSQL did not start"
    skip test-server "PostgreSQL did not start"
  fi
fi

if want e2e; then
  # The browser tests get a site folder of their own (inside the target directory) so that a debug
  # build here never replaces the release site `scripts/start.sh` serves from target/site.
  e2e_site="$target_dir/e2e-site"
  # If it does not build, the specs that need it fail and say so; the others still run.
  build_test_broker
  if run site-build build_site --site-root "$e2e_site"; then
    run e2e env -C end2end KEYGATE_BIN="$target_dir/debug/keygate" KEYGATE_SITE_ROOT="$e2e_site" \
      ./node_modules/.bin/playwright test "${playwright_args[@]}"
  else
    skip e2e "the site did not build"
  fi
fi

summary
[ "$failures" -eq 0 ]
