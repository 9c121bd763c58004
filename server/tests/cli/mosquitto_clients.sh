#!/usr/bin/env bash
# The embedded broker with Debian's mosquitto_pub and mosquitto_sub (mosquitto-clients 2.0), as
# a user would test it from a shell: a keygate on random ports with a fresh SQLite database,
# clients made through the dashboard's server functions, then every connection form on MQTT 3.1.1
# and 5, every refusal, the topic rule across two tenants, the back-off, a restricted client with
# a topic rule (a device outside its scope refused, a dropped device closed while connected), and a
# curl HTTP publish that mosquitto_sub receives.
#
#   server/tests/cli/mosquitto_clients.sh [path/to/keygate]
#
# Default binary: $KEYGATE_BIN, else $CARGO_TARGET_DIR/debug/keygate, else target/debug/keygate.
set -euo pipefail

bin=${1:-${KEYGATE_BIN:-${CARGO_TARGET_DIR:-target}/debug/keygate}}
[ -x "$bin" ] || { echo "no keygate binary at $bin (build it with: cargo build -p server)"; exit 2; }
for tool in mosquitto_pub mosquitto_sub curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/install.sh installs it)"; exit 2; }
done

work=$(mktemp -d)
keygate_pid=
passed=0
failed=0

cleanup() {
  [ -n "$keygate_pid" ] && kill "$keygate_pid" 2>/dev/null && wait "$keygate_pid" 2>/dev/null || true
  if [ "$failed" -gt 0 ]; then
    echo "--- keygate log (last 40 lines) ---"
    tail -n 40 "$work/keygate.log" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# expect NAME EXPECTED_EXIT EXPECTED_OUTPUT_REGEX -- COMMAND...: runs COMMAND (5 s limit) and
# checks its exit status and that its output (stdout and stderr) matches the regex.
expect() {
  local name=$1 want_status=$2 want_output=$3
  shift 4
  local output status=0
  output=$(timeout 10 "$@" 2>&1) || status=$?
  if [ "$status" -eq "$want_status" ] && grep -Eq -- "$want_output" <<<"$output"; then
    passed=$((passed + 1))
    printf '  ok   %s\n' "$name"
  else
    failed=$((failed + 1))
    printf '  FAIL %s\n       expected exit %s and output matching /%s/\n       got exit %s: %s\n' \
      "$name" "$want_status" "$want_output" "$status" "$(tr '\n' ' ' <<<"$output")"
  fi
}

http_port=$(free_port)
mqtt_port=$(free_port)
base="http://127.0.0.1:$http_port"
KEYGATE_LISTEN="127.0.0.1:$http_port" \
  KEYGATE_MQTT_LISTEN="127.0.0.1:$mqtt_port" \
  DATABASE_URL="sqlite://$work/keygate.db" \
  KEYGATE_OPEN_SIGNUP=true \
  KEYGATE_MQTT_LOCKOUT_AFTER=8 \
  KEYGATE_MQTT_ADDRESS_LOCKOUT_AFTER=1000 \
  KEYGATE_MQTT_LOCKOUT_MS=2000 \
  LEPTOS_SITE_ROOT="$work" \
  KEYGATE_LOG=info \
  "$bin" >"$work/keygate.log" 2>&1 &
keygate_pid=$!
for _ in $(seq 1 100); do
  if curl -fs -o /dev/null "$base/signin" && (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null; then
    break
  fi
  sleep 0.1
done

# api JAR ENDPOINT FORM...: calls a server function, prints its JSON answer, fails on an error.
api() {
  local jar=$1 endpoint=$2
  shift 2
  local args=() field
  for field in "$@"; do args+=(--data-urlencode "$field"); done
  curl -fsS -c "$jar" -b "$jar" "${args[@]}" "$base/api/$endpoint"
}
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }

acme="$work/acme.jar"
rival="$work/rival.jar"
api "$acme" account/sign_up email=owner@acme.test "password=correct horse battery" "organization=Acme Devices" >/dev/null
api "$rival" account/sign_up email=owner@rival.test "password=correct horse battery" "organization=Rival Corp" >/dev/null
key=kgk-cli-test-key-0123456789
boiler=$(api "$acme" clients/create client_id=boiler-01 "key=$key" "name=Boiler" description=)
ns=$(json "d['connection']['namespace']" <<<"$boiler")
org=$(json "d['connection']['organization_id']" <<<"$boiler")
rival_key=kgk-cli-rival-key-0123456789
rival_client=$(api "$rival" clients/create client_id=rival-01 "key=$rival_key" "name=Rival" description=)
rival_ns=$(json "d['connection']['namespace']" <<<"$rival_client")
echo "keygate on $base, MQTT on 127.0.0.1:$mqtt_port; namespaces $ns and $rival_ns"

mqtt=(-h 127.0.0.1 -p "$mqtt_port")
# form N CLIENT_ID: the -i/-u arguments of connection form N for CLIENT_ID.
form() {
  case $1 in
    1) echo "-i $2 -u $ns" ;;
    2) echo "-i device-$RANDOM -u $2@$org" ;;
    3) echo "-i sensor-$RANDOM -u $2" ;;
  esac
}

