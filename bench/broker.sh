#!/usr/bin/env bash
# Keygate's embedded broker beside Mosquitto 2.0 from Debian (password file), on this machine, in
# one run, with the same client tool (bench/mqtt-load) and the same counts:
#
#   - authenticated connects per second and latency: cold (Keygate: generated keys are a SHA-256,
#     typed keys argon2id) and warm (Keygate: its cache of verified keys; Mosquitto has no cache,
#     so its two rows are the same work);
#   - refusals: a wrong key for an existing client versus an unknown Client ID, for generated and
#     for typed keys (Keygate only);
#   - publish round trip p50/p99 and messages per second (QoS 1);
#   - resident memory with 10,000 idle authenticated connections;
#   - Keygate's dashboard during a connect storm, and its broker while the dashboard is loaded.
#
#   bash bench/broker.sh            results table on stdout, raw JSON lines in $BENCH_OUT (optional)
#
# Environment: COLD (clients with generated keys for the cold test, 200), TYPED (clients with typed
# keys, 50), IDLE (10000), MESSAGES (10000 round trips),
# THROUGHPUT (50000 messages), CONCURRENCY (16 connects at a time).
#
# Keygate runs with Mosquitto's queue length (1,000 messages; Keygate's default is 100) so the
# throughput test's 500-message window compares like with like, and with room for the idle test's
# 10,000 connections of one credential (a client holds 256 identifiers by default).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$KEYGATE_ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

COLD=${COLD:-200}
TYPED=${TYPED:-50}
IDLE=${IDLE:-10000}
MESSAGES=${MESSAGES:-10000}
THROUGHPUT=${THROUGHPUT:-50000}
CONCURRENCY=${CONCURRENCY:-16}

# --- tools ---------------------------------------------------------------------------------------
install_missing mosquitto mosquitto_passwd wrk curl
find_mosquitto

target=$(cargo_target_dir)
log "building keygate and mqtt-load (release)"
cargo build --release -p server --bin keygate
cargo build --release -p mqtt-load
keygate_bin="$target/release/keygate"
load="$target/release/mqtt-load"

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((IDLE + 1000)) ] || die "need $((IDLE + 1000)) open files for $IDLE idle connections; ulimit -n is $(ulimit -n)"

rss_mib() { awk -v k="$(rss_kib "$1")" 'BEGIN { printf "%.1f", k / 1024 }'; }
field() { python3 -c "import json, sys; print(json.loads(sys.stdin.read())[sys.argv[1]])" "$1"; }
results="$work/results.jsonl"
record() { # broker figure json
  printf '{"broker":"%s","figure":"%s","result":%s}\n' "$1" "$2" "$3" >>"$results"
  [ -z "${BENCH_OUT:-}" ] || printf '{"broker":"%s","figure":"%s","result":%s}\n' "$1" "$2" "$3" >>"$BENCH_OUT"
}

# --- Keygate ---------------------------------------------------------------------------------------
http_port=$(free_port)
kg_port=$(free_port)
base="http://127.0.0.1:$http_port"
start_keygate_at "$keygate_bin" "$work/keygate.db" "$http_port" "$kg_port" "$work/keygate.log" \
  KEYGATE_MQTT_LOCKOUT_AFTER=100000000 KEYGATE_MQTT_ADDRESS_LOCKOUT_AFTER=100000000 \
  KEYGATE_MQTT_MAX_SESSIONS_PER_CLIENT=100000 KEYGATE_MQTT_MAX_QUEUED_MESSAGES=1000
kg_pid=$started_pid

jar="$work/jar"
api() {
  local endpoint=$1 args=() f
  shift
  for f in "$@"; do args+=(--data-urlencode "$f"); done
  curl -fsS -c "$jar" -b "$jar" "${args[@]}" "$base/api/$endpoint"
}
api account/sign_up email=bench@example.com "password=correct horse battery" "organization=Bench Corp" >/dev/null
# Keys as the dashboard generates them (kgk_, 32 random bytes, base58, CRC-32 checksum): stored
# as a SHA-256. The TYPED clients get keys a person would type: stored as argon2id.
generate_keys() { python3 bench/keys.py generate "$1"; } # count -> one generated key per line
log "creating $COLD clients with generated keys and $TYPED with typed keys"
: >"$work/kg-cold" && : >"$work/mq-cold" && : >"$work/kg-wrong" && : >"$work/kg-unknown" && : >"$work/passwords"
: >"$work/kg-typed" && : >"$work/kg-typed-wrong" && : >"$work/kg-typed-unknown"
generate_keys "$COLD" >"$work/keys"
generate_keys "$COLD" >"$work/wrong-keys"
key0=$(head -n1 "$work/keys")
first=$(api clients/create client_id=bench-0000 "key=$key0" name=bench-0000 description=)
connection() { python3 -c "import json, sys; print(json.load(sys.stdin)['connection'][sys.argv[1]])" "$1"; }
ns=$(connection namespace <<<"$first")
org=$(connection organization_id <<<"$first")
# One at a time: a generated key costs the dashboard a SHA-256, not argon2id.
created=0
tail -n +2 "$work/keys" | while read -r key; do
  created=$((created + 1))
  n=$(printf '%04d' "$created")
  curl -fsS -o /dev/null -b "$jar" --data-urlencode "client_id=bench-$n" --data-urlencode "key=$key" \
    --data-urlencode "name=bench-$n" --data-urlencode description= "$base/api/clients/create"
