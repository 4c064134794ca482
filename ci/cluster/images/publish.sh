#!/usr/bin/env bash
# Pushes the locally built images into the local registry under every name the chart renders
# (helm template), so the chart installs with its own default values. Writes the list of registry
# hosts those names use to $RUN_DIR/registries, for containerd's mirror configuration.
# usage: publish.sh "<layout> <kind>"...   (kind: pause | node | kafka | spark | seaweedfs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../env.sh"
source "$here/../../spark/versions.env"
repo_root=$(cd "$here/../../.." && pwd)
declare -A layout_of
for line in "$@"; do layout_of[${line#* }]=${line%% *}; done

chart_images() {
  if [[ -f $repo_root/chart/Chart.yaml ]]; then
    "$HELM_BIN/helm" template lakehouse "$repo_root/chart" \
      | sed -n 's/^[[:space:]-]*image:[[:space:]]*["'\'']\{0,1\}\([^"'\'' ]*\).*/\1/p'
  fi
  echo "docker.io/library/node:22"
  echo "docker.io/apache/kafka:$KAFKA_VERSION"
  # engine=spark's image, which the default values do not render
  echo "docker.io/apache/spark:$SPARK_VERSION"
  # the embedded object store's, which the default values do not render either
  if [[ -f $repo_root/chart/Chart.yaml ]]; then
    "$HELM_BIN/helm" template lakehouse "$repo_root/chart" -f "$repo_root/chart/ci/objectstore-values.yaml" \
      | sed -n 's/^[[:space:]-]*image:[[:space:]]*["'\'']\{0,1\}\([^"'\'' ]*seaweedfs[^"'\'' ]*\).*/\1/p'
  fi
}

kind_of() {
  case $1 in
    */pause:*) echo pause ;;
    */spark:*) echo spark ;;
    */seaweedfs:*) echo seaweedfs ;;
    *kafka*) echo kafka ;;
    *node*) echo node ;;
    *) echo "publish: no local build for image $1 (rendered by the chart)" >&2; return 1 ;;
  esac
}

# docker.io/library/node:22 -> host docker.io, path library/node:22 (the mirror keeps the path)
split_reference() {
  local ref=$1 first=${1%%/*}
  if [[ $ref != */* ]] || [[ $first != *.* && $first != *:* && $first != localhost ]]; then
    ref=docker.io/$ref
    first=docker.io
  fi
  local path=${ref#*/}
  [[ $first == docker.io && $path != */* ]] && path=library/$path
  [[ $path != *:* && $path != *@* ]] && path=$path:latest
  echo "$first $path"
}

: > "$RUN_DIR/registries"
for image in $( { chart_images; echo "$PAUSE_IMAGE"; } | while read -r ref; do split_reference "$ref"; done | sort -u | tr ' ' '/'); do
  kind=$(kind_of "$image")
  host=${image%%/*} path=${image#*/}
  layout=${layout_of[$kind]}
  tag=$(sed -n 's/.*"org.opencontainers.image.ref.name":"\([^"]*\)".*/\1/p' "$layout/index.json")
  log "publish $kind image as $host/$path"
  skopeo copy --quiet --dest-tls-verify=false "oci:$layout:$tag" "docker://$REGISTRY/$path"
  grep -qx "$host" "$RUN_DIR/registries" || echo "$host" >> "$RUN_DIR/registries"
done
