#!/usr/bin/env bash
# npm run test:cluster [-- scenario...]: brings the cluster up once, runs the scenarios named
# (none: default, schedule, prod, and spark when scenario-spark.sh exists; soak only when named),
# printing each step with its duration and a final "cluster: N passed, N failed" line; the cluster
# is always torn down at the end. Every scenario installs into a namespace of its own that enforces
# the restricted Pod Security Standard (proven by a pod that breaks it being refused) and is
# deleted at the end of the scenario.
#   default   the chart's own defaults in namespace lakehouse-default: helm install / hook order /
#             helm test / NOTES.txt status / helm upgrade / helm rollback / helm uninstall
#   schedule  a one-minute pipeline schedule, the continuous producer and the metrics exporter
#             (scenario-schedule.sh)
#   prod      the prod environment (values-prod.yaml: 3 KRaft nodes, replication 3,
#             min.insync.replicas 2) with Kafka and Job pods killed mid-run (scenario-prod.sh)
#   spark     the Spark engine (scenario-spark.sh, when present)
#   soak      ten minutes of the schedule with and without maintenance, sampled every 30 s
#             (scenario-soak.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/env.sh"
release=lakehouse
scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
  scenarios=(default schedule prod)
  [[ -f $here/scenario-spark.sh ]] && scenarios+=(spark)
fi
for scenario in "${scenarios[@]}"; do
  case $scenario in
    default | schedule | prod | soak) ;;
    spark) [[ -f $here/scenario-spark.sh ]] || { echo "test.sh: scenario \"spark\" needs $here/scenario-spark.sh" >&2; exit 2; } ;;
    *) echo "test.sh: unknown scenario \"$scenario\" (default, schedule, prod, spark, soak)" >&2; exit 2 ;;
  esac
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
  return "$status"
}
finish() {
  local status=$?
  step "cluster down" bash "$here/down.sh" || true
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

status_as_notes_say() {
  local output
  output=$(notes_command status '^Bronze lag behind Kafka') || return 1
  sed 's/^/  /' <<<"$output"
}

scenario_default() {
  local install_started t0 t1
  ns=${LAKEHOUSE_DEFAULT_NAMESPACE:-lakehouse-default}
  step "default: namespace $ns enforcing restricted" restricted_namespace "$ns"
  step "default: a pod breaking restricted is refused" restricted_refused "$ns"
  install_started=$SECONDS
  t0=$(now)
  step "helm install" helm install "$release" "$repo/chart" -n "$ns" --wait --timeout 20m
  step "hook jobs completed in order" check_hooks_in_order "$t0"
  step "helm test" helm test "$release" -n "$ns" --logs --timeout 10m
  echo "=== helm install to helm test passing: $((SECONDS - install_started))s"
  step "status as NOTES.txt says" status_as_notes_say
  t1=$(now)
  sleep 1
  step "helm upgrade ($upgrade_set)" helm upgrade "$release" "$repo/chart" -n "$ns" --set "$upgrade_set" --wait --timeout 20m
  step "hook jobs re-ran in order after upgrade" check_hooks_in_order "$t1"
  step "helm test after upgrade" helm test "$release" -n "$ns" --logs --timeout 10m
  step "helm rollback" helm rollback "$release" 1 -n "$ns" --wait --timeout 20m
  step "helm uninstall" helm uninstall "$release" -n "$ns" --wait --timeout 5m
  step "lake volume kept" lake_claim_kept
  step "default: delete the namespace" namespace_gone "$ns"
}

step "cluster up" bash "$here/up.sh"
step "helm available" install_helm
for scenario in "${scenarios[@]}"; do
  echo "=== scenario: $scenario"
  scenario_started=$SECONDS
  case $scenario in
    default) scenario_default ;;
    schedule) source "$here/scenario-schedule.sh" ;;
    prod) source "$here/scenario-prod.sh" ;;
    spark) source "$here/scenario-spark.sh" ;;
    soak) source "$here/scenario-soak.sh" ;;
  esac
  results+=("--    $((SECONDS - scenario_started))s  scenario $scenario")
  echo "=== scenario: $scenario took $((SECONDS - scenario_started))s"
done
