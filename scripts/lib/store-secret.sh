# Sourced by scripts/services and scripts/cluster: the stores' password, generated once per DIR.
#
# A loopback port is open to every account on the machine, so the stores ask for a password,
# kept in $DIR/secret (0600). Our own tools get it through the environment (PGPASSWORD,
# REDISCLI_AUTH), never on a command line, where `ps` would show it.

# Creates $1/secret if missing, then reads it (store_secret_read).
store_secret_ensure() {
  [ -s "$1/secret" ] || (umask 077; head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40 > "$1/secret")
  store_secret_read "$1"
}

# Sets SECRET from $1/secret and exports it as PGPASSWORD and REDISCLI_AUTH (unset when there is
# no secret yet: a DIR made before the stores had passwords).
store_secret_read() {
  SECRET=""
  [ -s "$1/secret" ] && SECRET=$(cat "$1/secret")
  if [ -n "$SECRET" ]; then export PGPASSWORD=$SECRET REDISCLI_AUTH=$SECRET; else unset PGPASSWORD REDISCLI_AUTH; fi
}
