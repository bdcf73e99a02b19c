# Sourced by scripts/services and scripts/cluster: what starting PostgreSQL and Redis on loopback
# needs, whichever shape (one of each, or a cluster). The caller defines log().

# The servers started here outlive the caller as daemons and inherit its descriptors. Any
# descriptor the caller was passed beyond stdin/stdout/stderr would stay open in them for their
# whole life; a process that learns "the script ended" from such a descriptor (a pipe's end)
# would then wait until the servers stop. So close them all, except 255, where bash keeps the
# script open while it reads it.
close_inherited_descriptors() {
  local entry fd
  for entry in /proc/$$/fd/*; do
    fd=${entry##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then
      eval "exec $fd>&-" 2>/dev/null || true
    fi
  done
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bin() {
  local candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

# A port for a server, below the kernel's ephemeral range: ports in that range are handed to
# outgoing connections (every client socket and its TIME_WAIT holds one), and a server cannot
# bind a port a client socket holds, even though nothing listens on it. Tests that open many
# connections while starting servers hit exactly that ("bind: Address already in use").
# With FREE_PORT_TAKEN set to a file, the ports handed out are listed there and never handed
# out twice: a caller choosing several ports before starting anything on them (a cluster) would
# otherwise get the same free port twice now and then. (A file, because each call runs in the
# subshell of `$(free_port)`, where a variable set would be lost.)
free_port() {
  local port low=20000 high=32767 ephemeral_low
  if read -r ephemeral_low _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null; then
    [ "$ephemeral_low" -gt $((low + 1000)) ] && high=$((ephemeral_low - 1))
  fi
  for _ in $(seq 1 400); do
    port=$(( low + RANDOM % (high - low + 1) ))
    if [ -n "${FREE_PORT_TAKEN:-}" ] && grep -qx "$port" "$FREE_PORT_TAKEN" 2>/dev/null; then continue; fi
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    # Any socket on the port (connected, TIME_WAIT, bound) also rules it out.
    if command -v ss >/dev/null && [ -n "$(ss -Htan "sport = :$port" 2>/dev/null)" ]; then continue; fi
    [ -n "${FREE_PORT_TAKEN:-}" ] && echo "$port" >> "$FREE_PORT_TAKEN"
    echo "$port"
    return 0
  done
  log "no free port found"
  return 1
}

# initdb and postgres refuse to run as root: run them as an unprivileged account.
pg_user() {
  if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  id fastest >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin fastest
  echo fastest
}

as_pg() {
  local user
  user=$(pg_user)
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}
