#!/usr/bin/env bash
# Cold connects of generated keys, Keygate beside Mosquitto 2.0, in interleaved rounds: a single
# run of 2,000 connects lasts a fraction of a second and swings with whatever else the machine
# does, so this runs ROUNDS rounds, each on credentials no broker has seen yet (every connect is
# cold), every broker once per round in a rotating order, and reports each round and the median.
# Several Keygate builds can run side by side (before and after a change), each on its own copy of
# the same database. Beside them runs rmqtt alone (bench/rmqtt-alone: Keygate's broker without
# Keygate's hooks, letting every CONNECT in), the ceiling of what Keygate's own work costs.
#
#   bash bench/cold-connects.sh
#   KEYGATE_BINS="before=/tmp/keygate-old after=target/release/keygate" bash bench/cold-connects.sh
#
# Environment: ROUNDS (5), PER_ROUND (2000 clients), CONCURRENCY (16 connects at a time),
# KEYGATE_BINS (name=path pairs; by default the release build of this checkout, named keygate).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$KEYGATE_ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

ROUNDS=${ROUNDS:-5}
PER_ROUND=${PER_ROUND:-2000}
CONCURRENCY=${CONCURRENCY:-16}

find_mosquitto
target=$(cargo_target_dir)
log "building mqtt-load (release)"
cargo build --release -p mqtt-load
load="$target/release/mqtt-load"
log "building rmqtt-alone (release)"
cargo build --release -p rmqtt-alone
alone="$target/release/rmqtt-alone"
if [ -z "${KEYGATE_BINS:-}" ]; then
  log "building keygate (release)"
  cargo build --release -p server --bin keygate
  KEYGATE_BINS="keygate=$target/release/keygate"
fi
names=()
declare -A bins
for pair in $KEYGATE_BINS; do
  name=${pair%%=*}
  bin=${pair#*=}
  [ -x "$bin" ] || die "$name: $bin is not an executable"
  names+=("$name")
  bins[$name]=$bin
done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"


declare -A mqtt_ports
start_keygate() { # name database
  local http_port mqtt_port
  http_port=$(free_port)
  mqtt_port=$(free_port)
  start_keygate_at "${bins[$1]}" "$2" "$http_port" "$mqtt_port" "$work/$1.log"
  started_http="http://127.0.0.1:$http_port"
  mqtt_ports[$1]=$mqtt_port
}

total=$((ROUNDS * PER_ROUND))
first=${names[0]}
start_keygate "$first" "$work/seed.db"
log "creating $total clients with generated keys (through $first's API)"
python3 bench/keys.py clients "$started_http" "$total" "$work" cold@example.com "Cold Corp"
kill -TERM "$started_pid"
wait "$started_pid" 2>/dev/null || true
split -l "$PER_ROUND" -d -a 3 "$work/keygate" "$work/keygate-round-"
split -l "$PER_ROUND" -d -a 3 "$work/mosquitto" "$work/mosquitto-round-"

for name in "${names[@]}"; do
  for f in "$work"/seed.db*; do cp "$f" "$work/$name${f#"$work"/seed}"; done
  start_keygate "$name" "$work/$name.db"
done
mosquitto_passwd -U "$work/passwords"
mq_port=$(free_port)
mosquitto_conf "$mq_port" "$work/passwords" >"$work/mosquitto.conf"
"$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=("$!")
wait_port "$mq_port"
sleep 1

alone_port=$(free_port)
"$alone" "$alone_port" >"$work/rmqtt-alone.log" 2>&1 &
pids+=("$!")
wait_port "$alone_port"

brokers=("${names[@]}" rmqtt-alone mosquitto)
results="$work/results.jsonl"
for round in $(seq 0 $((ROUNDS - 1))); do
  slice=$(printf '%03d' "$round")
  # Each round starts with a different broker, so none is always first (or always last).
  for i in $(seq 0 $((${#brokers[@]} - 1))); do
    broker=${brokers[$(((i + round) % ${#brokers[@]}))]}
    if [ "$broker" = mosquitto ]; then
      answer=$("$load" connect "127.0.0.1:$mq_port" "$work/mosquitto-round-$slice" "$CONCURRENCY")
    elif [ "$broker" = rmqtt-alone ]; then
      # The same credentials as Keygate's; rmqtt alone does not look at them.
      answer=$("$load" connect "127.0.0.1:$alone_port" "$work/keygate-round-$slice" "$CONCURRENCY")
    else
      answer=$("$load" connect "127.0.0.1:${mqtt_ports[$broker]}" "$work/keygate-round-$slice" "$CONCURRENCY")
    fi
    printf '{"round":%d,"broker":"%s","result":%s}\n' "$round" "$broker" "$answer" >>"$results"
    log "round $((round + 1)) of $ROUNDS, $broker: $(python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print("{:,.0f}/s, {} accepted".format(r["per_second"], r["accepted"]))' "$answer")"
  done
done

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); keygate $(git rev-parse --short HEAD); $("$mosquitto_bin" -h 2>/dev/null | head -n1 || true)"
echo "$ROUNDS rounds of $PER_ROUND cold connects (generated keys), $CONCURRENCY at a time"
python3 - "$results" "${brokers[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
brokers = sys.argv[2:]
by = {b: [r["result"] for r in rows if r["broker"] == b] for b in brokers}
for b, results in by.items():
    bad = [r for r in results if r["refused"] or r["failures"]]
    if bad:
        sys.exit(f"{b}: {len(bad)} round(s) had refusals or failures: {bad[0]}")
print()
print("| round | " + " | ".join(brokers) + " |")
print("|---|" + "---|" * len(brokers))
for i in range(len(by[brokers[0]])):
    print(f"| {i + 1} | " + " | ".join(f"{by[b][i]['per_second']:,.0f}/s" for b in brokers) + " |")
median = {b: statistics.median(r["per_second"] for r in by[b]) for b in brokers}
p50 = {b: statistics.median(r["p50_ms"] for r in by[b]) for b in brokers}
p99 = {b: statistics.median(r["p99_ms"] for r in by[b]) for b in brokers}
print("| median | " + " | ".join(f"**{median[b]:,.0f}/s**" for b in brokers) + " |")
print("| median latency | " + " | ".join(f"p50 {p50[b]:.1f} ms, p99 {p99[b]:.1f} ms" for b in brokers) + " |")
print("| median ÷ Mosquitto's | " + " | ".join(f"{median[b] / median['mosquitto']:.2f}×" for b in brokers) + " |")
PY
