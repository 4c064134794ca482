#!/usr/bin/env bash
# Installs Apache Iceberg's REST catalog server into
# ${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}/iceberg-rest-catalog-<version>:
#   libs/     the jars pom.xml lists, from Maven Central
#   classes/  RestCatalogLauncher.java compiled with this machine's javac against them
# Idempotent: a marker holding the versions and the launcher's sha256 makes later runs only print
# the install directory (last line of stdout).
#
#   install.sh           installs when needed
#   install.sh --check   prints the label; exits 0 when installed, 3 when it would be installed,
#                        1 (saying why on stderr) when it cannot be
set -euo pipefail

ICEBERG_REST_VERSION=1.11.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}"
home="$cache/iceberg-rest-catalog-$ICEBERG_REST_VERSION"
marker="$home/.complete"
launcher="$here/RestCatalogLauncher.java"

fail() { echo "rest-catalog-install: $*" >&2; exit 1; }
needs() { for tool in "$@"; do command -v "$tool" >/dev/null || fail "$tool not found on PATH"; done; }

grep -q "<iceberg.version>$ICEBERG_REST_VERSION</iceberg.version>" "$here/pom.xml" ||
  fail "$here/pom.xml does not pin iceberg.version $ICEBERG_REST_VERSION"
wanted="iceberg-rest=$ICEBERG_REST_VERSION launcher=$(sha256sum "$launcher" | cut -c1-16)"
installed() { [[ -f "$marker" && "$(head -n 1 "$marker")" == "$wanted" && -d "$home/libs" && -f "$home/classes/RestCatalogLauncher.class" ]]; }

# The server runs on java, so that is checked either way.
if [[ ${1:-} == --check ]]; then
  echo "iceberg rest catalog $ICEBERG_REST_VERSION"
  needs java
  installed && exit 0
  needs mvn javac
  exit 3
fi

if installed; then
  echo "$home"
  exit 0
fi
needs java mvn javac flock
mkdir -p "$home"
# Test processes may get here at the same moment on a fresh machine: one installs, the others wait.
exec 9>"$home/.install.lock"
flock 9
if installed; then
  echo "$home"
  exit 0
fi
start=$(date +%s)
staging="$(mktemp -d "$home/install.partial.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

echo "rest-catalog-install: Iceberg $ICEBERG_REST_VERSION REST catalog jars from Maven Central ..." >&2
if ! mvn -B -q -f "$here/pom.xml" -Dmaven.repo.local="$cache/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$staging/libs" >"$staging/maven.log" 2>&1; then
  cat "$staging/maven.log" >&2
  fail "maven failed (pom $here/pom.xml)"
fi
for jar in "iceberg-core-$ICEBERG_REST_VERSION.jar" "iceberg-core-$ICEBERG_REST_VERSION-tests.jar" \
           "iceberg-aws-$ICEBERG_REST_VERSION.jar" "iceberg-aws-bundle-$ICEBERG_REST_VERSION.jar"; do
  [[ -f "$staging/libs/$jar" ]] || fail "$jar missing after the Maven copy"
done
if ! javac --release 17 -d "$staging/classes" -cp "$staging/libs/*" "$launcher" 2>"$staging/javac.log"; then
  cat "$staging/javac.log" >&2
  fail "javac could not compile $launcher"
fi

rm -rf "$home/libs" "$home/classes"
mv "$staging/libs" "$staging/classes" "$home/"
printf '%s\n%s\n' "$wanted" "$(date -u +%FT%TZ)" >"$marker"
echo "rest-catalog-install: $(ls "$home/libs" | wc -l) jars and the launcher in $(($(date +%s) - start)) s" >&2
echo "$home"