echo "== the right key: a publish/subscribe round trip, every form, both versions"
for version in mqttv311 mqttv5; do
  for f in 1 2 3; do
    topic="$ns/devices/boiler-01/$version-form$f"
    # shellcheck disable=SC2046 # form's words are separate arguments on purpose
    mosquitto_sub "${mqtt[@]}" -V "$version" $(form "$f" boiler-01) -P "$key" -t "$topic" -C 1 -W 5 \
      >"$work/received" 2>&1 &
    sub=$!
    sleep 0.3
    # Form 1's client identifier is the Client ID itself: a second connection with it would take
    # the subscriber's session over, so that publisher uses form 2.
    publisher=$f
    [ "$f" = 1 ] && publisher=2
    # shellcheck disable=SC2046
    expect "$version form $f: publish" 0 '' -- mosquitto_pub "${mqtt[@]}" -V "$version" $(form "$publisher" boiler-01) -P "$key" -t "$topic" -m "21.5 $f" -q 1
    wait "$sub" || true
    expect "$version form $f: the subscriber received it" 0 "^21.5 $f\$" -- cat "$work/received"
  done
done

echo "== refusals: wrong key, unknown client, then inactive, old key after regenerate, deleted"
v311_refused='Connection Refused: not authori[sz]ed'
v5_bad='Bad User Name or Password'
v5_not_authorized='Not authori[sz]ed'
for f in 1 2 3; do
  # shellcheck disable=SC2046
  expect "mqttv311 form $f: wrong key" 5 "$v311_refused" -- mosquitto_pub "${mqtt[@]}" -V mqttv311 $(form "$f" boiler-01) -P wrong-key-0123456789 -t "$ns/x" -m x
  # shellcheck disable=SC2046
  expect "mqttv5 form $f: wrong key" 134 "$v5_bad" -- mosquitto_pub "${mqtt[@]}" -V mqttv5 $(form "$f" boiler-01) -P wrong-key-0123456789 -t "$ns/x" -m x
done
expect "mqttv5: unknown Client ID" 134 "$v5_bad" -- mosquitto_pub "${mqtt[@]}" -V mqttv5 -i c-nobody00 -u "$ns" -P "$key" -t "$ns/x" -m x
expect "mqttv311: unknown Client ID" 5 "$v311_refused" -- mosquitto_pub "${mqtt[@]}" -V mqttv311 -i x -u c-nobody00 -P "$key" -t "$ns/x" -m x

api "$acme" clients/set_active client_id=boiler-01 active=false >/dev/null
for f in 1 2 3; do
  # shellcheck disable=SC2046
  expect "mqttv311 form $f: inactive" 5 "$v311_refused" -- mosquitto_pub "${mqtt[@]}" -V mqttv311 $(form "$f" boiler-01) -P "$key" -t "$ns/x" -m x
  # shellcheck disable=SC2046
  expect "mqttv5 form $f: inactive" 135 "$v5_not_authorized" -- mosquitto_pub "${mqtt[@]}" -V mqttv5 $(form "$f" boiler-01) -P "$key" -t "$ns/x" -m x
