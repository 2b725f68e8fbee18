#!/usr/bin/env bash
# `npm start`: builds Weft and runs the local stack (nats-server, the API and
# workers as local processes) under scripts/local-stack.mjs. Arguments are passed
# on, e.g. `npm start -- --workers 4 --api-port 9090`; see local-stack.mjs.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WEFT_ROOT"

ensure_built
exec node scripts/local-stack.mjs "$@"
