#!/usr/bin/env bash
# Release bundle sizes as shipped to the browser: raw and gzip -9.
# Usage: bench/wasm-size.sh   (builds the release site into its own folder first)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
site="$target_dir/bench-site"
source scripts/lib.sh
build_site --release --only front --site-root "$site" >/dev/null
for f in "$site/pkg/keygate.wasm" "$site/pkg/keygate.js" "$site/pkg/keygate.css"; do
  printf '%-14s raw %9d B   gzip -9 %8d B\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9 -c "$f" | wc -c)"
done
