#!/usr/bin/env bash
# Puts the Apache Kafka jars (broker, storage tool, perf tools, log4j2 binding) from Maven Central
# into ${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}/kafka-<version>/libs. Idempotent: a marker file
# written after a complete copy makes later runs return at once. Prints the libs directory last.
set -euo pipefail

KAFKA_VERSION=4.1.1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}"
home="$cache/kafka-$KAFKA_VERSION"
libs="$home/libs"
marker="$home/.complete"

# The pom names the version too; refuse to fill a cache dir keyed by a different one.
if ! grep -q "<kafka.version>$KAFKA_VERSION</kafka.version>" "$here/pom.xml"; then
  echo "fetch-kafka: $here/pom.xml does not pin kafka.version $KAFKA_VERSION" >&2
  exit 1
fi

fetched() { [[ -f "$marker" && -d "$libs" ]]; }
needs() { for tool in "$@"; do command -v "$tool" >/dev/null || { echo "fetch-kafka: $tool not found on PATH" >&2; exit 1; }; done; }

# --check: prints what this installs; exits 0 when it is there, 3 when it would be fetched, 1
# (saying why on stderr) when it cannot be. The jars are of no use without java, so that is checked too.
if [[ ${1:-} == --check ]]; then
  echo "kafka $KAFKA_VERSION jars"
  needs java
  fetched && exit 0
  needs mvn
  exit 3
fi

if fetched; then
  echo "$libs"
  exit 0
fi

needs mvn java

mkdir -p "$home"
# Test processes may call this at the same moment on a fresh machine: one fetches, the others wait.
exec 9>"$home/.fetch.lock"
flock 9
if fetched; then
  echo "$libs"
  exit 0
fi
staging="$(mktemp -d "$home/libs.partial.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

echo "fetch-kafka: resolving Kafka $KAFKA_VERSION jars from Maven Central ..." >&2
start=$(date +%s)
# The local repository lives in the cache too, so a re-fetch after a wiped libs dir is offline.
if ! mvn -B -q -f "$here/pom.xml" \
    -Dmaven.repo.local="$cache/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$staging" >"$staging.log" 2>&1; then
  cat "$staging.log" >&2
  rm -f "$staging.log"
  echo "fetch-kafka: maven failed" >&2
  exit 1
fi
rm -f "$staging.log"

for required in "kafka_2.13-$KAFKA_VERSION.jar" "kafka-tools-$KAFKA_VERSION.jar" \
                "kafka-storage-$KAFKA_VERSION.jar" "kafka-clients-$KAFKA_VERSION.jar"; do
  [[ -f "$staging/$required" ]] || { echo "fetch-kafka: $required missing after copy" >&2; exit 1; }
done

rm -rf "$libs"
mv "$staging" "$libs"
trap - EXIT
date -u +%FT%TZ >"$marker"
echo "fetch-kafka: $(ls "$libs" | wc -l) jars in $(( $(date +%s) - start ))s" >&2
echo "$libs"
