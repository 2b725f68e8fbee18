#!/usr/bin/env bash
# Makes sure shellcheck is available; the test suite checks every scripts/*.sh with it.
# Idempotent: when shellcheck is on PATH this prints its version and exits. Otherwise
# it installs Debian's `shellcheck` package non-interactively, with sudo when not
# running as root.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

print_version() {
  printf 'shellcheck: %s (%s)\n' "$(command -v shellcheck)" "$(shellcheck --version | sed -n 's/^version: //p')"
}

if command -v shellcheck >/dev/null 2>&1; then
  print_version
  exit 0
fi

command -v apt-get >/dev/null 2>&1 ||
  die "shellcheck is not installed and this is not a Debian-like system (no apt-get). Install shellcheck: https://github.com/koalaman/shellcheck#installing"

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 ||
    die "shellcheck is not installed; installing it needs root, and sudo is not available. Run as root: apt-get install shellcheck"
  as_root=(sudo)
fi

log "shellcheck not found; installing Debian package shellcheck"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q update </dev/null
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends shellcheck </dev/null

command -v shellcheck >/dev/null 2>&1 || die "shellcheck is still not found after installing the package"
print_version
