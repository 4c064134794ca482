# The "netpol" scenario of test.sh (sourced; uses its step, helm, kubectl and here): the chart's
# NetworkPolicies hold on a cluster that enforces them (kube-router's firewall, started by up.sh).
# In a namespace of its own that enforces the restricted Pod Security Standard, with three Kafka
# nodes and the topic replicated on all three, every claim is a real TCP connection attempt from a
# probe pod (ci/cluster/netpol-probe.mjs):
#   - a pod without the release's labels cannot connect to Kafka's client (9092) or controller
#     (9093) port, while it does connect to a plain listener pod (the probe works);
#   - a pod with the release's labels connects to both;
#   - with the Kafka policy deleted the unlabelled pod connects to both (the policy, not the probe
#     or the network, blocked it);
#   - the Kafka nodes reach each other: the quorum has three voters caught up, and the hook Jobs
#     write a topic with min.insync.replicas 2;
#   - after `helm upgrade --set networkPolicy.egress=true` (the hook Jobs run again, now limited to
#     DNS and Kafka) and a restart of every Kafka node (so no connection predates the egress rules),
#     the quorum forms again, `helm test` passes, and a pod with a job's labels resolves and
#     reaches Kafka's client port but neither the controller port nor the listener.
# shellcheck shell=bash
np_ns=${LAKEHOUSE_NETPOL_NAMESPACE:-lakehouse-netpol}
np_release=lakehouse
np_values=(--set kafka.replicas=3 --set topic.replicationFactor=3 --set topic.minInsyncReplicas=2)
kn() { kubectl -n "$np_ns" "$@"; }

np_kafka_client="$np_release-kafka.$np_ns.svc.$CLUSTER_DOMAIN:9092"
np_kafka_controller="$np_release-kafka-0.$np_release-kafka-headless.$np_ns.svc.$CLUSTER_DOMAIN:9093"
np_release_labels="app.kubernetes.io/name: lakehouse, app.kubernetes.io/instance: $np_release"
np_job_labels="$np_release_labels, app.kubernetes.io/component: pipeline"

# A pod meeting the restricted standard: name, labels (YAML flow map body), node program (ES module),
# env (YAML flow sequence body).
np_pod() {
  local name=$1 labels=$2 program=$3 env=$4
  kn delete pod "$name" --ignore-not-found --wait >/dev/null
  kn apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {$labels}}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: main
    image: node:22-bookworm-slim
    command: [node, --input-type=module, -e, $(node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0, "utf8")))' <<<"$program")]
    env: [$env]
    resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 128Mi}}
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
YAML
}

np_start_listener() {
  np_pod netpol-listener "netpol-probe: listener" \
    'import net from "node:net"; net.createServer((s) => { s.on("error", (e) => console.log(`client ${s.remoteAddress}: ${e.code}`)); s.end("hello\n"); }).listen(8080, () => console.log("listening on 8080"));' ""
  kn wait --for=condition=Ready pod/netpol-listener --timeout=120s >/dev/null || { kn describe pod netpol-listener >&2; return 1; }
  np_listener="$(kn get pod netpol-listener -o jsonpath='{.status.podIP}'):8080"
  echo "  plain listener (no policy selects it) at $np_listener"
}

# Why a probe could not reach the listener: is the pod still running, and does the node reach it?
np_listener_diagnosis() {
  echo "  the listener pod:"
  kn get pod netpol-listener -o wide 2>&1 | sed 's/^/    /'
  kn logs netpol-listener 2>&1 | sed 's/^/    log: /'
  echo "  from the node: $(node -e '
    const [host, port] = process.argv[1].split(":");
    const s = require("net").connect({ host, port: Number(port) });
    s.setTimeout(3000, () => { console.log("timeout"); process.exit(); });
    s.on("connect", () => { console.log("connected"); process.exit(); });
    s.on("error", (e) => { console.log(e.code); process.exit(); });' "$np_listener")"
  echo "  kube-router's last errors and rule syncs:"
  grep -E '^E|Aborting|sync iptables took' "$LOG_DIR/kube-router.log" 2>&1 | tail -8 | sed 's/^/    /'
}

