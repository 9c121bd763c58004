# Helpers shared by scripts/*.sh (sourced, not run).

KEYGATE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# cargo installs tools here; CI shells need not have sourced ~/.cargo/env.
case ":$PATH:" in
  *":${CARGO_HOME:-$HOME/.cargo}/bin:"*) ;;
  *) export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH" ;;
esac

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
  _kg_bold=$'\033[1m' _kg_blue=$'\033[34m' _kg_red=$'\033[31m' _kg_green=$'\033[32m' _kg_off=$'\033[0m'
else
  _kg_bold='' _kg_blue='' _kg_red='' _kg_green='' _kg_off=''
fi

log() { printf '%s==>%s %s\n' "$_kg_bold$_kg_blue" "$_kg_off" "$*" >&2; }
ok() { printf '%s ok%s %s\n' "$_kg_green" "$_kg_off" "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_kg_bold$_kg_red" "$_kg_off" "$*" >&2; }
die() {
  printf '%serror:%s %s\n' "$_kg_bold$_kg_red" "$_kg_off" "$*" >&2
  exit 1
}

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root for: $* (run as root or install sudo)"
  fi
}

# The Python the tests run: a venv of its own holding python-dotenv (the app's tests read the
# generated credentials file with it) and standardwebhooks (the server's event tests verify
# signatures with it); scripts/install.sh makes it, scripts/test.sh hands it to the tests as
# KEYGATE_TEST_PYTHON, and no package of the machine's Python is changed.
test_python_venv() { printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/keygate/test-python"; }

# Cargo's target directory for this workspace (honours CARGO_TARGET_DIR and .cargo/config).
cargo_target_dir() {
  local dir
  dir=$(cd "$KEYGATE_ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
    grep -o '"target_directory":"[^"]*"' | head -n1 | cut -d'"' -f4)
  [ -n "$dir" ] || dir="$KEYGATE_ROOT/target"
  printf '%s\n' "$dir"
}

# The site folder `build_site` writes (pkg/, favicon, CSS): target/site in this folder, as
# Cargo.toml's `site-root` says (resolved against the workspace root, as cargo-leptos does);
# LEPTOS_SITE_ROOT in the environment overrides it.
leptos_site_root() {
  local root
  if [ -n "${LEPTOS_SITE_ROOT:-}" ]; then
    root=$LEPTOS_SITE_ROOT
  else
    root=$(sed -n 's/^site-root *= *"\(.*\)".*/\1/p' "$KEYGATE_ROOT/Cargo.toml" | head -n1)
    root=${root:-CARGO_TARGET_DIR/site}
  fi
  case "$root" in
    CARGO_TARGET_DIR* | CARGO_BUILD_TARGET_DIR*) root="$(cargo_target_dir)${root#CARGO_*TARGET_DIR}" ;;
    /*) ;;
    *) root="$KEYGATE_ROOT/$root" ;;
  esac
  printf '%s\n' "$root"
}

# Builds the server binary and the site with tools/build-site (see its --help): `build_site`
# for a debug build, `build_site --release` for what start.sh serves. The build program itself is
# compiled once, optimised (splitting and wasm-bindgen walk the whole WASM).
build_site() {
  (cd "$KEYGATE_ROOT" && cargo run --release --quiet --package build-site -- "$@")
}
