# The "schedule" scenario of test.sh (sourced; uses its step, helm, kubectl and now): the chart runs
# itself. Installed with a one-minute pipeline schedule, the continuous producer and the metrics
# exporter, in a namespace of its own (restricted Pod Security Standard enforced) that is deleted at
# the end:
#   - within a bounded wait at least two scheduled runs succeed and gold counts events produced
#     after the install;
#   - helm test started while a scheduled run is in progress passes;
#   - helm upgrade during a scheduled run loses nothing (helm test after it: bronze holds every
#     offset Kafka holds up to bronze's, exactly once; bronze only grew);
#   - /metrics scraped from a pod of the release shows lakehouse_up 1 and gold's freshness;
#   - a real Prometheus with the chart's rules, scraping the exporter as its ServiceMonitor says:
#     suspending the pipeline CronJob fires LakehousePipelineStale, resuming it resolves it.
# shellcheck shell=bash
sched_ns=${LAKEHOUSE_SCHEDULE_NAMESPACE:-lakehouse-schedule}
sched_release=lakehouse
sched_values=(
  --set "schedule.pipeline=*/1 * * * *"
  --set producer.mode=continuous
  --set producer.eventsPerSecond=5
  --set metrics.enabled=true
)
ks() { kubectl -n "$sched_ns" "$@"; }

# kubectl run --overrides (strategic merge) that make a one-off pod meet the restricted Pod Security Standard.
restricted_run_overrides() { # container-name
  printf '{"apiVersion":"v1","spec":{"automountServiceAccountToken":false,"securityContext":{"runAsNonRoot":true,"runAsUser":10001,"runAsGroup":10001,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"%s","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}' "$1"
}

# Node program (ci/cluster/metrics-sampler.mjs) run in a pod of the release, so the exporter's
# NetworkPolicy admits it: "name=url,..." samples count seconds-between
sample_metrics_in_cluster() {
  local ns=$1 pod=$2 exporters=$3 samples=$4 seconds=$5 timeout=$(($4 * $5 + 120))
  kubectl -n "$ns" delete pod "$pod" --ignore-not-found --wait >/dev/null
  kubectl -n "$ns" run "$pod" --image=node:22-bookworm-slim --restart=Never \
    --labels="app.kubernetes.io/name=lakehouse,app.kubernetes.io/instance=$sched_release" \
    --env="EXPORTERS=$exporters" --env="SAMPLES=$samples" --env="SAMPLE_SECONDS=$seconds" \
    --override-type=strategic --overrides="$(restricted_run_overrides "$pod")" \
    --command -- node --input-type=module -e "$(cat "$here/metrics-sampler.mjs")" >/dev/null
  if ! kubectl -n "$ns" wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$pod" --timeout="${timeout}s" >/dev/null; then
    kubectl -n "$ns" describe pod "$pod" >&2 || true
    kubectl -n "$ns" logs "$pod" >&2 || true
    return 1
  fi
  kubectl -n "$ns" logs "$pod"
  kubectl -n "$ns" delete pod "$pod" --wait=false >/dev/null
}

# The jobs' own inspection commands, run in the exporter's pod (it mounts the lake read-only).
lake() { kubectl -n "${lake_ns:-$sched_ns}" exec "deploy/$sched_release-metrics" -- node /opt/lakehouse/lakehouse.mjs "$@"; }

# Sum of gold.stats' event_count (0 before gold has a snapshot: the install's own pipeline may have
# run before the continuous producer's first send).
gold_events() {
  local tables
  tables=$(lake tables) || return 1
  if awk '$1 == "gold.stats" && $2 == "-" { none = 1 } END { exit !none }' <<<"$tables"; then
    echo 0
    return 0
  fi
  lake show gold.stats --limit 1000 \
    | awk 'NR == 2 { for (i = 1; i <= NF; i++) if ($i == "event_count") c = i } NR > 3 && c { s += $c } END { print s + 0 }'
}

# Rows in bronze.vehicles' current snapshot.
bronze_rows() {
  lake tables | awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "rows") c = i } $1 == "bronze.vehicles" { print $c }'
}

