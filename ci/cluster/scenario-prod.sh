# The "prod" scenario of test.sh (sourced; uses its step, helm, kubectl, now and namespace helpers):
# the prod environment's values (chart/values-prod.yaml: 3 KRaft nodes, replication 3,
# min.insync.replicas 2, producer acks=all, 10^5 events a run) on the one-node cluster, relaxing only
# what one node forces:
#   - kafka.podAntiAffinity=soft: "hard" (required) could place one Kafka pod only on one node;
#   - kafka.resources.requests.cpu=250m: three times prod's 1 CPU does not fit a 2-core node
#     (memory requests, every limit and the 2g heap stay as prod has them).
# Three rounds of the pipeline as the chart's own hook Jobs (install, then two upgrades with the same
# values: each runs topics -> producer -> bronze -> silver -> gold again, 10^5 more events), with
# faults injected from here while they run, each triggered by the stage's own log line so it lands
# mid-run:
#   1 (install)  the active KRaft controller's Kafka container SIGKILLed while the producer sends;
#                the bronze Job's container SIGKILLed after "bronze plan"; the silver Job's after
#                "silver plan" (the Jobs' backoffLimit makes Kubernetes retry each)
#   2 (upgrade)  the active controller's pod force-deleted (--grace-period=0 --force) while the
#                producer sends
#   3 (upgrade)  the active controller's Kafka container SIGKILLed while bronze reads
#   4 (upgrade)  producer.mode=continuous: the active controller's Kafka container SIGKILLed while
#                the producer Deployment streams; stopped by scaling it to 0, its acknowledged
#                events are exactly what the topic gained
# After each round: the hooks succeeded in order, each fault landed between the stage's start and
# end lines (a killed Job pod: its log has the start line and no end line), the quorum is whole
# (3 pods Ready, 3 voters caught up, no under-replicated partitions), helm test passes, and bronze
# holds every acknowledged record exactly once: its rows = the producers' acknowledged sends = the
# topic's end offsets. Containers are killed through containerd (SIGKILL, as a crash or the OOM
# killer would) rather than by deleting the pod, so the killed pod and its log stay to prove where
# the fault landed.
# shellcheck shell=bash
prod_ns=${LAKEHOUSE_PROD_NAMESPACE:-lakehouse-prod}
prod_values=(
  -f "$repo/chart/values-prod.yaml"
  --set kafka.podAntiAffinity=soft
  --set kafka.resources.requests.cpu=250m
)
prod_events=$(awk '/^producer:/ { p = 1 } p && $1 == "events:" { print $2; exit }' "$repo/chart/values-prod.yaml")
prod_faults=$(mktemp)
prod_records=0 # the topic's records after the last round
ns=$prod_ns

kp() { kubectl -n "$prod_ns" "$@"; }
now_ms() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
# A Kafka command-line tool in a Kafka pod, with a tool's heap rather than the broker's 2g.
kafka_tool() { # pod tool args...
  local pod=$1 tool=$2; shift 2
  kafka_admin_tool "$prod_ns" "$pod" "$tool" "$@"
}
ready_kafka_pod() {
  kp get pods -l app.kubernetes.io/component=kafka \
    -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | awk '$2 == "True" { print $1; exit }'
}

# The node id of the active KRaft controller (the quorum's leader), retried while Kafka starts.
quorum_leader() {
  local deadline=$((SECONDS + 600)) pod leader
  while :; do
    pod=$(ready_kafka_pod)
    if [[ -n $pod ]]; then
      leader=$(kafka_tool "$pod" kafka-metadata-quorum.sh describe --status 2>/dev/null | awk '$1 == "LeaderId:" { print $2 }')
      [[ $leader =~ ^[0-9]+$ ]] && { echo "$leader"; return 0; }
    fi
    ((SECONDS < deadline)) || { echo "  no quorum leader within 600s" >&2; return 1; }
    sleep 2
  done
}