done
i=0
while read -r key && read -r wrong <&3; do
  n=$(printf '%04d' "$i")
  echo "bench-$n $ns $key" >>"$work/kg-cold"
  echo "bench-$n bench-$n $key" >>"$work/mq-cold"
  echo "bench-$n $key" >>"$work/passwords"
  echo "bench-$n $ns $wrong" >>"$work/kg-wrong"
  echo "nobody-$n $ns $key" >>"$work/kg-unknown"
  i=$((i + 1))
done <"$work/keys" 3<"$work/wrong-keys"
seq -f '%04g' 0 $((TYPED - 1)) | xargs -P 4 -I{} curl -fsS -o /dev/null -b "$jar" \
  --data-urlencode client_id=typed-{} --data-urlencode key=typed-bench-key-{}-0123456789 \
  --data-urlencode name=typed-{} --data-urlencode description= "$base/api/clients/create"
for n in $(seq -f '%04g' 0 $((TYPED - 1))); do
  echo "typed-$n $ns typed-bench-key-$n-0123456789" >>"$work/kg-typed"
  echo "typed-$n $ns typed-wrong-key-$n-0123456789" >>"$work/kg-typed-wrong"
  echo "nobody-typed-$n $ns typed-bench-key-$n-0123456789" >>"$work/kg-typed-unknown"
done
cookie=$(awk '$6 == "keygate_session" { print "keygate_session=" $7 }' "$jar")

# --- Mosquitto -------------------------------------------------------------------------------------
mq_port=$(free_port)
: >"$work/mosquitto.passwd"
while read -r user pass; do mosquitto_passwd -b "$work/mosquitto.passwd" "$user" "$pass"; done <"$work/passwords"
mosquitto_conf "$mq_port" "$work/mosquitto.passwd" >"$work/mosquitto.conf"
"$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
mq_pid=$!
pids+=("$mq_pid")
wait_port "$mq_port"
mq_version=$("$mosquitto_bin" -h 2>/dev/null | head -n1 || true)

# --- the same load against both ---------------------------------------------------------------------
run_both() { # figure, then a function taking: broker-name port creds-file user pass
  local figure=$1 fn=$2
  local kg mq
  kg=$("$fn" keygate "$kg_port" "$work/kg-cold" "bench-0000@$org" "$key0")
  record keygate "$figure" "$kg"
  mq=$("$fn" mosquitto "$mq_port" "$work/mq-cold" bench-0000 "$key0")
  record mosquitto "$figure" "$mq"
}
cold() { "$load" connect "127.0.0.1:$2" "$3" "$CONCURRENCY"; }
warm() { for _ in 1 2 3 4 5; do cat "$3"; done >"$3.warm"; "$load" connect "127.0.0.1:$2" "$3.warm" "$CONCURRENCY"; }
round_trip() {
  local topic=bench/rtt
  [ "$1" = keygate ] && topic="$ns/bench/rtt"
  "$load" rtt "127.0.0.1:$2" "rtt-$1" "$4" "$5" "$topic" "$MESSAGES"
}
flow() {
  local topic=bench/flow
  [ "$1" = keygate ] && topic="$ns/bench/flow"
  "$load" throughput "127.0.0.1:$2" "flow-$1" "$4" "$5" "$topic" "$THROUGHPUT"
}

log "connects, cold ($COLD clients, $CONCURRENCY at a time)"
run_both connect_cold cold
log "connects, warm (the same keys 5 times)"
run_both connect_warm warm
log "connects, cold, typed keys ($TYPED clients: argon2id, Keygate)"
record keygate connect_cold_typed "$("$load" connect "127.0.0.1:$kg_port" "$work/kg-typed" "$CONCURRENCY")"
log "refusals: wrong key vs unknown Client ID, generated and typed (Keygate)"
record keygate refused_wrong_key "$("$load" connect "127.0.0.1:$kg_port" "$work/kg-wrong" "$CONCURRENCY")"
record keygate refused_unknown_id "$("$load" connect "127.0.0.1:$kg_port" "$work/kg-unknown" "$CONCURRENCY")"
record keygate refused_wrong_typed "$("$load" connect "127.0.0.1:$kg_port" "$work/kg-typed-wrong" "$CONCURRENCY")"
record keygate refused_unknown_typed "$("$load" connect "127.0.0.1:$kg_port" "$work/kg-typed-unknown" "$CONCURRENCY")"
log "publish round trip ($MESSAGES messages, QoS 1)"
run_both rtt round_trip
log "throughput ($THROUGHPUT messages, QoS 1)"
run_both throughput flow