# Records Kafka holds in the topic (sum of the partitions' end offsets); fails, saying why, when
# the offsets cannot be read (a 0 then would pass for "nothing produced yet").
kafka_records() {
  local out
  out=$(kafka_admin_tool "$sched_ns" "$sched_release-kafka-0" kafka-get-offsets.sh --topic vehicles-events --time -1) \
    || { echo "  kafka-get-offsets failed" >&2; return 1; }
  awk -F: '$1 == "vehicles-events" && NF == 3 { s += $3; n++ } END { if (!n) exit 1; print s + 0 }' <<<"$out" \
    || { echo "  kafka-get-offsets printed no partition of vehicles-events: $out" >&2; return 1; }
}

# CronJob-made pipeline Jobs: "<start> <completion|-> <succeeded> <name>", oldest first.
scheduled_runs() {
  ks get jobs -l "app.kubernetes.io/instance=$sched_release,app.kubernetes.io/component=pipeline" \
    -o go-template='{{range .items}}{{.status.startTime}} {{or .status.completionTime "-"}} {{or .status.succeeded 0}} {{.metadata.name}}{{"\n"}}{{end}}' \
    | sort
}

succeeded_since() { scheduled_runs | awk -v since="$1" '$1 >= since && $3 >= 1' | wc -l; }

wait_for_scheduled_runs() { # count since seconds : at least count scheduled runs started at or after since have succeeded
  local want=$1 since=$2 deadline=$((SECONDS + $3)) ok
  while :; do
    ok=$(succeeded_since "$since")
    echo "  $(now): $ok scheduled run(s) succeeded since $since"
    if ((ok >= want)); then scheduled_runs | sed 's/^/  /'; return 0; fi
    if ((SECONDS >= deadline)); then
      scheduled_runs | sed 's/^/  /'
      ks get cronjobs,jobs,pods -o wide >&2 || true
      ks logs -l "app.kubernetes.io/component=pipeline" --all-containers --prefix --tail=5 >&2 || true
      return 1
    fi
    sleep 10
  done
}

sched_install() {
  helm install "$sched_release" "$repo/chart" -n "$sched_ns" "${sched_values[@]}" --wait --timeout 20m
}

# The continuous producer is ready only once Kafka acknowledged its first events, and its init
# container creates the topic, so `helm install --wait` returns with records in Kafka: a short wait
# covers only the moment before the first acknowledgement is readable as an end offset.
record_install_state() {
  local deadline=$((SECONDS + 20))
  sched_gold_at_install=$(gold_events) || return 1
  until sched_kafka_at_install=$(kafka_records) && ((sched_kafka_at_install > 0)); do
    if ((SECONDS >= deadline)); then
      echo "  Kafka holds ${sched_kafka_at_install:-no} records 20 s after helm install --wait returned; the producer's log:" >&2
      ks logs "deploy/$sched_release-producer" --tail=20 >&2 || true
      return 1
    fi
    sleep 3
  done
  sched_t0=$(now)
  echo "  at install ($sched_t0): gold counts $sched_gold_at_install events, Kafka holds $sched_kafka_at_install records"
}

gold_grew() {
  local gold bronze
  gold=$(gold_events) bronze=$(bronze_rows)
  echo "  gold counts $gold events (at install $sched_gold_at_install); bronze holds $bronze records (Kafka held $sched_kafka_at_install at install)"
  # Bronze beyond what Kafka held at install: the scheduled runs read events produced after it.
  [[ $gold -gt $sched_gold_at_install && $bronze -gt $sched_kafka_at_install ]]
}

