# Sourced by scripts/services and scripts/cluster: what a call starts stops when its owner ends.
#
# A parent killed with SIGKILL runs no clean-up of its own, so the servers it asked for would run
# on. `owner_watchdog_start DIR OWNER COMMAND…` leaves a detached loop that polls OWNER once a
# second and runs COMMAND once OWNER has ended. A pid alone could be reused by another process:
# the pid and its start time together name one process for good. One watchdog per DIR
# ($DIR/watchdog.pid, its owner in $DIR/watchdog.owner); a later owner takes it over. The
# watchdog claims its run by renaming watchdog.pid to watchdog.fired, and a caller taking over
# claims it by renaming it too (`owner_watchdog_take_over`): one rename wins, so the servers are
# either stopped or handed over, never both.

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
    mv "$dir/watchdog.pid" "$dir/watchdog.fired" 2>/dev/null || exit 0
    "$@"
    rm -f "$dir/watchdog.fired" "$dir/watchdog.owner"
  ' watchdog "$dir" "$owner" "$owner_start" "${BASH_SOURCE[0]}" "$@" </dev/null >>"$dir/watchdog.log" 2>&1 &
  echo $! > "$dir/watchdog.pid"
  echo "$owner $owner_start" > "$dir/watchdog.owner"
}

# Succeeds when DIR's watchdog watches an owner that has ended but has not yet claimed its run
# (it polls once a second): the caller takes the watchdog's place, and what it owned, instead of
# finding servers running that are about to be stopped. Fails when the owner still runs or the
# watchdog has already claimed its run (then `owner_watchdog_wait_fired` waits for it).
owner_watchdog_take_over() {
  local dir=$1 pid owner owner_start
  [ -f "$dir/watchdog.owner" ] || return 1
  read -r owner owner_start < "$dir/watchdog.owner" || return 1
  [ "$(process_start_time "$owner")" != "$owner_start" ] || return 1
  mv "$dir/watchdog.pid" "$dir/watchdog.taken" 2>/dev/null || return 1
  pid=$(cat "$dir/watchdog.taken")
  rm -f "$dir/watchdog.taken" "$dir/watchdog.owner"
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
}

# Waits (up to a minute) while a watchdog that has claimed its run is still running its command.
owner_watchdog_wait_fired() {
  local dir=$1
  for _ in $(seq 1 600); do
    [ -f "$dir/watchdog.fired" ] || return 0
    sleep 0.1
  done
}

owner_watchdog_stop() {
  local dir=$1 pid
  [ -f "$dir/watchdog.pid" ] || return 0
  pid=$(cat "$dir/watchdog.pid")
  rm -f "$dir/watchdog.pid" "$dir/watchdog.owner"
  [ -n "$pid" ] && [ "$pid" != "$$" ] && kill "$pid" 2>/dev/null || true
}
