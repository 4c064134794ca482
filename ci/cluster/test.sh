#!/usr/bin/env bash
# npm run test:cluster [-- scenario...]: brings the cluster up once, runs the scenarios named
# (none: default, schedule, netpol, prod and objectstore; spark and soak only when named), printing each step with
# its duration and a final "cluster: N passed, N failed" line; the cluster is always torn down at
# the end. Every scenario installs into a namespace of its own that enforces the restricted Pod
# Security Standard (proven by a pod that breaks it being refused) and is deleted at its end.
#   default   the chart's own defaults (Kafka over TLS with SCRAM users and ACLs) in namespace
#             lakehouse-default: the chart packaged with provenance, pushed to the registry and
#             installed from it as oci://, its signature verified / hook order / helm test / NOTES.txt status / Kafka
#             refusing PLAINTEXT, a wrong password and reads without an ACL / helm upgrade keeping
#             Kafka's generated certificates and passwords (and the explorer enabled, its page opened
#             through its Service) / helm rollback / helm uninstall
#   schedule  a one-minute pipeline schedule, the continuous producer and the metrics exporter
#             (scenario-schedule.sh)
#   netpol    the chart's NetworkPolicies enforced (kube-router): TCP probes from pods with and
#             without the release's labels, with and without networkPolicy.egress (scenario-netpol.sh)
#   prod      the prod environment (values-prod.yaml: 3 KRaft nodes, replication 3,
#             min.insync.replicas 2) with Kafka and Job pods killed mid-run (scenario-prod.sh)
#   objectstore  the lake in the embedded object store's REST catalog: install, helm test, the store
#             killed mid-bronze, an upgrade to engine=spark with 2 executors, no claim but the
#             store's (scenario-objectstore.sh); it covers the spark scenario's claims on the catalog lake
#   spark     engine=spark with 2 executors on the lake volume (scenario-spark.sh)
#   soak      ten minutes of the schedule with and without maintenance, sampled every 30 s
#             (scenario-soak.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/env.sh"
# One cluster per machine (fixed paths, one bridge, one registry port): a second run waits for the first.
exec 9>"${LAKEHOUSE_CLUSTER_LOCK:-/tmp/lakehouse-cluster.lock}"
flock 9 || { echo "test.sh: could not lock ${LAKEHOUSE_CLUSTER_LOCK:-/tmp/lakehouse-cluster.lock}" >&2; exit 1; }
release=lakehouse
scenarios=("$@")
((${#scenarios[@]} > 0)) || scenarios=(default schedule netpol prod objectstore)
for scenario in "${scenarios[@]}"; do
  case $scenario in default | schedule | netpol | prod | objectstore | spark | soak) ;; *) echo "test.sh: unknown scenario \"$scenario\" (default, schedule, netpol, prod, objectstore, spark, soak)" >&2; exit 2 ;; esac
done
# A values change for the upgrade that makes every stage run again with different input.
upgrade_set=${LAKEHOUSE_UPGRADE_SET:-producer.events=45}

passed=0 failed=0 results=()
step() { # name command... : runs one step, records and prints its outcome and duration
  local name=$1; shift
  local started=$SECONDS status=0
  echo "=== step: $name"
  "$@" || status=$?
  local took=$((SECONDS - started))
  if ((status == 0)); then
    passed=$((passed + 1)); results+=("ok    ${took}s  $name")
  else
    failed=$((failed + 1)); results+=("FAIL  ${took}s  $name (exit $status)")
  fi
  echo "=== step: $name: $( ((status == 0)) && echo ok || echo "FAILED (exit $status)" ) in ${took}s"
  if ((status != 0)) && [[ -n ${LAKEHOUSE_CLUSTER_HOLD_ON_FAIL:-} ]]; then
    # For debugging by hand: the cluster stays up until the file is removed.
    touch "$LAKEHOUSE_CLUSTER_HOLD_ON_FAIL"
    echo "  holding the cluster up until $LAKEHOUSE_CLUSTER_HOLD_ON_FAIL is removed"
    while [[ -e $LAKEHOUSE_CLUSTER_HOLD_ON_FAIL ]]; do sleep 5; done
  fi
  return "$status"
}
finish() {
  local status=$?
  step "cluster down" bash "$here/down.sh" || true
  [[ -z ${chart_keys:-} ]] || rm -rf "$chart_keys"
  echo
  echo "cluster test summary:"
  printf '  %s\n' "${results[@]}"
  echo "cluster: $passed passed, $failed failed"
  ((failed == 0 && status == 0)) || exit 1
}
trap finish EXIT

helm() { "$HELM_BIN/helm" "$@"; }
kubectl() { "$KUBERNETES_BIN/kubectl" "$@"; }

install_helm() { [[ -x $HELM_BIN/helm ]] || bash "$repo/ci/tools/install.sh"; }

# Every scenario works in a namespace of its own ($ns, set by the scenario) that enforces the
# restricted Pod Security Standard; the helpers below act in $ns on release $release.
restricted_namespace() { # namespace : creates it with restricted enforced (and warned and audited)
  kubectl create namespace "$1" >/dev/null
  kubectl label namespace "$1" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest \
    pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/audit=restricted >/dev/null
  kubectl get namespace "$1" -o jsonpath='  namespace {.metadata.name}: {.metadata.labels}{"\n"}'
}

restricted_refused() { # namespace : a pod that breaks restricted (root, privileged) is refused by the API server
  local out
  if out=$(kubectl -n "$1" run pss-breaker --image=node:22-bookworm-slim --restart=Never --override-type=strategic \
    --overrides='{"apiVersion":"v1","spec":{"containers":[{"name":"pss-breaker","securityContext":{"runAsUser":0,"privileged":true}}]}}' \
    --command -- true 2>&1); then
    echo "  the API server admitted a privileged root pod in $1: $out" >&2
    kubectl -n "$1" delete pod pss-breaker --wait=false >/dev/null
    return 1
  fi
  echo "  refused: $out"
  grep -q 'violates PodSecurity "restricted' <<<"$out"
}

namespace_gone() { # namespace : deletes it (and everything in it) and waits until it is gone
  kubectl delete namespace "$1" --wait --timeout=5m >/dev/null
  [[ -z $(kubectl get namespace "$1" --ignore-not-found -o name) ]]
}

# Hook Jobs of the release in hook-weight order: "<weight> <name> <start> <completion> <succeeded>"
hook_jobs() {
  kubectl -n "$ns" get jobs -l "app.kubernetes.io/instance=$release" -o go-template='{{range .items}}{{with index .metadata.annotations "helm.sh/hook-weight"}}{{.}}{{else}}0{{end}} {{.metadata.name}} {{.status.startTime}} {{or .status.completionTime "-"}} {{or .status.succeeded 0}}{{"\n"}}{{end}}' \
    | sort -n -k1,1 -k3,3
}

check_hooks_in_order() { # not-before-timestamp : every hook Job succeeded, started after the one before finished
  local not_before=$1 previous_end=$1 count=0 weight job start end succeeded
  while read -r weight job start end succeeded; do
    count=$((count + 1))
    echo "  hook job $job (weight $weight): started $start, completed $end"
    if [[ $end == - || $succeeded -lt 1 ]]; then echo "  $job did not complete" >&2; return 1; fi
    if [[ $start < $previous_end ]]; then
      echo "  $job started at $start, before the previous hook finished ($previous_end)" >&2; return 1
    fi
    previous_end=$end
  done < <(hook_jobs)
  ((count > 0)) || { echo "  no hook Jobs found for release $release" >&2; return 1; }
  [[ $previous_end > $not_before ]] || { echo "  hook Jobs are older than $not_before" >&2; return 1; }
}

lake_claim_kept() {
  local claims
  claims=$(kubectl -n "$ns" get pvc -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.annotations.helm\.sh/resource-policy}{"\n"}{end}')
  echo "  claims after uninstall: ${claims:-none}"
  grep -q ' keep$' <<<"$claims" || { echo "  the lake PersistentVolumeClaim (resource-policy keep) is gone" >&2; return 1; }
  [[ -z $(helm -n "$ns" list -q --filter "^$release\$") ]] || { echo "  release still listed" >&2; return 1; }
}

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# The `status` command NOTES.txt gives (a one-off kubectl run pod mounting the lake read-only), as
# printed, with its last word replaced by the lakehouse command given (status, tables, ...). Its
# output until it has a line matching the pattern, at most three tries: `kubectl run -i` loses what
# a quick pod printed before the attach (kubernetes/kubernetes#27264).
notes_command() { # lakehouse-command pattern
  local command output try
  command=$(helm -n "$ns" get notes "$release" | sed -n '/kubectl run .*-status /,/lakehouse.mjs status$/p')
  [[ -n $command ]] || { echo "  NOTES.txt gives no status command" >&2; return 1; }
  for try in 1 2 3; do
    output=$(eval "${command%status}$1") && grep -q -- "$2" <<<"$output" && { echo "$output"; return 0; }
    echo "  try $try of \`lakehouse.mjs $1\` as NOTES.txt gives it: no line matching \"$2\" in its output:" >&2
    sed 's/^/    /' <<<"$output" >&2
  done
  return 1
}

# The curation pod NOTES.txt gives (the lake writable, the pipeline's vehicle types and group), as
# printed: `replay --dry-run` in it says what the quarantine would give back, changing nothing.
curate_as_notes_say() {
  local command output try
  command=$(helm -n "$ns" get notes "$release" | sed -n '/kubectl run .*-curate /,/lakehouse.mjs replay --dry-run$/p')
  [[ -n $command ]] || { echo "  NOTES.txt gives no curation command" >&2; return 1; }
  for try in 1 2 3; do
    output=$(eval "$command") && grep -q -E '"msg":"(replay would move|the quarantine is empty: nothing to replay)"' <<<"$output" && {
      sed 's/^/  /' <<<"$output"
      return 0
    }
    echo "  try $try of \`replay --dry-run\` as NOTES.txt gives it: no dry-run line in its output:" >&2
    sed 's/^/    /' <<<"$output" >&2
  done
  return 1
}

status_as_notes_say() {
  local output
  output=$(notes_command status '^Bronze lag behind Kafka') || return 1
  sed 's/^/  /' <<<"$output"
}

# The Kafka Secrets the chart generates (cluster id, CA and node certificate, the users' passwords):
# one "<name> <key> <sha256 of the value>" line per key, so that no secret is printed.
kafka_secret_digests() {
  kubectl -n "$ns" get secrets -l "app.kubernetes.io/instance=$release,app.kubernetes.io/component=kafka" \
    -o go-template='{{range .items}}{{$name := .metadata.name}}{{range $key, $value := .data}}{{$name}} {{$key}} {{$value}}{{"\n"}}{{end}}{{end}}' \
    | while read -r name key value; do echo "$name $key $(sha256sum <<<"$value" | cut -c1-16)"; done | sort
}

kafka_secrets_recorded() {
  kafka_secrets_before=$(kafka_secret_digests)
  sed 's/^/  /' <<<"$kafka_secrets_before"
  for expected in kafka-cluster-id kafka-tls kafka-ca kafka-user-admin kafka-user-producer kafka-user-pipeline; do
    grep -q -- "-$expected " <<<"$kafka_secrets_before" || { echo "  no Secret *-$expected" >&2; return 1; }
  done
}

kafka_secrets_kept() {
  local after
  after=$(kafka_secret_digests)
  diff <(echo "$kafka_secrets_before") <(echo "$after") || { echo "  the upgrade changed Kafka's certificates or passwords" >&2; return 1; }
  echo "  $(wc -l <<<"$after") keys of Kafka's Secrets unchanged"
}

# Kafka's own tools inside a Kafka pod (small heaps beside the broker) try what the chart must refuse:
# a client without TLS, a wrong password, and the producer user reading the topic (no ACL allows it).
# The ACL case first shows the producer user signs in and sees its topic (it may describe it), so the
# refusal is the authorizer's, not a broken client.
KAFKA_PROBE=$(cat <<'PROBE'
set -uo pipefail
trap 'rm -f /tmp/probe-*.properties' EXIT
export KAFKA_HEAP_OPTS=-Xmx96m
bin=/opt/kafka/bin server=$KAFKA_SERVICE:9092
props() { # file protocol [user password]
  printf '%s\n' "security.protocol=$2" request.timeout.ms=5000 default.api.timeout.ms=15000 > "$1"
  if [[ $2 == SASL_SSL ]]; then
    printf '%s\n' sasl.mechanism=SCRAM-SHA-512 ssl.truststore.type=PEM ssl.truststore.location=/etc/kafka/tls/ca.crt \
      "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$3\" password=\"$4\";" >> "$1"
  fi
}
props /tmp/probe-plain.properties PLAINTEXT
props /tmp/probe-wrong.properties SASL_SSL "$LAKEHOUSE_KAFKA_PIPELINE_USER" not-the-password
props /tmp/probe-producer.properties SASL_SSL "$LAKEHOUSE_KAFKA_PRODUCER_USER" "$(cat /etc/kafka/users/producer/password)"
if out=$("$bin/kafka-topics.sh" --bootstrap-server "$server" --list --command-config /tmp/probe-plain.properties 2>&1); then
  echo "  a PLAINTEXT client was served: $out" >&2; exit 1
fi
echo "  PLAINTEXT client refused: $(grep -m1 -oE '[A-Za-z.]+(Exception|Error)[^(]*' <<<"$out" | cut -c1-160)"
out=$("$bin/kafka-topics.sh" --bootstrap-server "$server" --list --command-config /tmp/probe-wrong.properties 2>&1)
grep -q "SaslAuthenticationException\|Authentication failed" <<<"$out" || { echo "  a wrong password was not refused: $out" >&2; exit 1; }
echo "  wrong password refused: $(grep -m1 -o "Authentication failed[^.]*" <<<"$out")"
out=$("$bin/kafka-topics.sh" --bootstrap-server "$server" --list --command-config /tmp/probe-producer.properties 2>&1)
grep -qx "$TOPIC" <<<"$out" || { echo "  the producer user does not see the topic it may write: $out" >&2; exit 1; }
echo "  producer user signs in and sees only its topic: $(tr '\n' ' ' <<<"$out")"
out=$("$bin/kafka-console-consumer.sh" --bootstrap-server "$server" --topic "$TOPIC" --partition 0 --offset earliest --max-messages 1 \
  --timeout-ms 20000 --consumer.config /tmp/probe-producer.properties 2>&1)
grep -q "AuthorizationException\|Not authorized" <<<"$out" || { echo "  the producer user read the topic: $out" >&2; exit 1; }
echo "  producer user may not read it: $(grep -m1 -o "[A-Za-z]*AuthorizationException[^,]*" <<<"$out")"
PROBE
)

# A Kafka tool run inside a Kafka pod as the chart's admin user, on the pod's own advertised name
# (which its certificate covers), over TLS with SCRAM when the chart's Kafka is secure. A PLAINTEXT
# client on a TLS listener reads the TLS bytes as a length and dies of OutOfMemoryError.
KAFKA_ADMIN_TOOL=$(cat <<'TOOL'
set -uo pipefail
tool=$1; shift
server=${KAFKA_ADVERTISED_LISTENERS#*://}; server=${server%%,*}
config=$(mktemp /tmp/admin-XXXXXX.properties)
trap 'rm -f "$config"' EXIT
case $KAFKA_LISTENER_SECURITY_PROTOCOL_MAP in
  *CLIENT:SASL_SSL*)
    printf '%s\n' security.protocol=SASL_SSL "sasl.mechanism=$KAFKA_SASL_ENABLED_MECHANISMS" ssl.truststore.type=PEM \
      ssl.truststore.location=/etc/kafka/tls/ca.crt \
      "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$LAKEHOUSE_KAFKA_ADMIN_USER\" password=\"$(cat /etc/kafka/users/admin/password)\";" > "$config" ;;
  *CLIENT:SSL*) printf '%s\n' security.protocol=SSL ssl.truststore.type=PEM ssl.truststore.location=/etc/kafka/tls/ca.crt > "$config" ;;
esac
KAFKA_HEAP_OPTS=-Xmx256M "/opt/kafka/bin/$tool" --bootstrap-server "$server" --command-config "$config" "$@"
TOOL
)

