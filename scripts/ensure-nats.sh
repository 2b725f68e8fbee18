#!/usr/bin/env bash
# Makes sure a nats-server binary is available; Weft's tests, benchmarks and local
# stack start their own servers with it. Idempotent: when nats-server is found
# ($WEFT_NATS_SERVER, PATH, /usr/sbin, /usr/bin) this prints its version and exits.
# Otherwise it installs Debian's `nats-server` package non-interactively, with sudo
# when not running as root.
#
# The package enables a nats-server systemd service on 127.0.0.1:4222. Weft does not
# use it, and it would occupy the port `npm start` wants, so when this script has
# just installed the package on a machine running systemd it disables that service.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n "${WEFT_NATS_SERVER:-}" ]] && ! find_nats_server >/dev/null; then
  die "WEFT_NATS_SERVER=$WEFT_NATS_SERVER is not an executable file"
fi

if bin="$(find_nats_server)"; then
  printf 'nats-server: %s (%s)\n' "$bin" "$("$bin" --version 2>&1 || true)"
  exit 0
fi

apt_install nats-server \
  "Install nats-server >= 2.9 (https://docs.nats.io/running-a-nats-service/introduction/installation) or set WEFT_NATS_SERVER to its path."

if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  if as_root systemctl disable --now nats-server.service >/dev/null 2>&1; then
    log "disabled the nats-server systemd service the package enabled (Weft starts its own servers)"
  else
    log "warning: could not disable the nats-server systemd service; if it occupies port 4222, run: sudo systemctl disable --now nats-server"
  fi
fi

bin="$(find_nats_server)" || die "nats-server is still not found after installing the package"
printf 'nats-server: %s (%s)\n' "$bin" "$("$bin" --version 2>&1 || true)"