done
api "$acme" clients/set_active client_id=boiler-01 active=true >/dev/null
expect "mqttv5: active again" 0 '' -- mosquitto_pub "${mqtt[@]}" -V mqttv5 -i boiler-01 -u "$ns" -P "$key" -t "$ns/x" -m x

new_key=kgk-cli-test-new-key-9876543210
api "$acme" clients/regenerate_key client_id=boiler-01 "key=$new_key" >/dev/null
for f in 1 2 3; do
  # shellcheck disable=SC2046
  expect "mqttv311 form $f: old key after regenerate" 5 "$v311_refused" -- mosquitto_pub "${mqtt[@]}" -V mqttv311 $(form "$f" boiler-01) -P "$key" -t "$ns/x" -m x
  # shellcheck disable=SC2046
  expect "mqttv5 form $f: old key after regenerate" 134 "$v5_bad" -- mosquitto_pub "${mqtt[@]}" -V mqttv5 $(form "$f" boiler-01) -P "$key" -t "$ns/x" -m x
  # shellcheck disable=SC2046
  expect "mqttv5 form $f: new key" 0 '' -- mosquitto_pub "${mqtt[@]}" -V mqttv5 $(form "$f" boiler-01) -P "$new_key" -t "$ns/x" -m x
done
key=$new_key

echo "== the topic rule: nothing outside the namespace, nothing across tenants"
for version in mqttv311 mqttv5; do
  for filter in '#' '$SYS/#' "$rival_ns/#" '$share/group/#' "\$share/group/$rival_ns/#"; do
    expect "$version: subscribe $filter is denied" 0 'All subscription requests were denied' -- \
      mosquitto_sub "${mqtt[@]}" -V "$version" -i boiler-01 -u "$ns" -P "$key" -t "$filter" -C 1 -W 3
  done
done
expect "mqttv5: publish outside the namespace gets PUBACK 0x87" 0 'PUBACK \(Mid: 1, RC:135\)' -- \
  mosquitto_pub "${mqtt[@]}" -V mqttv5 -i boiler-01 -u "$ns" -P "$key" -t "$rival_ns/devices/x" -m hostile -q 1 -d
# The rival listens to its whole namespace while we publish into it: nothing arrives.
mosquitto_sub "${mqtt[@]}" -V mqttv5 -i rival-01 -u "$rival_ns" -P "$rival_key" -t "$rival_ns/#" -C 1 -W 3 \
  >"$work/leaked" 2>&1 &
sub=$!
sleep 0.3
for version in mqttv311 mqttv5; do
  mosquitto_pub "${mqtt[@]}" -V "$version" -i boiler-01 -u "$ns" -P "$key" -t "$rival_ns/devices/x" -m leak -q 1 >/dev/null 2>&1 || true
done
wait "$sub" || true
expect "across tenants: the rival received nothing" 0 'Timed out' -- cat "$work/leaked"

echo "== the back-off: 8 free failures, then even the right key waits (unless it was proven right before)"
lock_key=kgk-cli-lock-key-0123456789
api "$acme" clients/create client_id=lock-01 "key=$lock_key" "name=Lock" description= >/dev/null
for i in $(seq 1 8); do
  mosquitto_pub "${mqtt[@]}" -V mqttv5 -i lock-01 -u "$ns" -P "wrong-key-$i-0123456789" -t "$ns/x" -m x >/dev/null 2>&1 || true
