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

apt_install shellcheck "Install shellcheck: https://github.com/koalaman/shellcheck#installing"

command -v shellcheck >/dev/null 2>&1 || die "shellcheck is still not found after installing the package"
print_version