# probe name labels "target=expected..." [attempts]: one pod tries every target once
# (expected: connected or blocked); the whole probe is repeated while the outcome differs, up to
# attempts times (policy changes reach the firewall a moment after the API).
np_probe() {
  local name=$1 labels=$2 expectations=$3 attempts=${4:-1} targets="" expected="" pair output got attempt
  for pair in $expectations; do
    targets+="${targets:+,}${pair%=*}"
    expected+="${pair%=*} ${pair##*=}"$'\n'
  done
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    np_pod "$name" "$labels" "$(cat "$here/netpol-probe.mjs")" "{name: TARGETS, value: \"$targets\"}"
    if ! kn wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$name" --timeout=120s >/dev/null; then
      kn describe pod "$name" >&2; kn logs "$name" >&2 || true; return 1
    fi
    output=$(kn logs "$name")
    # Gone before the next pod starts: its address is free and out of the enforcer's rules.
    kn delete pod "$name" --wait >/dev/null
    got=$(awk '{print $1, $2}' <<<"$output")
    awk -v p="  [$name {$labels}] " '{ print p $0 }' <<<"$output"
    [[ $got == "${expected%$'\n'}" ]] && return 0
    ((attempt < attempts)) && { echo "  not yet as expected; again in 3 s"; sleep 3; }
  done
  echo "  expected:" >&2; sed 's/^/    /' <<<"${expected%$'\n'}" >&2
  np_listener_diagnosis >&2
  return 1
}

# Every Kafka node is a voter that the leader sees caught up (lag of the metadata log <= 20 records).
np_quorum_caught_up() {
  local deadline=$((SECONDS + 180)) out
  while :; do
    out=$(kafka_admin_tool "$np_ns" "$np_release-kafka-0" kafka-metadata-quorum.sh describe --replication 2>&1) || true
    if awk '$NF == "Leader" || $NF == "Follower" { voters++; if ($4 > 20) behind++ }
            END { exit !(voters == 3 && !behind) }' <<<"$out"; then
      sed 's/^/  /' <<<"$out"; return 0
    fi
    if ((SECONDS >= deadline)); then echo "$out" >&2; return 1; fi
    sleep 5
  done
}

np_restart_kafka() {
  kn delete pod -l "app.kubernetes.io/instance=$np_release,app.kubernetes.io/component=kafka" --wait >/dev/null
  kn rollout status "statefulset/$np_release-kafka" --timeout=300s
}

np_delete_kafka_policy() { kn delete networkpolicy "$np_release-kafka"; }

step "netpol: namespace $np_ns (enforce=restricted)" restricted_namespace "$np_ns"
step "netpol: a pod breaking restricted is refused" restricted_refused "$np_ns"
step "netpol: helm install (${np_values[*]})" \
  helm -n "$np_ns" install "$np_release" "$repo/chart" "${np_values[@]}" --wait --timeout 20m
step "netpol: Kafka quorum of 3 voters caught up" np_quorum_caught_up
step "netpol: plain listener pod" np_start_listener
step "netpol: unlabelled pod cannot reach Kafka 9092/9093, reaches the listener" \
  np_probe netpol-unlabelled "netpol-probe: unlabelled" \
  "$np_kafka_client=blocked $np_kafka_controller=blocked $np_listener=connected"
step "netpol: release-labelled pod reaches Kafka 9092 and 9093" \
  np_probe netpol-release "$np_release_labels" "$np_kafka_client=connected $np_kafka_controller=connected"
step "netpol: Kafka policy deleted (control)" np_delete_kafka_policy
step "netpol: without it the unlabelled pod reaches Kafka 9092/9093" \
  np_probe netpol-unlabelled "netpol-probe: unlabelled" "$np_kafka_client=connected $np_kafka_controller=connected" 5
step "netpol: helm upgrade networkPolicy.egress=true (hook Jobs under egress rules)" \
  helm -n "$np_ns" upgrade "$np_release" "$repo/chart" "${np_values[@]}" --set networkPolicy.egress=true --wait --timeout 20m
step "netpol: every Kafka node restarted under egress rules" np_restart_kafka
step "netpol: Kafka quorum of 3 voters caught up under egress rules" np_quorum_caught_up
step "netpol: helm test under egress rules" helm -n "$np_ns" test "$np_release" --logs --timeout 10m
step "netpol: job-labelled pod reaches DNS and Kafka 9092, not 9093 nor the listener" \
  np_probe netpol-job "$np_job_labels" \
  "$np_kafka_client=connected $np_kafka_controller=blocked $np_listener=blocked"
step "netpol: unlabelled pod blocked again by the restored policy, reaches the listener" \
  np_probe netpol-unlabelled "netpol-probe: unlabelled" "$np_kafka_client=blocked $np_listener=connected" 5
step "netpol: helm uninstall and namespace deletion" \
  bash -c "'$HELM_BIN/helm' -n '$np_ns' uninstall '$np_release' --wait --timeout 5m && '$KUBERNETES_BIN/kubectl' delete namespace '$np_ns' --wait --timeout=180s"