done
expect "mqttv5: failure 9 in a row locks the client" 134 "$v5_bad" -- mosquitto_pub "${mqtt[@]}" -V mqttv5 -i lock-01 -u "$ns" -P wrong-key-9-0123456789 -t "$ns/x" -m x
expect "mqttv5: locked out, the right key is refused" 135 "$v5_not_authorized" -- mosquitto_pub "${mqtt[@]}" -V mqttv5 -i lock-01 -u "$ns" -P "$lock_key" -t "$ns/x" -m x
expect "mqttv311: locked out, the right key is refused" 5 "$v311_refused" -- mosquitto_pub "${mqtt[@]}" -V mqttv311 -i x -u lock-01 -P "$lock_key" -t "$ns/x" -m x
expect "mqttv5: other clients are not locked" 0 '' -- mosquitto_pub "${mqtt[@]}" -V mqttv5 -i boiler-01 -u "$ns" -P "$key" -t "$ns/x" -m x
sleep 2.2
expect "mqttv5: released after the back-off" 0 '' -- mosquitto_pub "${mqtt[@]}" -V mqttv5 -i lock-01 -u "$ns" -P "$lock_key" -t "$ns/x" -m x
for i in $(seq 1 10); do
  mosquitto_pub "${mqtt[@]}" -V mqttv5 -i lock-01 -u "$ns" -P "wrong-key-$i-0123456789" -t "$ns/x" -m x >/dev/null 2>&1 || true
done
expect "mqttv5: locked again, a guess is refused" 135 "$v5_not_authorized" -- mosquitto_pub "${mqtt[@]}" -V mqttv5 -i lock-01 -u "$ns" -P wrong-key-11-0123456789 -t "$ns/x" -m x
expect "mqttv5: a key proven right before is no guess and gets in" 0 '' -- mosquitto_pub "${mqtt[@]}" -V mqttv5 -i lock-01 -u "$ns" -P "$lock_key" -t "$ns/x" -m x

echo "== restricted clients (only these devices) and topic rules"
scoped_key=kgk-cli-scoped-key-0123456789
api "$acme" clients/create client_id=scoped-01 "key=$scoped_key" "name=Scoped" description= \
  scope_mode=only "scope=d-1, d-2" >/dev/null
for version in mqttv311 mqttv5; do
  if [ "$version" = mqttv5 ]; then refused_code=135; refused_text=$v5_not_authorized; else refused_code=5; refused_text=$v311_refused; fi
  expect "$version: a device in scope publishes in its own topics" 0 '' -- \
    mosquitto_pub "${mqtt[@]}" -V "$version" -i d-1 -u scoped-01 -P "$scoped_key" -t "$ns/devices/d-1/t" -m x
  expect "$version: a device outside the scope is refused" "$refused_code" "$refused_text" -- \
    mosquitto_pub "${mqtt[@]}" -V "$version" -i d-9 -u scoped-01 -P "$scoped_key" -t "$ns/devices/d-9/t" -m x
  expect "$version: the restricted key in connection form 1 is refused" "$refused_code" "$refused_text" -- \
    mosquitto_pub "${mqtt[@]}" -V "$version" -i scoped-01 -u "$ns" -P "$scoped_key" -t "$ns/devices/d-1/t" -m x
  for filter in "$ns/devices/d-9/#" "$ns/#" "$ns/devices/+/t"; do
    expect "$version: a device in scope cannot subscribe to $filter" 0 'All subscription requests were denied' -- \
      mosquitto_sub "${mqtt[@]}" -V "$version" -i d-1 -u scoped-01 -P "$scoped_key" -t "$filter" -C 1 -W 3
  done
done
# d-2 listens to d-1's topics (a device sees the other devices of its scope) while d-1 publishes.
mosquitto_sub "${mqtt[@]}" -V mqttv5 -i d-2 -u scoped-01 -P "$scoped_key" -t "$ns/devices/d-1/#" -C 1 -W 5 \
  >"$work/scoped" 2>&1 &
sub=$!
sleep 0.5
mosquitto_pub "${mqtt[@]}" -V mqttv5 -i d-1 -u scoped-01 -P "$scoped_key" -t "$ns/devices/d-1/state" -m on -q 1 >/dev/null 2>&1 || true
wait "$sub" || true
expect "mqttv5: a device in scope receives another of its scope" 0 '^on$' -- cat "$work/scoped"
# d-2 stays subscribed; dropping it from the scope closes its session, and its reconnect is refused.
mosquitto_sub "${mqtt[@]}" -V mqttv5 -i d-2 -u scoped-01 -P "$scoped_key" -t "$ns/devices/d-2/#" -W 10 \
  >"$work/dropped" 2>&1 &