# "<pod> <container id>" of the first running pod of a hook Job's component once its log has the
# line `msg`. The log is
# followed on the node (the kubelet's podLogsDir), not polled through the API: a 10^5-event silver
# runs from its plan to its end in a second or two.
wait_stage_line() { # component msg seconds
  local deadline=$((SECONDS + $3)) pod uid id file fd tail_pid found=1
  while :; do
    pod=$(kp get pods -l "app.kubernetes.io/instance=$release,app.kubernetes.io/component=$1" \
      --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name} {.items[0].metadata.uid}' 2>/dev/null || true)
    [[ -n ${pod% } ]] && break
    ((SECONDS < deadline)) || { echo "  no running $1 pod within $3s" >&2; return 1; }
    sleep 0.2
  done
  read -r pod uid <<<"$pod"
  id=$(container_id "$pod" "$(stage_container "$1")") || return 1
  file=$STATE_DIR/pod-logs/${prod_ns}_${pod}_${uid}/$(stage_container "$1")/0.log
  exec {fd}< <(exec timeout "$((deadline - SECONDS + 1))" tail -n +1 -F "$file" 2>/dev/null)
  tail_pid=$!
  grep -m1 -qF -- "\"msg\":\"$2\"" <&"$fd" && found=0
  kill "$tail_pid" 2>/dev/null
  exec {fd}<&-
  ((found == 0)) || { echo "  $pod did not log \"$2\" within $3s" >&2; return 1; }
  echo "$pod $id"
}
stage_container() { case $1 in producer) echo produce ;; *) echo "$1" ;; esac; }

container_id() { # pod container
  local id
  id=$(kp get pod "$1" -o jsonpath="{.status.containerStatuses[?(@.name==\"$2\")].containerID}")
  [[ -n $id ]] || { echo "  $1 has no running container $2" >&2; return 1; }
  echo "${id#containerd://}"
}
kill_task() { ctr --address "$RUN_DIR/containerd.sock" --namespace k8s.io tasks kill --signal SIGKILL "$1"; } # as a crash would
kafka_container_killed() { kill_task "$kafka_target_id"; }
kafka_pod_force_deleted() { kp delete pod "$1" --grace-period=0 --force 2>&1 | grep -v '^Warning: Immediate deletion' >&2 || true; }

# Stage start and end lines: a fault between them landed mid-run.
stage_start() { case $1 in producer) echo "kafka is reachable" ;; *) echo "$1 plan" ;; esac; }
stage_end() { case $1 in producer) echo "events sent" ;; *) echo "$1 done" ;; esac; }

kafka_pod_state() { kp get pod "$1" -o jsonpath='{.metadata.uid}/{.status.containerStatuses[0].restartCount}'; }

kafka_fault_during() { # stage action : the active controller's Kafka pod hit by action while the stage runs
  local stage=$1 action=$2 leader target pod at before
  leader=$(quorum_leader) || return 1
  target=$release-kafka-$leader
  kafka_target_id=$(container_id "$target" kafka) || return 1
  before=$(kafka_pod_state "$target")
  pod=$(wait_stage_line "$stage" "$(stage_start "$stage")" 900) || return 1
  at=$(now_ms)
  pod=${pod%% *}
  "$action" "$target" || return 1
  echo "  $at: $action $target (the active controller, node $leader) while $pod runs"
  echo "kafka $stage $at $target $before $pod" >> "$prod_faults"
}

job_pod_killed_during() { # stage : the stage's Job container SIGKILLed once it logged its plan
  local stage=$1 pod at
  pod=$(wait_stage_line "$stage" "$(stage_start "$stage")" 900) || return 1
  at=$(now_ms)
  kill_task "${pod#* }" || return 1
  pod=${pod%% *}
  echo "  $at: SIGKILLed the $stage container of $pod after \"$(stage_start "$stage")\""
  echo "job $stage $at $pod - $pod" >> "$prod_faults"
}

fault_controller_killed_mid_produce() { kafka_fault_during producer kafka_container_killed; }
fault_controller_deleted_mid_produce() { kafka_fault_during producer kafka_pod_force_deleted; }
fault_controller_killed_mid_bronze() { kafka_fault_during bronze kafka_container_killed; }
fault_bronze_killed() { job_pod_killed_during bronze; }
fault_silver_killed() { job_pod_killed_during silver; }