wait_for_active_run() { # seconds : until a scheduled run is in progress
  local deadline=$((SECONDS + $1))
  until [[ -n $(ks get jobs -l "app.kubernetes.io/component=pipeline" -o jsonpath='{range .items[?(@.status.active==1)]}{.metadata.name}{"\n"}{end}') ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
  ks get jobs -l "app.kubernetes.io/component=pipeline" -o jsonpath='{range .items[?(@.status.active==1)]}  running: {.metadata.name} since {.status.startTime}{"\n"}{end}'
}

helm_test_during_run() {
  wait_for_active_run 120 || { echo "  no scheduled run started within 120s" >&2; return 1; }
  helm test "$sched_release" -n "$sched_ns" --logs --timeout 10m
}

upgrade_during_run() {
  sched_bronze_before_upgrade=$(bronze_rows)
  wait_for_active_run 120 || { echo "  no scheduled run started within 120s" >&2; return 1; }
  sched_t1=$(now)
  echo "  bronze holds $sched_bronze_before_upgrade records; upgrading at $sched_t1"
  helm upgrade "$sched_release" "$repo/chart" -n "$sched_ns" "${sched_values[@]}" --set producer.eventsPerSecond=8 --wait --timeout 20m
}

nothing_lost_after_upgrade() {
  local after
  after=$(bronze_rows)
  echo "  bronze: $sched_bronze_before_upgrade records before the upgrade, $after after"
  [[ $after -ge $sched_bronze_before_upgrade ]]
}

metrics_show_freshness() {
  local out up gold_age
  out=$(sample_metrics_in_cluster "$sched_ns" lakehouse-scrape "exporter=http://$sched_release-metrics.$sched_ns.svc:9464/metrics" 1 1) || return 1
  grep -E '^(sample|lakehouse_(up|lake_up|kafka_up|lake_state_age_seconds|kafka_state_age_seconds|stage_seconds_since_last_success|kafka_lag_records|stage_consecutive_failures))' <<<"$out" | sed 's/^/  /'
  up=$(awk '$1 ~ /^lakehouse_up($|\{)/ { print $2 }' <<<"$out")
  gold_age=$(awk '$1 ~ /^lakehouse_stage_seconds_since_last_success\{/ && $1 ~ /stage="gold"/ { print $2 }' <<<"$out")
  [[ $up == 1 ]] || { echo "  lakehouse_up is ${up:-missing}, not 1" >&2; return 1; }
  [[ -n $gold_age ]] || { echo "  no lakehouse_stage_seconds_since_last_success for gold" >&2; return 1; }
  # Fresh: gold succeeded within the last three schedule intervals.
  awk -v age="$gold_age" 'BEGIN { exit !(age >= 0 && age < 180) }' || { echo "  gold last succeeded ${gold_age}s ago" >&2; return 1; }
}

# The alert rules in a real Prometheus (ci/cluster/prometheus.sh): with the pipeline CronJob
# suspended, LakehousePipelineStale fires once no stage succeeded for twice the schedule's interval
# (and the rule's for: 1m); resumed, the next run's success resolves it.
source "$here/prometheus.sh"
sched_suspend_pipeline() { # true|false
  ks patch cronjob "$sched_release-pipeline" --type merge -p "{\"spec\":{\"suspend\":$1}}" >/dev/null
  echo "  pipeline CronJob suspend=$1 at $(now)"
}
sched_stale_fires() {
  sched_suspend_pipeline true
  prom_wait 600 prom_alert_is LakehousePipelineStale firing
}
sched_stale_resolves() {
  sched_suspend_pipeline false
  prom_wait 420 prom_alert_is LakehousePipelineStale inactive
}

sched_teardown() {
  prom_stop
  helm uninstall "$sched_release" -n "$sched_ns" --wait --timeout 5m
  namespace_gone "$sched_ns"
}

# scenario-soak.sh takes only the functions.
[[ ${1:-} == --functions-only ]] && return 0

step "schedule: namespace $sched_ns enforcing restricted" restricted_namespace "$sched_ns"
step "schedule: a pod breaking restricted is refused" restricted_refused "$sched_ns"
step "schedule: helm install (one-minute schedule, continuous producer, metrics)" sched_install
step "schedule: gold and Kafka at install" record_install_state
step "schedule: two scheduled runs succeed" wait_for_scheduled_runs 2 "$sched_t0" 420
step "schedule: gold counts events produced after the install" gold_grew
step "schedule: helm test during a scheduled run" helm_test_during_run
step "schedule: helm upgrade during a scheduled run" upgrade_during_run
step "schedule: a scheduled run succeeds after the upgrade" wait_for_scheduled_runs 1 "$sched_t1" 300
step "schedule: bronze lost nothing across the upgrade" nothing_lost_after_upgrade
step "schedule: helm test after the upgrade" helm test "$sched_release" -n "$sched_ns" --logs --timeout 10m
step "schedule: /metrics from inside the cluster shows freshness" metrics_show_freshness
step "schedule: prometheus available" bash "$repo/ci/tools/install.sh" prometheus
step "schedule: a real Prometheus scrapes the exporter as the ServiceMonitor says, the chart's rules loaded" prom_start "$sched_ns" "$sched_release" "${sched_values[@]}"
step "schedule: suspending the pipeline CronJob fires LakehousePipelineStale" sched_stale_fires
step "schedule: resuming it resolves LakehousePipelineStale" sched_stale_resolves
step "schedule: uninstall and delete the namespace" sched_teardown