sub=$!
sleep 0.5
api "$acme" clients/update_access client_id=scoped-01 scope_mode=only "scope=d-1" >/dev/null
wait "$sub" || true
expect "mqttv5: dropping d-2 from the scope ends its live session" 0 '[Nn]ot authori[sz]ed' -- cat "$work/dropped"
expect "mqttv5: d-1 stays in scope" 0 '' -- \
  mosquitto_pub "${mqtt[@]}" -V mqttv5 -i d-1 -u scoped-01 -P "$scoped_key" -t "$ns/devices/d-1/t" -m x
api "$acme" clients/update_access client_id=scoped-01 scope_mode=only "scope=d-1" \
  "rules[0][permission]=deny" "rules[0][action]=publish" "rules[0][filter]=$ns/devices/{device_id}/cmd" >/dev/null
expect "mqttv5: a deny rule refuses the publish with PUBACK 0x87" 0 'PUBACK \(Mid: 1, RC:135\)' -- \
  mosquitto_pub "${mqtt[@]}" -V mqttv5 -i d-1 -u scoped-01 -P "$scoped_key" -t "$ns/devices/d-1/cmd" -m x -q 1 -d
expect "mqttv5: what the rule does not name stays allowed" 0 'PUBACK \(Mid: 1, RC:0\)' -- \
  mosquitto_pub "${mqtt[@]}" -V mqttv5 -i d-1 -u scoped-01 -P "$scoped_key" -t "$ns/devices/d-1/state" -m x -q 1 -d

echo "== the same key over HTTP: the reveal's curl snippet publishes, mosquitto_sub receives"
publish_url=$(json "d['connection']['publish_url']" <<<"$boiler")
topic="$ns/devices/boiler-01/http"
mosquitto_sub "${mqtt[@]}" -V mqttv5 -i "device-$RANDOM" -u "boiler-01@$org" -P "$key" -t "$topic" -C 1 -W 5 \
  >"$work/received" 2>&1 &
sub=$!
sleep 0.3
expect "curl: publish with the Client ID and key" 0 '"result":"published"' -- \
  curl -sS -u "boiler-01:$key" --data-binary '{"temperature": 21.5}' "$publish_url/$topic?qos=1"
wait "$sub" || true
expect "curl: the MQTT subscriber received it" 0 '^\{"temperature": 21.5\}$' -- cat "$work/received"
status=(curl -s -o /dev/null -w '%{http_code}')
expect "curl: a wrong key is 401" 0 '^401$' -- "${status[@]}" -u boiler-01:wrong-key-0123456789 --data-binary x "$publish_url/$topic"
expect "curl: another tenant's namespace is 403" 0 '^403$' -- "${status[@]}" -u "boiler-01:$key" --data-binary x "$publish_url/$rival_ns/devices/x"
expect "curl: a wildcard is 400" 0 '^400$' -- "${status[@]}" -u "boiler-01:$key" --data-binary x "$publish_url/$ns/%23"
expect "curl: retain is 400 (no retained messages)" 0 '^400$' -- "${status[@]}" -u "boiler-01:$key" --data-binary x "$publish_url/$topic?retain=true"

echo "== delete"
api "$acme" clients/delete client_id=boiler-01 >/dev/null
expect "mqttv5: deleted client" 134 "$v5_bad" -- mosquitto_pub "${mqtt[@]}" -V mqttv5 -i boiler-01 -u "$ns" -P "$key" -t "$ns/x" -m x
expect "mqttv311: deleted client" 5 "$v311_refused" -- mosquitto_pub "${mqtt[@]}" -V mqttv311 -i x -u "boiler-01@$org" -P "$key" -t "$ns/x" -m x

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
