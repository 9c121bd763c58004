#!/usr/bin/env bash
# Resident memory per idle authenticated MQTT connection: Keygate's embedded broker beside
# Mosquitto 2.0 from Debian, in one run, with the same client tool (bench/mqtt-load idle).
#
#   bash bench/idle-memory.sh              one table on stdout
#   COUNTS="1000 10000 19000" bash bench/idle-memory.sh
#
# For each count N and each broker, a fresh broker process is started (Keygate on the same SQLite
# file, so its client exists), one connection is opened and held (it pays Keygate's first argon2id
# and warms its caches), the broker's RSS is read ("base"), then N more connections of the same
# credential are opened and held, and the RSS is read again two seconds after the last CONNACK.
# "per connection" is (RSS with N - base) / N.
#
# Environment: COUNTS (default "1000 10000"), KEYGATE_BIN (another keygate binary to measure, e.g.
# one built from an older commit), KEYGATE_EXTRA_ENV (space-separated NAME=VALUE pairs added to
# Keygate's environment, to compare settings).
#
# Every connection is a file descriptor in the broker and in the load tool, so N is bounded by
# `ulimit -n` (the hard limit on the build machine is 20,000 and root cannot raise it there: the
# container lacks CAP_SYS_RESOURCE). Connections come from 127.0.0.1 to one port, so the kernel's
# ephemeral ports (32768-60999 by default) bound N to about 28,000 as well.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$KEYGATE_ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

COUNTS=${COUNTS:-1000 10000}

install_missing mosquitto mosquitto_passwd curl
find_mosquitto

target=$(cargo_target_dir)
if [ -z "${KEYGATE_BIN:-}" ]; then
  log "building keygate and mqtt-load (release)"
  cargo build --release -p server --bin keygate
fi
cargo build --release -p mqtt-load
keygate_bin=${KEYGATE_BIN:-$target/release/keygate}
load="$target/release/mqtt-load"

ulimit -n "$(ulimit -Hn)"
for n in $COUNTS; do
  [ "$(ulimit -n)" -ge $((n + 500)) ] || die "need $((n + 500)) open files for $n idle connections; ulimit -n is $(ulimit -n)"
done

field() { python3 -c "import json, sys; print(json.loads(sys.stdin.read())[sys.argv[1]])" "$1"; }

http_port=$(free_port)
mqtt_port=$(free_port)
base="http://127.0.0.1:$http_port"
start_keygate() {
  # shellcheck disable=SC2086 # KEYGATE_EXTRA_ENV is a list of NAME=VALUE words
  start_keygate_at "$keygate_bin" "$work/keygate.db" "$http_port" "$mqtt_port" "$work/keygate.log" \
    KEYGATE_MQTT_LOCKOUT_AFTER=100000000 KEYGATE_MQTT_ADDRESS_LOCKOUT_AFTER=100000000 \
    KEYGATE_MQTT_MAX_SESSIONS_PER_CLIENT=100000 ${KEYGATE_EXTRA_ENV:-}
  broker_pid=$started_pid
}
start_mosquitto() {
  "$mosquitto_bin" -c "$work/mosquitto.conf" >>"$work/mosquitto.log" 2>&1 &
  broker_pid=$!
  pids+=("$broker_pid")
  wait_port "$mqtt_port"
}
stop_broker() {
  kill "$broker_pid"
  wait "$broker_pid" 2>/dev/null || true
  broker_pid=
}

# --- one credential in each ------------------------------------------------------------------------
start_keygate
jar="$work/jar"
api() {
  local endpoint=$1 args=() f
  shift
  for f in "$@"; do args+=(--data-urlencode "$f"); done
  curl -fsS -c "$jar" -b "$jar" "${args[@]}" "$base/api/$endpoint"
}
api account/sign_up email=bench@example.com "password=correct horse battery" "organization=Bench Corp" >/dev/null
created=$(api clients/create client_id=idle key=kgk-idle-key-0123456789 name=idle description=)
org=$(python3 -c "import json, sys; print(json.load(sys.stdin)['connection']['organization_id'])" <<<"$created")
stop_broker
kg_user="idle@$org"
pass=kgk-idle-key-0123456789

mosquitto_passwd -c -b "$work/mosquitto.passwd" idle "$pass"
mosquitto_conf "$mqtt_port" "$work/mosquitto.passwd" >"$work/mosquitto.conf"

# --- hold N idle connections, read the RSS ----------------------------------------------------------
hold() { # name prefix user count -> leaves the tool running with fd 8/9 open; prints its output file
  local fifo="$work/$2.fifo" out="$work/$2.out"
  mkfifo "$fifo"
  "$load" idle "127.0.0.1:$mqtt_port" "$2" "$3" "$pass" "$4" <"$fifo" >"$out" &
  echo $! >"$work/$2.pid"
  exec {fd}>"$fifo"
  echo "$fd" >"$work/$2.fd"
  for _ in $(seq 1 2400); do [ -s "$out" ] && break; sleep 0.25; done
}
release() { # prefix
  local fd
  fd=$(cat "$work/$1.fd")
  exec {fd}>&-
  wait "$(cat "$work/$1.pid")" 2>/dev/null || true
}
results="$work/results.jsonl"
measure() { # broker user count
  local base_kib loaded_kib connected
  "start_$1"
  hold "$1" "warm-$1-$3" "$2" 1
  sleep 1
  base_kib=$(rss_kib "$broker_pid")
  hold "$1" "idle-$1-$3" "$2" "$3"
  sleep 2
  loaded_kib=$(rss_kib "$broker_pid")
  connected=$(field connected <"$work/idle-$1-$3.out")
  release "idle-$1-$3"
  release "warm-$1-$3"
  stop_broker
  printf '{"broker":"%s","count":%s,"connected":%s,"base_kib":%s,"loaded_kib":%s}\n' \
    "$1" "$3" "$connected" "$base_kib" "$loaded_kib" | tee -a "$results" >&2
}
for n in $COUNTS; do
  log "$n idle connections: keygate"
  measure keygate "$kg_user" "$n"
  log "$n idle connections: mosquitto"
  measure mosquitto idle "$n"
done

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); keygate $(git rev-parse --short HEAD)${KEYGATE_BIN:+ ($KEYGATE_BIN)}${KEYGATE_EXTRA_ENV:+ with $KEYGATE_EXTRA_ENV}; $("$mosquitto_bin" -h 2>/dev/null | head -n1 || true)"
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| idle connections | Keygate: base → with them | per connection | Mosquitto: base → with them | per connection |")
print("|---:|---|---:|---|---:|")
mib = lambda k: f"{k / 1024:.1f} MiB"
for n in sorted({r["count"] for r in rows}):
    cells = []
    for b in ("keygate", "mosquitto"):
        r = next((r for r in rows if r["broker"] == b and r["count"] == n), None)
        if r is None:
            cells += ["—", "—"]
            continue
        note = "" if r["connected"] == n else f" (only {r['connected']:,} connected)"
        per = f"{(r['loaded_kib'] - r['base_kib']) / r['connected']:.1f} KiB" if r["connected"] else "—"
        cells += [f"{mib(r['base_kib'])} → {mib(r['loaded_kib'])}{note}", per]
    print(f"| {n:,} | " + " | ".join(cells) + " |")
PY
