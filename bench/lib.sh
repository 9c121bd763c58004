# What the broker benchmarks share; sourced after scripts/lib.sh. Sets `work` (a temporary folder
# removed on exit, with every process in `pids` killed first) and gives:
#   free_port            a free TCP port on 127.0.0.1
#   wait_port PORT       waits (up to 20 s) until something listens on PORT
#   rss_kib PID          the process's resident memory, in KiB
#   start_keygate_at BINARY DATABASE HTTP_PORT MQTT_PORT LOG [NAME=VALUE ...]
#                        starts keygate on 127.0.0.1 with open sign-up, its SQLite DATABASE and
#                        the settings given, in the background (pid in `started_pid`, and in
#                        `pids`), and waits until both ports listen
#   mosquitto_conf PORT PASSWORD_FILE
#                        Mosquitto's configuration for the comparisons (on stdout): one listener on
#                        127.0.0.1:PORT, a password file, no anonymous access, no persistence, no log
#   install_missing COMMAND ...
#                        installs from Debian what provides each missing command (mosquitto,
#                        mosquitto_passwd, wrk, curl), without starting Debian's mosquitto service
#   find_mosquitto       sets `mosquitto_bin` to Mosquitto's broker, or stops: bench/broker.sh
#                        installs it
work=$(mktemp -d)
chmod 755 "$work"
pids=()
bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap bench_cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; die "nothing listens on $1"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
start_keygate_at() {
  local binary=$1 database=$2 http_port=$3 mqtt_port=$4 log=$5
  shift 5
  env KEYGATE_LISTEN="127.0.0.1:$http_port" KEYGATE_MQTT_LISTEN="127.0.0.1:$mqtt_port" \
    DATABASE_URL="sqlite://$database" KEYGATE_OPEN_SIGNUP=true KEYGATE_LOG=warn \
    LEPTOS_SITE_ROOT="$KEYGATE_ROOT/target/site" "$@" \
    "$binary" >>"$log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  wait_port "$http_port"
  wait_port "$mqtt_port"
}
mosquitto_conf() {
  cat <<CONF
user root
listener $1 127.0.0.1
allow_anonymous false
password_file $2
persistence false
log_dest none
max_connections -1
CONF
}
install_missing() {
  local command missing=()
  for command in "$@"; do
    if ! command -v "$command" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$command" ]; then
      case $command in
        mosquitto_passwd) missing+=(mosquitto) ;;
        *) missing+=("$command") ;;
      esac
    fi
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  log "apt: installing ${missing[*]} (without starting Debian's mosquitto service)"
  # policy-rc.d keeps the package from starting a system broker on 1883.
  as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
  as_root apt-get install -y "${missing[@]}" || { as_root apt-get update && as_root apt-get install -y "${missing[@]}"; }
  as_root rm -f /usr/sbin/policy-rc.d
}
find_mosquitto() {
  mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  [ -x "$mosquitto_bin" ] || die "mosquitto is missing: bash bench/broker.sh installs it"
}
