#!/usr/bin/env bash
# Brings up a single-node Kubernetes on this machine from cached binaries and images (building
# what is missing first): local registry, containerd+runc, etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy, CoreDNS, kube-router (NetworkPolicy
# only), local PersistentVolumes.
# Afterwards: export KUBECONFIG=/var/lib/lakehouse-cluster/admin.kubeconfig (printed at the end).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"
[[ $(id -u) == 0 ]] || { echo "up.sh: must run as root (it starts a kubelet)" >&2; exit 1; }
if [[ -d $RUN_DIR || -d $STATE_DIR ]]; then log "a previous cluster left state behind; taking it down first"; bash "$here/down.sh"; fi

phase_start=$SECONDS
phase() { log "$1 ($((SECONDS - phase_start))s since start)"; }

bash "$here/install-packages.sh"
# Image building is mostly downloads and unpacking: it runs beside the Go builds, which use the CPUs.
images_list=$(mktemp) images_log=$(mktemp)
bash "$here/images/build.sh" > "$images_list" 2> "$images_log" &
images_pid=$!
bash "$here/build-kubernetes.sh"
bash "$here/build-etcd.sh"
bash "$here/build-coredns.sh"
bash "$here/build-kube-router.sh"
if ! wait "$images_pid"; then cat "$images_log" >&2; log "image build failed"; exit 1; fi
cat "$images_log" >&2
mapfile -t image_layouts < "$images_list"
rm -f "$images_list" "$images_log"
phase "binaries and images ready"

mkdir -p "$STATE_DIR" "$RUN_DIR" "$LOG_DIR" "$STATE_DIR/cni" "$STATE_DIR/volumes"
# down.sh restores these host settings and removes only the network namespaces created after this.
ls /run/netns 2>/dev/null > "$RUN_DIR/netns.before" || true
ipset list -n 2>/dev/null > "$RUN_DIR/ipsets.before" || true
# Paths the kubelet and CNI use whatever they are configured with (device-plugins socket, libcni cache).
for path in $HOST_PATHS_USED; do [[ -e $path ]] && echo "$path"; done > "$RUN_DIR/host-paths.before"
sysctl -e -q kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom net.ipv4.ip_forward \
  net.bridge.bridge-nf-call-iptables \
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes | sed 's/ = /=/' > "$RUN_DIR/sysctl.before"

bash "$here/pki.sh"
phase "certificates written"

# --- pod network: our own bridge, pods may not send anywhere but to each other and the host ---
ip link add "$BRIDGE" type bridge
ip addr add "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
ip link set "$BRIDGE" up
sysctl -q -w net.ipv4.ip_forward=1
# pod-to-pod frames on the bridge pass iptables, where kube-router enforces NetworkPolicy
sysctl -q -w net.bridge.bridge-nf-call-iptables=1
iptables -w -N LAKEHOUSE-EGRESS
iptables -w -A LAKEHOUSE-EGRESS -s "$POD_CIDR" ! -o "$BRIDGE" -j DROP
iptables -w -I FORWARD 1 -j LAKEHOUSE-EGRESS
cat > "$STATE_DIR/cni/10-$CNI_NETWORK.conflist" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE_DIR/cni-ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CNI

# --- local registry, serving the images under the names the chart uses ---
mkdir -p "$CLUSTER_CACHE/registry"
cat > "$STATE_DIR/registry.yml" <<REG
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $CLUSTER_CACHE/registry}
http: {addr: $REGISTRY}
REG
start_process registry docker-registry serve "$STATE_DIR/registry.yml"
wait_for "registry" 30 curl -fsS "http://$REGISTRY/v2/"
bash "$here/images/publish.sh" "${image_layouts[@]}"
phase "images published to $REGISTRY"

# --- containerd ---
for host in $(cat "$RUN_DIR/registries"); do
  mkdir -p "$STATE_DIR/certs.d/$host"
  # server is the local registry as well, so a missing image fails instead of going online
  printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' \
    "$REGISTRY" "$REGISTRY" > "$STATE_DIR/certs.d/$host/hosts.toml"
done
cat > "$STATE_DIR/containerd.toml" <<TOML
version = 2
root = "$STATE_DIR/containerd"
state = "$RUN_DIR/containerd"
[grpc]
  address = "$RUN_DIR/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE_DIR/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This machine grants root no CAP_SYS_RESOURCE, so no process may lower its OOM score; the
  # kubelet asks for -998 (sandboxes) and -997 (Guaranteed pods). Clamp to containerd's own score.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUN_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE_DIR/certs.d"
TOML
start_process containerd containerd --config "$STATE_DIR/containerd.toml"
wait_for "containerd" 30 ctr --address "$RUN_DIR/containerd.sock" version
phase "containerd running"

# --- etcd and the control plane ---
start_process etcd "$ETCD_BIN/etcd" --name lakehouse --data-dir "$STATE_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "lakehouse=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
  --quota-backend-bytes 2147483648 --log-level warn