kafka_admin_tool() { # namespace pod tool args...
  local namespace=$1 pod=$2; shift 2
  kubectl -n "$namespace" exec "$pod" -c kafka -- bash -c "$KAFKA_ADMIN_TOOL" kafka-admin-tool "$@"
}

kafka_refuses_unauthorised() {
  kubectl -n "$ns" exec "$release-kafka-0" -c kafka -- env KAFKA_SERVICE="$release-kafka" TOPIC=vehicles-events bash -c "$KAFKA_PROBE"
}

# The chart as users get it: packaged with provenance (a key made here), pushed to the cluster's
# OCI registry, and installed from there with its signature verified.
chart_keys=$(mktemp -d)
chart_version=$(sed -n 's/^version: //p' "$repo/chart/Chart.yaml")
chart_ref=oci://$REGISTRY/charts/lakehouse
publish_chart() {
  GNUPGHOME=$chart_keys gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'lakehouse cluster test <cluster-test@example.com>' rsa2048 sign 1d
  GNUPGHOME=$chart_keys gpg --batch --quiet --pinentry-mode loopback --passphrase '' --export-secret-keys >"$chart_keys/secring.gpg"
  GNUPGHOME=$chart_keys gpg --batch --quiet --export >"$chart_keys/pubring.gpg"
  GNUPGHOME=$chart_keys gpgconf --kill gpg-agent
  HELM="$HELM_BIN/helm" bash "$repo/ci/chart/publish.sh" --out "$chart_keys/dist" --key 'lakehouse cluster test' \
    --keyring "$chart_keys/secring.gpg" --push "oci://$REGISTRY/charts" --plain-http
}
from_registry=(--version "$chart_version" --plain-http --verify --keyring "$chart_keys/pubring.gpg")

