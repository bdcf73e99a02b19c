# Sourced by scripts/browser-tests and scripts/api-fuzz: PostgreSQL and Redis of their own, fresh
# each run.
#
# `fresh_services DIR` stops what an earlier run left in DIR, empties it, starts both servers there
# owned by this shell (their watchdog stops them if it is killed) and exports their FASTEST_SHOP_*
# variables; `stop_fresh_services` stops them (call it from the caller's EXIT trap).

fresh_services() {
  fresh_services_dir=$1
  scripts/services stop --dir "$fresh_services_dir" >/dev/null 2>&1 || true
  rm -rf "$fresh_services_dir"
  set -a
  # shellcheck disable=SC1090
  . <(scripts/services start --dir "$fresh_services_dir" --owner $$)
  set +a
}

stop_fresh_services() {
  scripts/services stop --dir "$fresh_services_dir" >/dev/null 2>&1 || true
}
