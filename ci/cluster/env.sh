# Paths, addresses and helpers shared by up.sh, down.sh and test.sh (sourced, not run).
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"

KUBERNETES_BIN=$CLUSTER_CACHE/kubernetes-$KUBERNETES_VERSION/bin
ETCD_BIN=$CLUSTER_CACHE/etcd-$ETCD_VERSION/bin
COREDNS_BIN=$CLUSTER_CACHE/coredns-$COREDNS_VERSION/bin
KUBE_ROUTER_BIN=$CLUSTER_CACHE/kube-router-$KUBE_ROUTER_VERSION/bin
HELM_BIN=$LAKEHOUSE_CACHE/bin
# Everything a running cluster writes lives below these two directories; down.sh removes both.
STATE_DIR=${LAKEHOUSE_CLUSTER_STATE:-/var/lib/lakehouse-cluster}
RUN_DIR=/run/lakehouse-cluster
LOG_DIR=$STATE_DIR/logs
PKI_DIR=$STATE_DIR/pki
export KUBECONFIG=$STATE_DIR/admin.kubeconfig

NODE_NAME=lakehouse-node
BRIDGE=lakehouse0
POD_CIDR=10.88.0.0/16
NODE_IP=10.88.0.1          # the host's address on the pod bridge: apiserver, kubelet and DNS
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SERVICE_IP=10.96.0.1
CLUSTER_DOMAIN=cluster.local
REGISTRY=127.0.0.1:5123
ETCD_CLIENT_PORT=23790
ETCD_PEER_PORT=23800
CNI_NETWORK=lakehouse
HOST_PATHS_USED="/var/lib/kubelet /var/lib/cni"
# ipsets kube-router makes for NetworkPolicies (and their temporary twins during a swap)
KUBE_ROUTER_IPSETS='^(inet6:)?(KUBE-SRC-|KUBE-DST-|TMP-)'

log() { printf '[cluster %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

start_process() { # name command... : runs detached, output in $LOG_DIR/name.log, pid in $RUN_DIR
  local name=$1; shift
  setsid "$@" >"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/$name.pid"
}

stop_process() { # name : TERM, then KILL after 15 s
  local pidfile=$RUN_DIR/$1.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

wait_for() { # description seconds command... : polls until the command succeeds
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then log "timed out after ${seconds}s waiting for $what"; return 1; fi
    sleep 0.5
  done
}
