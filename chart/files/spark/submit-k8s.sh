#!/bin/bash
# The chart's Spark hook Jobs run this with spark-submit's arguments (cluster mode). spark-submit
# waits for the driver pod but exits 0 whatever the driver's outcome, so the Job would succeed on a
# failed stage; this fails unless the driver pod's last reported phase is Succeeded.
set -uo pipefail
log=/tmp/spark-submit.log
/opt/spark/bin/spark-submit "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if (( status != 0 )); then
  echo "spark-submit exited $status" >&2
  exit "$status"
fi
final="$(grep -o 'phase: [A-Za-z]*' "$log" | tail -n 1)"
if [[ "$final" != "phase: Succeeded" ]]; then
  echo "the Spark application did not succeed (driver ${final:-phase unknown})" >&2
  exit 1
fi