# helm install/upgrade runs the hook Jobs in the background while the faults are injected.
prod_round() { # install|upgrade fault...
  local verb=$1 helm_log pid status=0 fault; shift
  helm_log=$(mktemp)
  : > "$prod_faults"
  prod_round_started=$(now)
  sleep 1
  helm "$verb" "$release" "$repo/chart" -n "$prod_ns" "${prod_values[@]}" --wait --timeout 20m > "$helm_log" 2>&1 &
  pid=$!
  for fault in "$@"; do "$fault" || { status=1; break; }; done
  ((status == 0)) || kill "$pid" 2>/dev/null
  wait "$pid" || { echo "  helm $verb failed:" >&2; sed 's/^/  /' "$helm_log" >&2; status=1; }
  rm -f "$helm_log"
  if ((status != 0)); then kp get pods,jobs -o wide >&2 || true; fi
  return "$status"
}

log_time() { # pod msg : time of the first line with msg in the pod's log
  kp logs "$1" 2>/dev/null | grep -F "\"msg\":\"$2\"" | head -1 | sed -E 's/.*"time":"([^"]+)".*/\1/'
}

# Pods of this round's hook Job of a stage (a Job recreated by the upgrade has the same name, not the same uid).
job_pods() { # stage [field-selector]
  local uid
  uid=$(kp get job "$release-$1" -o jsonpath='{.metadata.uid}') || return 1
  kp get pods -l "batch.kubernetes.io/controller-uid=$uid" ${2:+--field-selector="$2"} \
    -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}'
}
succeeded_pod() { job_pods "$1" status.phase=Succeeded | awk 'NR == 1 { print $1 }'; }

# Each fault of the round landed mid-run (after the stage's start line in the pod it hit, before its
# end line if it has one), and Kubernetes restarted the Kafka pod or retried the Job pod it hit.
faults_landed() {
  local kind stage at target before pod start end after retry status=0
  [[ -s $prod_faults ]] || { echo "  no faults recorded" >&2; return 1; }
  while read -r kind stage at target before pod; do
    start=$(log_time "$pod" "$(stage_start "$stage")") end=$(log_time "$pod" "$(stage_end "$stage")")
    echo "  $at: $kind fault on $target; $stage pod $pod ($(kp get pod "$pod" -o jsonpath='{.status.phase}')): \"$(stage_start "$stage")\" at ${start:-never}, \"$(stage_end "$stage")\" at ${end:-never}"
    if [[ -z $start || ! $start < $at || ( -n $end && ! $at < $end ) ]]; then
      echo "  the fault did not land while $stage ran in $pod" >&2; status=1
    fi
    if [[ $kind == kafka ]]; then
      after=$(kafka_pod_state "$target")
      echo "  $target uid/restarts: before ${before}, now $after"
      [[ $after != "$before" ]] || { echo "  $target was neither restarted nor replaced" >&2; status=1; }
    else
      retry=$(succeeded_pod "$stage")
      [[ -z $end && -n $retry && $retry != "$pod" ]] || { echo "  the $stage pod was not killed mid-run or not retried" >&2; status=1; }
      echo "  retried by $retry:"
      kp logs "$retry" | grep -F -e "\"msg\":\"$(stage_start "$stage")\"" -e "\"msg\":\"$(stage_end "$stage")\"" | cut -c1-400 | sed 's/^/    /'
    fi
  done < "$prod_faults"
  return "$status"
}

