#!/usr/bin/env bash
# Writes a single-image OCI layout from ready layer tars, without a container engine.
# usage: oci-image.sh <layout-dir> <tag> <image-config-json> <layer.tar>...
#   image-config-json is the "config" object of the OCI image config (Entrypoint, Cmd, Env, User...).
# Layers are stored uncompressed: they never leave this machine, and it saves minutes of gzip.
set -euo pipefail
layout=$1 tag=$2 config=$3
shift 3
rm -rf "$layout"
mkdir -p "$layout/blobs/sha256"

store_blob() { # file -> prints digest hex, copies the file into the blob store
  local hex
  [[ -f $1 ]] || { echo "oci-image: $1 is not a file" >&2; return 1; }
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  # a hard link: layer tars are large and the cache is one file system
  ln -f "$1" "$layout/blobs/sha256/$hex" 2>/dev/null || cp "$1" "$layout/blobs/sha256/$hex"
  echo "$hex"
}

layers_json="" diff_ids=""
for layer in "$@"; do
  hex=$(store_blob "$layer") || exit 1
  size=$(stat -c %s "$layer")
  layers_json+="${layers_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$hex\",\"size\":$size}"
  diff_ids+="${diff_ids:+,}\"sha256:$hex\""
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$config" "$diff_ids" > "$tmp/config.json"
config_hex=$(store_blob "$tmp/config.json") || exit 1
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$config_hex" "$(stat -c %s "$tmp/config.json")" "$layers_json" > "$tmp/manifest.json"
manifest_hex=$(store_blob "$tmp/manifest.json") || exit 1
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
  "$manifest_hex" "$(stat -c %s "$tmp/manifest.json")" "$tag" > "$layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
