#!/usr/bin/env bash
# Weft's test suite; `npm test` runs this and CI runs `npm test` (.ci/run).
#
#   npm test                    lint, type-check and build, then run every test
#   npm test -- <substring>...  build, then run only the test files whose path
#                               contains one of the substrings (no lint)
#
# Works on a fresh clone with no stdin: installs nats-server (scripts/ensure-nats.sh),
# the shell linter (scripts/ensure-shellcheck.sh) and npm dependencies (npm ci) when
# they are missing, and fetches helm when it is not on PATH (scripts/helm.sh). Tests
# run from the compiled output, services/*/dist/test/**/*.test.js.
#
# Environment:
#   WEFT_TEST_CONCURRENCY  test files run in parallel (default: CPU count, 2 to 4)
#   WEFT_TEST_TIMEOUT_MS   timeout of a single test, and of a whole test file (default:
#                          600000; the Dockerfile build test alone takes 1-2 minutes,
#                          and tests that need a tighter bound set their own)
set -euo pipefail
shopt -s globstar nullglob

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WEFT_ROOT"

filters=("$@")

bash scripts/ensure-nats.sh
bash scripts/ensure-shellcheck.sh
ensure_node_modules
# Fetched once here rather than by several test files at the same time.
if helm_version="$(bash scripts/helm.sh version --short)"; then
  printf 'helm: %s\n' "$helm_version"
else
  log "warning: no helm (see above): the chart tests will fail"
fi

if ((${#filters[@]} == 0)); then
  log "lint"
  npm run --silent lint
fi

log "type-check and build (tsc -b)"
npx tsc -b

# Compiled test files. tsc -b never deletes outputs, so skip those whose source is
# gone (a deleted or renamed test would otherwise keep running from dist/).
files=()
for file in services/*/dist/test/**/*.test.js; do
  if ((${#filters[@]} > 0)); then
    matched=false
    for filter in "${filters[@]}"; do
      if [[ "$file" == *"$filter"* ]]; then
        matched=true
        break
      fi
    done
    [[ "$matched" == true ]] || continue
  fi
  source_file="${file/\/dist\/test\//\/test\/}"
  source_file="${source_file%.js}.ts"
  if [[ ! -f "$source_file" ]]; then
    log "skipping stale $file (no $source_file)"
    continue
  fi
  files+=("$file")
done

if ((${#files[@]} == 0)); then
  if ((${#filters[@]} > 0)); then
    die "no compiled test file matches: ${filters[*]}"
  fi
  die "no compiled test files found (services/*/dist/test/**/*.test.js)"
fi

concurrency="${WEFT_TEST_CONCURRENCY:-}"
if [[ -z "$concurrency" ]]; then
  concurrency="$(node -p 'Math.min(4, Math.max(2, require("node:os").availableParallelism()))')"
fi
# node --test applies the timeout to each file as a whole too.
timeout_ms="${WEFT_TEST_TIMEOUT_MS:-600000}"

# Human-readable spec output on stdout; a TAP copy for the closing summary lines.
tap_file="$(mktemp "${TMPDIR:-/tmp}/weft-test-XXXXXX.tap")"
trap 'rm -f "$tap_file"' EXIT

log "running ${#files[@]} test file(s), concurrency $concurrency"
status=0
node --test \
  --test-concurrency="$concurrency" \
  --test-timeout="$timeout_ms" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap_file" \
  "${files[@]}" || status=$?

# The spec reporter's summary uses "ℹ pass N"; print the TAP form too for log scrapers.
grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [0-9.]+$' "$tap_file" | tail -n 8 || true

if ((status != 0)); then
  log "tests failed (node --test exited with $status)"
fi
exit "$status"