# 3 Kafka pods Ready, 3 voters caught up (lag 0), no under-replicated partitions; retried for 5 min.
quorum_whole() {
  local deadline=$((SECONDS + 300)) pod replication voters urp
  kp wait --for=condition=Ready pod -l app.kubernetes.io/component=kafka --timeout=300s >/dev/null || return 1
  while :; do
    pod=$(ready_kafka_pod)
    replication=$(kafka_tool "$pod" kafka-metadata-quorum.sh describe --replication 2>/dev/null || true)
    voters=$(awk 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "Lag") l = i; if ($i == "Status") s = i } next }
      ($s == "Leader" || $s == "Follower") && $l == 0 { n++ } END { print n + 0 }' <<<"$replication")
    urp=$(kafka_tool "$pod" kafka-topics.sh --describe --under-replicated-partitions 2>&1 || echo "kafka-topics failed")
    if [[ $voters == 3 && -z $urp ]]; then
      kp get pods -l app.kubernetes.io/component=kafka -o wide | sed 's/^/  /'
      kafka_tool "$pod" kafka-metadata-quorum.sh describe --status 2>/dev/null | grep -E 'LeaderId|LeaderEpoch|HighWatermark|CurrentVoters' | sed 's/^/  /'
      sed 's/^/  /' <<<"$replication"
      echo "  under-replicated partitions: none"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      echo "  voters caught up: $voters of 3; under-replicated partitions:" >&2
      sed 's/^/  /' <<<"$replication$urp" >&2
      return 1
    fi
    sleep 5
  done
}

topic_records() { # sum of the topic's end offsets
  kafka_tool "$(ready_kafka_pod)" kafka-get-offsets.sh --topic vehicles-events --time -1 2>/dev/null | awk -F: '{ s += $3 } END { print s + 0 }'
}

# The round's producer: what its pods acknowledged (a failed one logs its count; one that did not is
# a failure) is what was asked and what the topic gained in the round (nothing lost, nothing twice).
producer_acknowledged_all() {
  local pod phase line sent acked=0 records gained status=0
  while read -r pod phase; do
    line=$(kp logs "$pod" | grep -F '"msg":"events sent"')
    if [[ $phase == Succeeded ]]; then
      sent=$(sed -E 's/.*"sent":([0-9]+).*/\1/' <<<"$line")
      acked=$((acked + ${sent:-0}))
      echo "  $pod (Succeeded): $(cut -c1-300 <<<"$line")"
    else
      # A failed producer logs what it had acknowledged; its Job's retry sends every event again.
      line=$(kp logs "$pod" | grep -F '"msg":"stopped before every event was acknowledged"')
      sent=$(sed -nE 's/.*"acknowledged":([0-9]+).*/\1/p' <<<"$line")
      if [[ -n $sent ]]; then
        acked=$((acked + sent))
        echo "  $pod ($phase): acknowledged $sent before it failed: $(kp logs "$pod" | grep -F '"msg":"failed"' | cut -c1-300)"
      else
        echo "  $pod ($phase): what it had acknowledged is unknown; its last lines:" >&2
        kp logs "$pod" | tail -3 | cut -c1-400 | sed 's/^/    /' >&2
        status=1
      fi
    fi
  done < <(job_pods producer)
  records=$(topic_records)
  gained=$((records - prod_records))
  prod_records=$records
  echo "  acknowledged in this round: $acked (asked: $prod_events); the topic gained $gained records (now $records)"
  [[ $status == 0 && $acked == "$prod_events" && $gained == "$acked" ]]
}

# Bronze holds every record of the topic exactly once: its rows = the topic's end offsets (and helm
# test, before, checked it holds each offset once).
bronze_holds_the_topic() {
  local bronze
  bronze=$(notes_command tables 'bronze\.vehicles' | awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "rows") c = i } $1 == "bronze.vehicles" { print $c }')
  echo "  bronze.vehicles rows: $bronze; the topic's records (end offsets): $prod_records"
  [[ $bronze == "$prod_records" ]]
}

# The checks after a round; a failed check does not stop the later rounds (their faults and checks
# still run and count).
prod_checks() { # round
  step "prod $1: hook jobs succeeded in order" check_hooks_in_order "$prod_round_started" || true
  step "prod $1: every fault landed mid-run" faults_landed || true
  step "prod $1: quorum whole" quorum_whole || true
  step "prod $1: helm test" helm test "$release" -n "$prod_ns" --logs --timeout 10m || true
  step "prod $1: the producer's acknowledged sends are the topic's new records" producer_acknowledged_all || true
  step "prod $1: bronze holds every record of the topic exactly once" bronze_holds_the_topic || true
}

