#!/usr/bin/env bash
# Release WASM bundle size, raw and gzip -9, as shipped to the browser.
# Usage: bench/wasm-size.sh   (builds the release site first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo leptos build --release >/dev/null
wasm=target/site/pkg/keygate.wasm
js=target/site/pkg/keygate.js
css=target/site/pkg/keygate.css
for f in "$wasm" "$js" "$css"; do
  printf '%-32s raw %8d B   gzip -9 %8d B\n' "$f" "$(stat -c %s "$f")" "$(gzip -9 -c "$f" | wc -c)"
done