wait_for "etcd" 60 curl -fsS "http://127.0.0.1:$ETCD_CLIENT_PORT/health"

start_process kube-apiserver "$KUBERNETES_BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-address "$NODE_IP" --secure-port 6443 \
  --tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
  --client-ca-file "$PKI_DIR/ca.crt" --service-cluster-ip-range "$SERVICE_CIDR" \
  --service-account-issuer "https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
  --service-account-key-file "$PKI_DIR/service-account.pub" \
  --service-account-signing-key-file "$PKI_DIR/service-account.key" \
  --kubelet-client-certificate "$PKI_DIR/apiserver-kubelet-client.crt" \
  --kubelet-client-key "$PKI_DIR/apiserver-kubelet-client.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true \
  --kubelet-preferred-address-types InternalIP \
  --profiling=false --v=1
wait_for "kube-apiserver" 120 "$KUBERNETES_BIN/kubectl" get --raw /readyz
phase "kube-apiserver ready"

start_process kube-controller-manager "$KUBERNETES_BIN/kube-controller-manager" \
  --kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
  --cluster-signing-cert-file "$PKI_DIR/ca.crt" --cluster-signing-key-file "$PKI_DIR/ca.key" \
  --root-ca-file "$PKI_DIR/ca.crt" --service-account-private-key-file "$PKI_DIR/service-account.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false --v=1
start_process kube-scheduler "$KUBERNETES_BIN/kube-scheduler" \
  --kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
  --authentication-kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
  --authorization-kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false --profiling=false --v=1

# --- node: kubelet and kube-proxy ---
cat > "$STATE_DIR/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI_DIR/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI_DIR/kubelet.crt
tlsPrivateKeyFile: $PKI_DIR/kubelet.key
containerRuntimeEndpoint: unix://$RUN_DIR/containerd.sock
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: [$NODE_IP]
resolvConf: ""
podLogsDir: $STATE_DIR/pod-logs
serializeImagePulls: false
evictionHard: {memory.available: 200Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
YAML
start_process kubelet "$KUBERNETES_BIN/kubelet" --config "$STATE_DIR/kubelet.yaml" \
  --kubeconfig "$STATE_DIR/node.kubeconfig" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
  --root-dir "$STATE_DIR/kubelet" --v=1

cat > "$STATE_DIR/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE_DIR/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
# Service traffic between pods on the one bridge must come back through the host's conntrack.
iptables: {masqueradeAll: true}
# Zero leaves the host's conntrack sysctls as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
nodePortAddresses: [$NODE_IP/32]
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
start_process kube-proxy "$KUBERNETES_BIN/kube-proxy" --config "$STATE_DIR/kube-proxy.yaml" --v=1

# --- cluster add-ons: CoreDNS (host process) and storage ---
kubectl() { "$KUBERNETES_BIN/kubectl" "$@"; }
kubectl apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:coredns"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:kube-router"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, nodes, namespaces]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:kube-router"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:kube-router"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:kube-router"}]
YAML
cat > "$STATE_DIR/Corefile" <<COREFILE
.:53 {
    bind $NODE_IP
    errors
    health 127.0.0.1:18080
    ready 127.0.0.1:18181
    kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        kubeconfig $STATE_DIR/coredns.kubeconfig lakehouse
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
COREFILE
start_process coredns "$COREDNS_BIN/coredns" -conf "$STATE_DIR/Corefile"
bash "$here/storage.sh"

wait_for "node $NODE_NAME Ready" 180 kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
wait_for "CoreDNS ready" 60 curl -fsS http://127.0.0.1:18181/ready
wait_for "default service account" 60 kubectl get serviceaccount default
# --- NetworkPolicy: kube-router's firewall alone, on the iptables of the bridge (bridge-nf-call-iptables
# makes pod-to-pod frames pass them). It reads the node's address from the Node, so it starts now.
# It syncs its rules on every pod and policy event; the periodic full sync (5 min by default) is
# what repairs rules an event left stale, e.g. a deleted pod's address reused by the next pod, so
# it runs every 30 s here, within the retries of the netpol probes.
start_process kube-router "$KUBE_ROUTER_BIN/kube-router" --kubeconfig "$STATE_DIR/kube-router.kubeconfig" \
  --hostname-override "$NODE_NAME" --run-firewall=true --run-router=false --run-service-proxy=false \
  --iptables-sync-period=30s \
  --enable-cni=false --service-cluster-ip-range "$SERVICE_CIDR" --health-port=0 --metrics-port=0 --v=1
wait_for "kube-router's firewall chains" 90 iptables -w -S KUBE-ROUTER-FORWARD
phase "node Ready"
bash "$here/smoke.sh"
phase "cluster up"
echo "export KUBECONFIG=$KUBECONFIG"
