#!/usr/bin/env bash
# Runs one lake stage on Spark in local mode:  dev/spark/run-stage.sh <bronze|silver|gold> [--flag value ...]
# Settings come from the same environment variables and flags as the Node jobs (docs/contract.md).
# Spark comes from ci/spark/install.sh; LAKEHOUSE_SPARK_MASTER (default local[2]),
# LAKEHOUSE_SPARK_DRIVER_MEMORY (default 2g), LAKEHOUSE_SPARK_SHUFFLE_PARTITIONS (default 8) and
# LAKEHOUSE_SPARK_EVENT_LOG_DIR (Spark event logs, for stage timings) tune the run.
# Exit codes: 0 done, 1 job failed, 2 bad configuration.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
stages="$repo/jobs/spark"
# shellcheck source=../../ci/spark/versions.env
source "$repo/ci/spark/versions.env"

stage="${1:-}"
case "$stage" in
  bronze|silver|gold) shift ;;
  *) echo "usage: $0 <bronze|silver|gold> [--flag value ...]" >&2; exit 2 ;;
esac

home="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}/spark-$SPARK_VERSION"
if [[ ! -f "$home/.complete" || ! -x "$home/venv/bin/spark-submit" ]]; then
  echo "run-stage: Spark $SPARK_VERSION is not installed in $home; run ci/spark/install.sh" >&2
  exit 1
fi

jars="$(printf '%s,' "$home"/jars/*.jar)"
py_files="$(printf '%s,' "$stages"/lakehouse_*.py)"
conf=(
  --master "${LAKEHOUSE_SPARK_MASTER:-local[2]}"
  --driver-memory "${LAKEHOUSE_SPARK_DRIVER_MEMORY:-2g}"
  --jars "${jars%,}"
  --py-files "${py_files%,}"
  --driver-java-options "-Dlog4j.configurationFile=file:$here/log4j2.properties"
  # Local mode talks to itself only: keep the driver and its block manager on loopback.
  --conf spark.driver.host=127.0.0.1
  --conf spark.driver.bindAddress=127.0.0.1
  --conf spark.ui.enabled=false
  # Shuffles of this size fit a few partitions; adaptive execution merges small ones.
  --conf "spark.sql.shuffle.partitions=${LAKEHOUSE_SPARK_SHUFFLE_PARTITIONS:-8}"
)
if [[ -n "${LAKEHOUSE_SPARK_EVENT_LOG_DIR:-}" ]]; then
  mkdir -p "$LAKEHOUSE_SPARK_EVENT_LOG_DIR"
  conf+=(--conf spark.eventLog.enabled=true --conf spark.eventLog.rolling.enabled=false --conf spark.eventLog.compress=false
        --conf "spark.eventLog.dir=file://$(cd "$LAKEHOUSE_SPARK_EVENT_LOG_DIR" && pwd)")
fi

export PYSPARK_PYTHON="$home/venv/bin/python"
export PYSPARK_DRIVER_PYTHON="$home/venv/bin/python"
export SPARK_LOCAL_IP=127.0.0.1
export LAKEHOUSE_SPARK_LAUNCHED_AT_MS="$(date +%s%3N)"
exec "$home/venv/bin/spark-submit" "${conf[@]}" "$stages/$stage.py" "$@"
