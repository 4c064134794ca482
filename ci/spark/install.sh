#!/usr/bin/env bash
# Installs the Spark engine into ${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}/spark-<version>:
#   venv/  a Python virtualenv with pyspark from PyPI (brings spark-submit and Spark's jars)
#   jars/  Spark's Kafka connector and its runtime dependencies, Iceberg's Spark runtime and its AWS
#          SDK bundle (S3FileIO), from Maven Central
#   venv/  also holds PyIceberg (with PyArrow), an independent reader of the lake's Iceberg tables,
#          and DuckDB with its iceberg, httpfs and avro extensions (PyPI wheels), another one
# Idempotent: a marker holding the installed versions makes later runs only print versions.
# Prints the install directory on the last line of stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}"
home="$cache/spark-$SPARK_VERSION"
marker="$home/.complete"
wanted_versions="spark=$SPARK_VERSION scala=$SCALA_BINARY iceberg=$ICEBERG_VERSION iceberg-aws-bundle=$ICEBERG_VERSION pyiceberg=$PYICEBERG_VERSION duckdb=$DUCKDB_VERSION"

if ! grep -q "<spark.version>$SPARK_VERSION</spark.version>" "$here/pom.xml" ||
   ! grep -q "<scala.binary.version>$SCALA_BINARY</scala.binary.version>" "$here/pom.xml" ||
   ! grep -q "<iceberg.version>$ICEBERG_VERSION</iceberg.version>" "$here/pom.xml"; then
  echo "spark-install: $here/pom.xml does not pin spark $SPARK_VERSION / scala $SCALA_BINARY / iceberg $ICEBERG_VERSION" >&2
  exit 1
fi

print_versions() {
  local java_line
  java_line="$(java -version 2>&1 | head -n 1)"
  echo "spark-install: pyspark $("$home/venv/bin/python" -c 'import pyspark; print(pyspark.__version__)')," \
       "pyiceberg $("$home/venv/bin/python" -c 'import pyiceberg; print(pyiceberg.__version__)')," \
       "duckdb $("$home/venv/bin/python" -c 'import duckdb; print(duckdb.__version__)')," \
       "python $("$home/venv/bin/python" -c 'import platform; print(platform.python_version())')," \
       "java: $java_line" >&2
  echo "spark-install: connector jars: $(cd "$home/jars" && ls | tr '\n' ' ')" >&2
  echo "$home"
}

installed() { [[ -f "$marker" && "$(head -n 1 "$marker")" == "$wanted_versions" && -x "$home/venv/bin/spark-submit" && -d "$home/jars" ]]; }
needs() { for tool in "$@"; do command -v "$tool" >/dev/null || { echo "spark-install: $tool not found on PATH" >&2; exit 1; }; done; }
needs_java17() {
  needs java
  local java_major
  java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  if (( java_major < 17 )); then
    echo "spark-install: Spark $SPARK_VERSION needs Java 17 or newer, found $java_major" >&2
    exit 1
  fi
}

# --check: prints what this installs; exits 0 when it is installed, 3 when it would be installed, 1
# (saying why on stderr) when it cannot be. Spark runs on java, so that is checked either way.
if [[ ${1:-} == --check ]]; then
  echo "pyspark $SPARK_VERSION + iceberg $ICEBERG_VERSION + pyiceberg $PYICEBERG_VERSION + duckdb $DUCKDB_VERSION"
  needs_java17
  installed && exit 0
  needs mvn python3
  exit 3
fi

if installed; then
  print_versions
  exit 0
fi

needs java mvn python3
needs_java17

mkdir -p "$home"
start=$(date +%s)

if [[ ! -x "$home/venv/bin/spark-submit" ]]; then
  echo "spark-install: pyspark $SPARK_VERSION from PyPI into $home/venv ..." >&2
  rm -rf "$home/venv"
  python3 -m venv "$home/venv"
  "$home/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --cache-dir "$cache/pip" "pyspark==$SPARK_VERSION"
fi
if ! "$home/venv/bin/python" -c "import pyiceberg, sys; sys.exit(pyiceberg.__version__ != '$PYICEBERG_VERSION')" 2>/dev/null; then
  echo "spark-install: pyiceberg $PYICEBERG_VERSION (with pyarrow) from PyPI into $home/venv ..." >&2
  "$home/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --cache-dir "$cache/pip" "pyiceberg[pyarrow]==$PYICEBERG_VERSION"
fi
# The extensions are loaded by path (no download at run time): <site-packages>/duckdb_extension_<name>/extensions/v<version>/.
duckdb_ready() {
  "$home/venv/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null || return 1
  local extension
  for extension in $DUCKDB_EXTENSIONS; do
    compgen -G "$home/venv/lib/python3*/site-packages/duckdb_extension_$extension/extensions/v$DUCKDB_VERSION/$extension.duckdb_extension" >/dev/null || return 1
  done
}
if ! duckdb_ready; then
  echo "spark-install: duckdb $DUCKDB_VERSION and its extensions ($DUCKDB_EXTENSIONS) from PyPI into $home/venv ..." >&2
  duckdb_packages=("duckdb==$DUCKDB_VERSION")
  for extension in $DUCKDB_EXTENSIONS; do duckdb_packages+=("duckdb-extension-$extension==$DUCKDB_VERSION"); done
  "$home/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --cache-dir "$cache/pip" "${duckdb_packages[@]}"
  duckdb_ready || { echo "spark-install: duckdb $DUCKDB_VERSION or an extension file of $DUCKDB_EXTENSIONS is missing after pip" >&2; exit 1; }
fi

staging="$(mktemp -d "$home/jars.partial.XXXXXX")"
trap 'rm -rf "$staging" "$staging.log"' EXIT
echo "spark-install: spark-sql-kafka-0-10_$SCALA_BINARY:$SPARK_VERSION from Maven Central ..." >&2
wanted="spark-sql-kafka-0-10_$SCALA_BINARY,spark-token-provider-kafka-0-10_$SCALA_BINARY,kafka-clients,commons-pool2,iceberg-spark-runtime-4.1_$SCALA_BINARY,iceberg-aws-bundle"
if ! mvn -B -q -f "$here/pom.xml" -s "$here/maven-settings.xml" \
    -Dmaven.repo.local="$cache/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DincludeArtifactIds="$wanted" \
    -DoutputDirectory="$staging" >"$staging.log" 2>&1; then
  cat "$staging.log" >&2
  echo "spark-install: maven failed" >&2
  exit 1
fi
for prefix in "spark-sql-kafka-0-10_$SCALA_BINARY-$SPARK_VERSION" \
              "spark-token-provider-kafka-0-10_$SCALA_BINARY-$SPARK_VERSION" kafka-clients- commons-pool2- \
              "iceberg-spark-runtime-4.1_$SCALA_BINARY-$ICEBERG_VERSION" "iceberg-aws-bundle-$ICEBERG_VERSION"; do
  compgen -G "$staging/$prefix*.jar" >/dev/null ||
    { echo "spark-install: no $prefix*.jar after the Maven copy" >&2; exit 1; }
done
rm -rf "$home/jars"
mv "$staging" "$home/jars"
trap - EXIT
rm -f "$staging.log"

printf '%s\n%s\n' "$wanted_versions" "$(date -u +%FT%TZ)" >"$marker"
echo "spark-install: installed in $(( $(date +%s) - start ))s" >&2
print_versions
