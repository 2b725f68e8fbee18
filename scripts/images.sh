#!/usr/bin/env bash
# Builds the Weft images, tagged with the version in package.json (never :latest):
#
#   scripts/images.sh                         weft-api:<version>, weft-worker:<version>
#   scripts/images.sh --load kind             ... and load them into the kind cluster "weft"
#   scripts/images.sh --load kind --cluster dev
#   scripts/images.sh --load minikube         ... and load them into minikube
#   scripts/images.sh --prefix registry.example.com/team --push
#                                             registry.example.com/team/weft-api:<version>, pushed
#
# Options:
#   --prefix P       registry/repository prefix of the image names (env WEFT_IMAGE_PREFIX)
#   --load TARGET    kind or minikube: load the built images into that local cluster
#   --cluster NAME   kind cluster name (env WEFT_KIND_CLUSTER, default: weft)
#   --push           push the images after building them (needs --prefix)
#   -h, --help       this help
#
# Environment: DOCKER names the docker-compatible CLI to use (default: docker).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

prefix="${WEFT_IMAGE_PREFIX:-}"
load=""
cluster="${WEFT_KIND_CLUSTER:-weft}"
push=false
docker="${DOCKER:-docker}"

while (($# > 0)); do
  case "$1" in
    --prefix)
      (($# >= 2)) || die "--prefix needs a value, e.g. --prefix registry.example.com/team"
      prefix="$2"
      shift 2
      ;;
    --prefix=*)
      prefix="${1#--prefix=}"
      shift
      ;;
    --load)
      (($# >= 2)) || die "--load needs kind or minikube"
      load="$2"
      shift 2
      ;;
    --load=*)
      load="${1#--load=}"
      shift
      ;;
    --cluster)
      (($# >= 2)) || die "--cluster needs a kind cluster name"
      cluster="$2"
      shift 2
      ;;
    --cluster=*)
      cluster="${1#--cluster=}"
      shift
      ;;
    --push)
      push=true
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      die "unknown argument: $1 (see scripts/images.sh --help)"
      ;;
  esac
done

case "$load" in
  "" | kind | minikube) ;;
  *) die "--load must be kind or minikube, not: $load" ;;
esac
if [[ "$push" == true && -z "$prefix" ]]; then
  die "--push needs --prefix (or WEFT_IMAGE_PREFIX): the registry to push to"
fi
if [[ -n "$prefix" && "$prefix" != */ ]]; then
  prefix="$prefix/"
fi

require_node
version="$(node -p 'require(process.argv[1]).version' "$WEFT_ROOT/package.json")"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "package.json has no usable version: $version"

command -v "$docker" >/dev/null 2>&1 ||
  die "$docker is not installed; the images need Docker (or set DOCKER to a compatible CLI such as podman)"

images=()
for component in api worker; do
  image="${prefix}weft-${component}:${version}"
  log "building $image from Dockerfile.$component"
  "$docker" build --file "$WEFT_ROOT/Dockerfile.$component" --tag "$image" "$WEFT_ROOT"
  images+=("$image")
done

if [[ "$push" == true ]]; then
  for image in "${images[@]}"; do
    log "pushing $image"
    "$docker" push "$image"
  done
fi

case "$load" in
  kind)
    command -v kind >/dev/null 2>&1 || die "kind is not installed: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
    log "loading the images into the kind cluster $cluster"
    kind load docker-image "${images[@]}" --name "$cluster"
    ;;
  minikube)
    command -v minikube >/dev/null 2>&1 || die "minikube is not installed: https://minikube.sigs.k8s.io/docs/start/"
    for image in "${images[@]}"; do
      log "loading $image into minikube"
      minikube image load "$image"
    done
    ;;
esac

log "built: ${images[*]}"
if [[ -n "$prefix" ]]; then
  log "install with: --set api.image.repository=${prefix}weft-api --set workers.image.repository=${prefix}weft-worker"
fi
