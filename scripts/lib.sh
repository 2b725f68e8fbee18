#!/usr/bin/env bash
# Shared helpers for Weft's scripts. Source it; do not run it:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Sourcing it sets WEFT_ROOT to the repository root.

# shellcheck disable=SC2034 # WEFT_ROOT is used by the scripts that source this file.
WEFT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Prints a progress message to stderr.
log() {
  printf '[weft] %s\n' "$*" >&2
}

# Prints an error message to stderr and exits with status 1.
die() {
  printf '[weft] error: %s\n' "$*" >&2
  exit 1
}

# Runs its arguments as root: directly when already root, else through sudo.
# Fails with a message naming `what` when neither is possible.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "installing needs root, and sudo is not available; run as root: $*"
  fi
}

# Installs Debian package $1 non-interactively (with sudo when not root). $2 says
# where else to get it on a system without apt-get.
apt_install() {
  local package="$1" elsewhere="$2"
  command -v apt-get >/dev/null 2>&1 ||
    die "$package is not installed and this is not a Debian-like system (no apt-get). $elsewhere"
  log "$package not found; installing Debian package $package"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update </dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "$package" </dev/null
}

# Prints the path of the nats-server binary and returns 0, or returns 1 if there is none.
# Same search order as findNatsServerBinary() in @weft/shared/testing.
find_nats_server() {
  local candidate
  if [[ -n "${WEFT_NATS_SERVER:-}" ]]; then
    if [[ -f "$WEFT_NATS_SERVER" && -x "$WEFT_NATS_SERVER" ]]; then
      printf '%s\n' "$WEFT_NATS_SERVER"
      return 0
    fi
    return 1
  fi
  if candidate="$(command -v nats-server 2>/dev/null)" && [[ -n "$candidate" ]]; then
    printf '%s\n' "$candidate"
    return 0
  fi
  for candidate in /usr/sbin/nats-server /usr/bin/nats-server; do
    if [[ -f "$candidate" && -x "$candidate" ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

# Fails unless the Node.js on PATH is version 20.11 or newer (as package.json's
# engines say: the test runner's options and import.meta.dirname need it).
require_node() {
  local version major minor
  command -v node >/dev/null 2>&1 || die "node is not installed; Weft needs Node.js >= 20.11"
  version="$(node --version)"
  major="${version#v}"
  minor="${major#*.}"
  major="${major%%.*}"
  minor="${minor%%.*}"
  if ! [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || ((major < 20 || (major == 20 && minor < 11))); then
    die "Weft needs Node.js >= 20.11, found $version"
  fi
}

# Runs `npm ci` in the repository root when node_modules is missing or older than
# package-lock.json (npm writes node_modules/.package-lock.json on every install).
ensure_node_modules() {
  require_node
  local installed="$WEFT_ROOT/node_modules/.package-lock.json"
  if [[ -f "$installed" && ! "$WEFT_ROOT/package-lock.json" -nt "$installed" ]]; then
    return 0
  fi
  log "installing npm dependencies (npm ci)"
  (cd "$WEFT_ROOT" && npm ci --no-audit --no-fund)
}

# Everything `npm start` and `npm run bench` need before running: nats-server, the
# npm dependencies, and a fresh build.
ensure_built() {
  bash scripts/ensure-nats.sh
  ensure_node_modules
  log "type-check and build (tsc -b)"
  npx tsc -b
}
