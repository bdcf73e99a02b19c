# Sourced by scripts/services and scripts/cluster: what a call starts stops when its owner ends.
#
# A parent killed with SIGKILL runs no clean-up of its own, so the servers it asked for would run
# on. `owner_watchdog_start DIR OWNER COMMAND…` leaves a detached loop that polls OWNER once a
# second and runs COMMAND once OWNER has ended. A pid alone could be reused by another process:
# the pid and its start time together name one process for good. One watchdog per DIR
# ($DIR/watchdog.pid); a later owner takes it over.

# A process's start time (clock ticks since boot); empty once it has ended. A zombie (ended, not
# yet reaped by its parent) has ended.
process_start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  set -- $stat
  [ "${1:-}" = Z ] || echo "${20:-}"
}

owner_watchdog_start() {
  local dir=$1 owner=$2 owner_start
  shift 2
  owner_start=$(process_start_time "$owner")
  [ -n "$owner_start" ] || { echo "owner process $owner does not exist" >&2; return 2; }
  owner_watchdog_stop "$dir"
  setsid bash -c '
    dir=$1 owner=$2 owner_start=$3 library=$4
    shift 4
    . "$library"
    while [ "$(process_start_time "$owner")" = "$owner_start" ]; do sleep 1; done
    rm -f "$dir/watchdog.pid"
    "$@"
  ' watchdog "$dir" "$owner" "$owner_start" "${BASH_SOURCE[0]}" "$@" </dev/null >>"$dir/watchdog.log" 2>&1 &
  echo $! > "$dir/watchdog.pid"
}

owner_watchdog_stop() {
  local dir=$1 pid
  [ -f "$dir/watchdog.pid" ] || return 0
  pid=$(cat "$dir/watchdog.pid")
  rm -f "$dir/watchdog.pid"
  [ -n "$pid" ] && [ "$pid" != "$$" ] && kill "$pid" 2>/dev/null || true
}
