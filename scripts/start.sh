#!/usr/bin/env bash
# `npm start`: builds Weft and runs the local stack (nats-server, the API and
# workers as local processes) under scripts/local-stack.mjs. Arguments are passed
# on, e.g. `npm start -- --workers 4 --api-port 9090`; see local-stack.mjs.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# npm runs scripts from the package's root; relative paths (--home) are the caller's.
caller_dir="${INIT_CWD:-$PWD}"
cd "$WEFT_ROOT"

ensure_built
cd "$caller_dir"
exec node "$WEFT_ROOT/scripts/local-stack.mjs" "$@"
