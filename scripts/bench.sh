#!/usr/bin/env bash
# `npm run bench`: builds Weft, starts the local stack on free ports in a
# temporary home, and measures it (see scripts/bench.mjs). Arguments are passed on.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WEFT_ROOT"

ensure_built
exec node scripts/bench.mjs "$@"
