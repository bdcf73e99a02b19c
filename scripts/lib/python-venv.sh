# Sourced by scripts/browser-tests and scripts/api-fuzz: a Python venv with pinned PyPI packages.
#
# `python_venv DIR 'name==version'…` creates DIR (python3 -m venv; installs Debian's python3-venv
# first when missing) and installs the packages unless every one is already there at its version.

python_venv() {
  local venv=$1
  shift
  if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip' 2>/dev/null; then
    local sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3 python3-venv
  fi
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$@" <<'PY' 2>/dev/null; then return 0; fi
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    assert version(name) == wanted, pin
PY
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$@"
}