# The explorer (explorer.enabled) opened through its Service from a pod of the release, under the
# namespace's restricted standard: ci/cluster/explorer-probe.mjs checks the page, its CSP, the
# tables and gold as JSON, and that a POST is refused.
explorer_through_service() {
  local pod=explorer-probe
  kubectl -n "$ns" delete pod "$pod" --ignore-not-found --wait >/dev/null
  kubectl -n "$ns" run "$pod" --image=node:22-bookworm-slim --restart=Never \
    --labels="app.kubernetes.io/name=lakehouse,app.kubernetes.io/instance=$release" \
    --env="EXPLORER_URL=http://$release-explorer:8080" \
    --override-type=strategic \
    --overrides="$(printf '{"apiVersion":"v1","spec":{"automountServiceAccountToken":false,"securityContext":{"runAsNonRoot":true,"runAsUser":10001,"runAsGroup":10001,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"%s","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}' "$pod")" \
    --command -- node --input-type=module -e "$(cat "$here/explorer-probe.mjs")" >/dev/null
  if ! kubectl -n "$ns" wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$pod" --timeout=300s >/dev/null; then
    kubectl -n "$ns" describe pod "$pod" >&2 || true
    kubectl -n "$ns" logs "$pod" >&2 || true
    kubectl -n "$ns" logs "deploy/$release-explorer" --tail=50 >&2 || true
    return 1
  fi
  kubectl -n "$ns" logs "$pod" | sed 's/^/  /'
  kubectl -n "$ns" delete pod "$pod" --wait=false >/dev/null
}

