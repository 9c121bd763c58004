#!/usr/bin/env bash
# Release bundle sizes as shipped to the browser, raw and gzip -9: the main module, what each page
# loads (the main module, the page's chunks, the JS glue, the split loader and the stylesheet), and
# what each modal adds the first time it opens. The WASM is split at the `#[lazy]` functions (each
# page is a lazy route, each modal a lazy function); the build's manifest
# (pkg/__wasm_split_manifest.json) names the chunks each needs.
#
# Usage: bench/wasm-size.sh   (builds the release site into its own folder first)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
target_dir=$(cargo_target_dir)
site="$target_dir/bench-site"
build_site --release --only front --site-root "$site" >/dev/null
node - "$site/pkg" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const pkg = process.argv[2];
const read = (file) => fs.readFileSync(path.join(pkg, file));
const sizes = (files) =>
  files.reduce(
    (sum, file) => {
      const bytes = read(file);
      return { raw: sum.raw + bytes.length, gzip: sum.gzip + zlib.gzipSync(bytes, { level: 9 }).length };
    },
    { raw: 0, gzip: 0 },
  );
const number = (n) => n.toLocaleString('en-US');
const row = (label, count, { raw, gzip }) =>
  console.log(`${label.padEnd(34)} ${String(count).padStart(4)} files ${number(raw).padStart(11)} B raw ${number(gzip).padStart(9)} B gzip`);

const manifest = JSON.parse(read('__wasm_split_manifest.json'));
const chunksOf = (prefix) => {
  const key = Object.keys(manifest).find((k) => k.startsWith(`${prefix}_`));
  if (!key) throw new Error(`no lazy function ${prefix} in the manifest`);
  return manifest[key].map((chunk) => `${chunk}.wasm`);
};
const glue = ['keygate.js', '__wasm_split.______________________.js', 'keygate.css'];
const allChunks = fs.readdirSync(pkg).filter((f) => f.endsWith('.wasm') && f !== 'keygate.wasm');

row('main module (keygate.wasm)', 1, sizes(['keygate.wasm']));
row('all chunks', allChunks.length, sizes(allChunks));
row('JS glue, split loader, stylesheet', glue.length, sizes(glue));
console.log('\nWhat a full load of each page fetches besides the HTML (WASM only, then with glue and CSS):');
for (const [page, route] of [
  ['/clients', '__clients_route_view'],
  ['/devices', '__devices_route_view'],
  ['/settings', '__settings_route_view'],
  ['/settings/brokers', '__brokers_route_view'],
  ['/signin', '__sign_in_route_view'],
  ['/signup', '__sign_up_route_view'],
]) {
  const wasm = ['keygate.wasm', ...chunksOf(route)];
  row(`${page} WASM`, wasm.length, sizes(wasm));
  row(`${page} total`, wasm.length + glue.length, sizes([...wasm, ...glue]));
}
console.log('\nWhat each modal adds the first time it opens (chunks its page has not loaded):');
for (const [modal, route] of [
  ['new_client_modal', '__clients_route_view'],
  ['reveal_modal', '__clients_route_view'],
  ['edit_client_modal', '__clients_route_view'],
  ['delete_client_modal', '__clients_route_view'],
  ['new_device_modal', '__devices_route_view'],
  ['bulk_devices_modal', '__devices_route_view'],
  ['edit_device_modal', '__devices_route_view'],
  ['delete_device_modal', '__devices_route_view'],
]) {
  const loaded = new Set(chunksOf(route));
  const extra = chunksOf(modal).filter((chunk) => !loaded.has(chunk));
  row(modal, extra.length, sizes(extra));
}
JS
