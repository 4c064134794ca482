#!/usr/bin/env bash
# Runs a Kafka main class with the jars in /opt/kafka/libs, honouring the launcher variables the
# upstream scripts read (KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_OPTS, KAFKA_LOG4J_OPTS,
# LOG_DIR).
# usage: kafka-class.sh <server|tool> <main-class> [args...]
set -euo pipefail
kind=$1 class=$2
shift 2
home=/opt/kafka
if [[ $kind == server ]]; then
  heap=${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}
  log4j=${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$home/config/log4j2.properties}
  performance=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}
else
  heap=${KAFKA_HEAP_OPTS:--Xmx256M}
  log4j=-Dlog4j2.configurationFile=$home/config/tools-log4j2.properties
  performance=${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseSerialGC -Djava.awt.headless=true}
fi
# word splitting of the option strings is intended, as in the upstream scripts
# shellcheck disable=SC2086
exec java $heap $performance $log4j -Dkafka.logs.dir="${LOG_DIR:-$home/logs}" ${KAFKA_OPTS-} -cp "$home/libs/*" "$class" "$@"