scenario_default() {
  local install_started t0 t1
  step "chart $chart_version packaged with provenance and pushed to $chart_ref" publish_chart
  ns=${LAKEHOUSE_DEFAULT_NAMESPACE:-lakehouse-default}
  step "default: namespace $ns enforcing restricted" restricted_namespace "$ns"
  step "default: a pod breaking restricted is refused" restricted_refused "$ns"
  install_started=$SECONDS
  t0=$(now)
  step "helm install from $chart_ref, verified" helm install "$release" "$chart_ref" "${from_registry[@]}" -n "$ns" --wait --timeout 20m
  step "hook jobs completed in order" check_hooks_in_order "$t0"
  step "helm test" helm test "$release" -n "$ns" --logs --timeout 10m
  echo "=== helm install to helm test passing: $((SECONDS - install_started))s"
  step "status as NOTES.txt says" status_as_notes_say
  step "Kafka refuses PLAINTEXT, a wrong password and reads without an ACL" kafka_refuses_unauthorised
  step "Kafka's generated certificates and passwords recorded" kafka_secrets_recorded
  t1=$(now)
  sleep 1
  step "helm upgrade ($upgrade_set, explorer.enabled=true)" helm upgrade "$release" "$chart_ref" "${from_registry[@]}" -n "$ns" --set "$upgrade_set" --set explorer.enabled=true --wait --timeout 20m
  step "upgrade kept Kafka's certificates and passwords" kafka_secrets_kept
  step "hook jobs re-ran in order after upgrade" check_hooks_in_order "$t1"
  step "helm test after upgrade" helm test "$release" -n "$ns" --logs --timeout 10m
  step "the explorer page through its Service" explorer_through_service
  step "replay --dry-run in the curation pod NOTES.txt gives" curate_as_notes_say
  step "helm rollback" helm rollback "$release" 1 -n "$ns" --wait --timeout 20m
  step "helm uninstall" helm uninstall "$release" -n "$ns" --wait --timeout 5m
  step "lake volume kept" lake_claim_kept
  step "default: delete the namespace" namespace_gone "$ns"
}

# The cluster's daemons must not inherit the lock (fd 9): it is released when this script ends.
cluster_up() { bash "$here/up.sh" 9>&-; }
step "cluster up" cluster_up
step "helm available" install_helm
for scenario in "${scenarios[@]}"; do
  echo "=== scenario: $scenario"
  scenario_started=$SECONDS
  case $scenario in
    default) scenario_default ;;
    schedule) source "$here/scenario-schedule.sh" ;;
    netpol) source "$here/scenario-netpol.sh" ;;
    prod) source "$here/scenario-prod.sh" ;;
    objectstore) source "$here/scenario-objectstore.sh" ;;
    spark) source "$here/scenario-spark.sh" ;;
    soak) source "$here/scenario-soak.sh" ;;
  esac
  results+=("--    $((SECONDS - scenario_started))s  scenario $scenario")
  echo "=== scenario: $scenario took $((SECONDS - scenario_started))s"
done
