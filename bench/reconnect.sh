#!/usr/bin/env bash
# A fleet coming back after a restart, Keygate beside Mosquitto 2.0 in one run: N devices, each
# with its own credential (Keygate: a generated key, stored as its SHA-256), all connecting at once
# to a broker that was just restarted (Keygate's cache of verified keys is empty), with the same
# client tool (bench/mqtt-load). Prints how long until all were back, the rate, the latencies, and
# the curve: devices back by each 250 ms.
#
#   bash bench/reconnect.sh          DEVICES (10000) and AT_ONCE (1000 connects in flight) change it
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$KEYGATE_ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

DEVICES=${DEVICES:-10000}
AT_ONCE=${AT_ONCE:-1000}

find_mosquitto
target=$(cargo_target_dir)
log "building keygate and mqtt-load (release)"
cargo build --release -p server --bin keygate
cargo build --release -p mqtt-load
keygate_bin="$target/release/keygate"
load="$target/release/mqtt-load"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"


http_port=$(free_port)
kg_port=$(free_port)
base="http://127.0.0.1:$http_port"
start_keygate() {
  start_keygate_at "$keygate_bin" "$work/keygate.db" "$http_port" "$kg_port" "$work/keygate.log"
  kg_pid=$started_pid
}
start_keygate

log "creating $DEVICES clients with generated keys"
python3 bench/keys.py clients "$base" "$DEVICES" "$work" fleet@example.com "Fleet Corp"

log "Mosquitto: the same $DEVICES credentials in a password file"
mosquitto_passwd -U "$work/passwords"
mq_port=$(free_port)
mosquitto_conf "$mq_port" "$work/passwords" >"$work/mosquitto.conf"

log "restarting keygate (its cache of verified keys starts empty)"
kill -TERM "$kg_pid"
wait "$kg_pid" 2>/dev/null || true
start_keygate
sleep 1
log "all $DEVICES devices connect at once ($AT_ONCE in flight): keygate"
keygate=$("$load" connect "127.0.0.1:$kg_port" "$work/keygate" "$AT_ONCE")
kill -TERM "$kg_pid"
wait "$kg_pid" 2>/dev/null || true

"$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
mq_pid=$!
pids+=("$mq_pid")
wait_port "$mq_port"
log "all $DEVICES devices connect at once ($AT_ONCE in flight): mosquitto"
mosquitto=$("$load" connect "127.0.0.1:$mq_port" "$work/mosquitto" "$AT_ONCE")

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); keygate $(git rev-parse --short HEAD); $("$mosquitto_bin" -h 2>/dev/null | head -n1 || true)"
python3 - "$keygate" "$mosquitto" <<'PY'
import json, sys
kg, mq = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("| figure | Keygate | Mosquitto |")
print("|---|---|---|")
print(f"| devices back | {kg['accepted']:,} of {kg['accepted'] + kg['refused'] + kg['failures']:,} | {mq['accepted']:,} of {mq['accepted'] + mq['refused'] + mq['failures']:,} |")
print(f"| all back after | {kg['seconds']:.2f} s | {mq['seconds']:.2f} s |")
print(f"| connects per second | {kg['per_second']:,.0f}/s | {mq['per_second']:,.0f}/s |")
print(f"| latency | p50 {kg['p50_ms']:.1f} ms, p99 {kg['p99_ms']:.1f} ms | p50 {mq['p50_ms']:.1f} ms, p99 {mq['p99_ms']:.1f} ms |")
print()
print("devices back, by time since they all started to connect:")
print()
print("| after | Keygate | Mosquitto |")
print("|---|---|---|")
a, b = kg["accepted_by_250ms"], mq["accepted_by_250ms"]
for i in range(max(len(a), len(b))):
    fmt = lambda c: f"{c[min(i, len(c) - 1)]:,}" if c else "—"
    print(f"| {(i + 1) * 0.25:.2f} s | {fmt(a)} | {fmt(b)} |")
PY
