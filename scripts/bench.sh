#!/usr/bin/env bash
# `npm run bench`: builds Weft, starts the local stack on free ports in a
# temporary home, and measures it (see scripts/bench.mjs). Arguments are passed on.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WEFT_ROOT"

bash scripts/ensure-nats.sh
ensure_node_modules
log "type-check and build (tsc -b)"
npx tsc -b
exec node scripts/bench.mjs "$@"
