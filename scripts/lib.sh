# shellcheck shell=bash
# Helpers shared by scripts/kafka and scripts/postgres, which run orderflow's
# local test servers. Source this file after setting LOG_PREFIX.

: "${LOG_PREFIX:=orderflow}"

ORDERFLOW_CACHE="${ORDERFLOW_CACHE:-$HOME/.cache/orderflow}"
ORDERFLOW_STATE="${ORDERFLOW_STATE:-$HOME/.local/state/orderflow}"
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() {
  printf '%s: %s\n' "$LOG_PREFIX" "$*"
}

warn() {
  printf '%s: %s\n' "$LOG_PREFIX" "$*" >&2
}

die() {
  printf '%s: error: %s\n' "$LOG_PREFIX" "$*" >&2
  exit 1
}

# Succeeds when something accepts TCP connections on HOST:PORT.
port_open() {
  local host="$1" port="$2"
  timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# Installs Debian packages, refreshing the package lists first because a
# fresh machine may have none or stale ones.
apt_install() {
  [[ $EUID -eq 0 ]] || die "installing $* needs root; run 'sudo apt-get install $*' and try again"
  command -v apt-get >/dev/null || die "apt-get not found; install $* with this system's package manager"
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    || die "apt-get update failed; check the network access to Debian's package mirror"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed; see the apt-get output above"
}