idle_rss() { # broker pid port user pass
  local before after fifo="$work/idle-$1" out
  before=$(rss_mib "$2")
  mkfifo "$fifo"
  "$load" idle "127.0.0.1:$3" "idle-$1" "$4" "$5" "$IDLE" <"$fifo" >"$work/idle-$1.out" &
  local tool=$!
  exec 9>"$fifo"
  for _ in $(seq 1 1200); do [ -s "$work/idle-$1.out" ] && break; sleep 0.25; done
  sleep 2
  after=$(rss_mib "$2")
  out=$(cat "$work/idle-$1.out")
  exec 9>&-
  wait "$tool" || true
  record "$1" idle "{\"connections\":$(field connected <<<"$out"),\"rss_idle_mib\":$before,\"rss_loaded_mib\":$after}"
}
log "resident memory with $IDLE idle authenticated connections"
idle_rss keygate "$kg_pid" "$kg_port" "bench-0000@$org" "$key0"
idle_rss mosquitto "$mq_pid" "$mq_port" bench-0000 "$key0"
kill "$mq_pid" 2>/dev/null || true

# --- Keygate: the dashboard during a connect storm, the broker while the dashboard is loaded -----
wrk_latency() { # seconds -> {"p50_ms":…,"p99_ms":…,"requests_per_second":…}
  wrk -t2 -c8 -d"$1s" --latency -H "Cookie: $cookie" "$base/clients" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print("{\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"requests_per_second\":%.0f}" % (ms("50%"), ms("99%"), rps))'
}
log "dashboard alone, then during a storm of wrong-key connects"
record keygate dashboard_idle "$(wrk_latency 8)"
"$load" storm "127.0.0.1:$kg_port" "$ns" 11 32 >"$work/storm.out" &
storm_pid=$!
sleep 1
record keygate dashboard_during_storm "$(wrk_latency 8)"
wait "$storm_pid"
record keygate storm "$(cat "$work/storm.out")"
log "broker alone, then while the dashboard is loaded"
head -n 100 "$work/kg-cold" >"$work/kg-100"
"$load" connect "127.0.0.1:$kg_port" "$work/kg-100" 4 >/dev/null # warm the cache
record keygate broker_idle "$("$load" connect "127.0.0.1:$kg_port" "$work/kg-100" 4)"
wrk -t2 -c8 -d12s -H "Cookie: $cookie" "$base/clients" >/dev/null &
wrk_pid=$!
sleep 1
record keygate broker_during_dashboard_load "$("$load" connect "127.0.0.1:$kg_port" "$work/kg-100" 4)"
record keygate rtt_during_dashboard_load "$("$load" rtt "127.0.0.1:$kg_port" rtt-loaded "bench-0000@$org" "$key0" "$ns/bench/loaded" 2000)"
wait "$wrk_pid"

# --- report ----------------------------------------------------------------------------------------
echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); keygate $(git rev-parse --short HEAD); $mq_version"
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
get = lambda b, f: next((r["result"] for r in rows if r["broker"] == b and r["figure"] == f), None)
def line(label, fmt, figure, both=True):
    k = get("keygate", figure); m = get("mosquitto", figure) if both else None
    print(f"| {label} | {fmt(k) if k else '—'} | {fmt(m) if m else '—'} |")
print("| figure | Keygate | Mosquitto |")
print("|---|---|---|")
conn = lambda r: f"{r['per_second']:.0f}/s (p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms)"
line("connects, cold (generated keys)", conn, "connect_cold")
line("connects, cold (typed keys: argon2id)", conn, "connect_cold_typed", False)
line("connects, warm", conn, "connect_warm")
ms = lambda r: f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms"
line("refused: wrong generated key", ms, "refused_wrong_key", False)
line("refused: unknown Client ID, generated-format key", ms, "refused_unknown_id", False)
line("refused: wrong typed key", ms, "refused_wrong_typed", False)
line("refused: unknown Client ID, typed key", ms, "refused_unknown_typed", False)
line("publish round trip", lambda r: f"p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms", "rtt")
line("messages per second", lambda r: f"{r['per_second']:,.0f}/s ({r['received']:,} of {r['sent']:,} delivered)", "throughput")
line("resident memory, idle", lambda r: f"{r['rss_idle_mib']} MiB", "idle")
line("resident memory, idle connections", lambda r: f"{r['rss_loaded_mib']} MiB ({r['connections']:,} connections)", "idle")
print()
print("| Keygate under load | result |")
print("|---|---|")
d = lambda r: f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['requests_per_second']:.0f} req/s"
for label, figure, fmt in [
    ("Clients page, alone", "dashboard_idle", d),
    ("Clients page, during a wrong-key connect storm", "dashboard_during_storm", d),
    ("storm (32 connections refusing for 11 s)", "storm", lambda r: f"{r['attempts']} CONNECTs refused"),
    ("warm connects, alone", "broker_idle", conn),
    ("warm connects, Clients page under wrk load", "broker_during_dashboard_load", conn),
    ("round trip, Clients page under wrk load", "rtt_during_dashboard_load", lambda r: f"p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms"),
]:
    r = get("keygate", figure)
    print(f"| {label} | {fmt(r) if r else '—'} |")
PY
