# Shared by the benchmark scripts in bench/: finding the built programs,
# a private session bus, starting and stopping reserved on it with the
# time it took to own its name, and reading numbers out of
# `reserve bench --json`. Sourced, not run.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# $BUILDDIR (default: build/ in the tree) must hold a built reserved and
# reserve; a release build gives the figures BENCHMARKS.md quotes:
#   meson setup /tmp/bench-build -Dbuildtype=release && ninja -C /tmp/bench-build
bench_find_programs() {
  local builddir=${BUILDDIR:-$bench_root/build}
  RESERVED=$builddir/daemon/reserved
  RESERVE=$builddir/cli/reserve
  if [ ! -x "$RESERVED" ] || [ ! -x "$RESERVE" ]; then
    echo "$0: no built reserved and reserve in $builddir; build them first" \
         "(scripts/setup, or meson setup DIR -Dbuildtype=release and BUILDDIR=DIR)" >&2
    exit 2
  fi
}

# Installs the Debian packages named (only the missing ones).
bench_need_packages() {
  local missing=() package sudo=""
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing: ${missing[*]}" >&2
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# A private session bus for this script alone, stopped by bench_stop_bus.
# (dbus-run-session would do too, but it runs one command: the scripts
# need the bus across several steps and their own trap.)
bench_start_bus() {
  local dir=$1
  dbus-daemon --session --nofork --nopidfile --address="unix:path=$dir/bus" \
    --print-address=3 3>"$dir/bus-address" 2>"$dir/bus.log" &
  BUS_PID=$!
  for _ in $(seq 200); do
    [ -s "$dir/bus-address" ] && break
    sleep 0.01
  done
  DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$dir/bus-address")
  export DBUS_SESSION_BUS_ADDRESS
}

bench_stop_bus() {
  if [ -n "${BUS_PID:-}" ]; then
    kill "$BUS_PID" 2>/dev/null || true
    wait "$BUS_PID" 2>/dev/null || true
    BUS_PID=
  fi
}

# Starts reserved --session on database $1 (config $2, log $3), behind
# $RESERVED_WRAPPER if set (valgrind, say), waits until
# it owns org.reserved.Reserve1 and sets DAEMON_PID and STARTUP_MS: from
# just before its exec to the bus's NameOwnerChanged, as timed by
# dbus-monitor, so neither a polling interval nor a client's start-up is in
# the figure.
bench_start_daemon() {
  local database=$1 config=$2 log=$3
  local monitor_log=$log.monitor t0 owned monitor_pid

  dbus-monitor --session \
    "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.reserved.Reserve1'" \
    >"$monitor_log" 2>/dev/null &
  monitor_pid=$!
  # dbus-monitor prints its own NameAcquired first: then it is listening.
  for _ in $(seq 500); do
    grep -q "NameAcquired" "$monitor_log" 2>/dev/null && break
    sleep 0.01
  done

  ( echo "$EPOCHREALTIME" >"$log.t0"
    # shellcheck disable=SC2086
    exec ${RESERVED_WRAPPER:-} "$RESERVED" --session --database "$database" --config "$config" ) >"$log" 2>&1 &
  DAEMON_PID=$!
  owned=
  for _ in $(seq 3000); do
    owned=$(awk '/NameOwnerChanged/ { sub("time=", "", $2); print $2; exit }' "$monitor_log")
    [ -n "$owned" ] && break
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      echo "$0: reserved exited before it owned its name:" >&2
      cat "$log" >&2
      kill "$monitor_pid" 2>/dev/null; wait "$monitor_pid" 2>/dev/null || true
      exit 1
    fi
    sleep 0.01
  done
  kill "$monitor_pid" 2>/dev/null; wait "$monitor_pid" 2>/dev/null || true
  if [ -z "$owned" ]; then
    echo "$0: reserved did not own its name within 30 s" >&2
    exit 1
  fi
  t0=$(cat "$log.t0")
  STARTUP_MS=$(awk -v a="$t0" -v b="$owned" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
}

# SIGTERM: reserved answers what is in flight, closes the database, exits 0.
bench_stop_daemon() {
  if [ -n "${DAEMON_PID:-}" ]; then
    kill "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=
  fi
}

# SIGKILL: no clean stop, as after a crash.
bench_kill_daemon() {
  if [ -n "${DAEMON_PID:-}" ]; then
    kill -9 "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=
  fi
}

# bench_json FILE PATH: the value at PATH ("buy.calls_per_second") in the
# pretty-printed JSON of `reserve bench --json`, one member per line.
bench_json() {
  awk -v want="$2" '
    function path(   i, p) { p = ""; for (i = 1; i <= depth; i++) p = p (p == "" ? "" : ".") stack[i]; return p }
    /^[[:space:]]*"[^"]*"[[:space:]]*:/ {
      line = $0
      sub(/^[[:space:]]*"/, "", line)
      key = line; sub(/".*/, "", key)
      value = line; sub(/^[^"]*"[[:space:]]*:[[:space:]]*/, "", value); sub(/,$/, "", value)
      if (value == "{") { stack[++depth] = key; next }
      p = path(); full = (p == "" ? key : p "." key)
      if (full == want) { gsub(/^"|"$/, "", value); print value; exit }
      next
    }
    /^[[:space:]]*}/ { if (depth > 0) depth-- }
  ' "$1"
}

# The median of the numbers given.
bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The machine right now, for the record: another job's load skews every figure.
bench_describe_machine() {
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
       "load average $(cut -d' ' -f1-3 /proc/loadavg), $(. /etc/os-release; echo "$PRETTY_NAME")"
}