# Round 4: the continuous producer (producer.mode=continuous, a Deployment sending per partition
# through idempotent producers) streams while the active controller's Kafka container is SIGKILLed,
# then is stopped by scaling it to 0: the topic gained exactly the events its `finished` line says
# Kafka acknowledged, none lost and none twice, and it kept acknowledging after the kill.
prod_stream_values=(--set producer.mode=continuous --set producer.eventsPerSecond=200)
acknowledged_in() { sed -nE 's/.*"acknowledged":([0-9]+).*/\1/p' "$1" | tail -1; }
prod_stream_round() {
  local log follower leader target before at acked_at_kill acked unconfirmed records gained
  helm upgrade "$release" "$repo/chart" -n "$prod_ns" "${prod_values[@]}" "${prod_stream_values[@]}" --wait --timeout 20m >/dev/null || return 1
  log=$(mktemp)
  kp logs -f "deploy/$release-producer" -c produce >"$log" 2>&1 &
  follower=$!
  sleep 15
  leader=$(quorum_leader) || return 1
  target=$release-kafka-$leader
  kafka_target_id=$(container_id "$target" kafka) || return 1
  before=$(kafka_pod_state "$target")
  acked_at_kill=$(acknowledged_in "$log")
  at=$(now_ms)
  kafka_container_killed || return 1
  echo "  $at: SIGKILLed the Kafka container of $target (the active controller) while the producer streamed (acknowledged so far: ${acked_at_kill:-0})"
  sleep 45
  kp scale "deploy/$release-producer" --replicas 0 >/dev/null
  wait "$follower"
  grep -F '"msg":"finished"' "$log" | cut -c1-400 | sed 's/^/  /'
  acked=$(grep -F '"msg":"finished"' "$log" | sed -nE 's/.*"acknowledged":([0-9]+).*/\1/p')
  unconfirmed=$(grep -F '"msg":"finished"' "$log" | sed -nE 's/.*"unconfirmed":([0-9]+).*/\1/p')
  rm -f "$log"
  [[ -n $acked ]] || { echo "  the producer logged no finished line" >&2; return 1; }
  echo "  $target uid/restarts: before $before, now $(kafka_pod_state "$target")"
  [[ $(kafka_pod_state "$target") != "$before" ]] || { echo "  $target was not restarted" >&2; return 1; }
  quorum_whole >/dev/null || return 1
  records=$(topic_records)
  gained=$((records - prod_records))
  prod_records=$records
  echo "  acknowledged: $acked (${acked_at_kill:-0} at the kill); the topic gained $gained records"
  ((acked > ${acked_at_kill:-0})) || { echo "  the producer acknowledged nothing after the kill" >&2; return 1; }
  # Stopped with Kafka up, the send in flight is acknowledged before the producer ends.
  [[ $unconfirmed == 0 ]] || { echo "  $unconfirmed events were left unconfirmed at the stop" >&2; return 1; }
  [[ $gained == "$acked" ]]
}

prod_teardown() {
  helm uninstall "$release" -n "$prod_ns" --wait --timeout 5m
  namespace_gone "$prod_ns"
  rm -f "$prod_faults"
}

step "prod: namespace $prod_ns enforcing restricted" restricted_namespace "$prod_ns"
step "prod: a pod breaking restricted is refused" restricted_refused "$prod_ns"
step "prod round 1: helm install; controller container killed mid-produce, bronze and silver pods killed mid-stage" \
  prod_round install fault_controller_killed_mid_produce fault_bronze_killed fault_silver_killed
prod_checks "round 1"
step "prod round 2: helm upgrade; controller pod force-deleted mid-produce" prod_round upgrade fault_controller_deleted_mid_produce
prod_checks "round 2"
step "prod round 3: helm upgrade; controller container killed mid-bronze" prod_round upgrade fault_controller_killed_mid_bronze
prod_checks "round 3"
step "prod round 4: the continuous producer streams through a controller SIGKILL; the topic holds exactly what it acknowledged" prod_stream_round || true
step "prod: uninstall and delete the namespace" prod_teardown
