#!/usr/bin/env bash
# Tears the cluster down and leaves nothing behind: pods and their network namespaces, every
# process up.sh started, mounts below the cluster's directories, the iptables rules and ipsets, bridge and
# sysctls it changed. Logs move to $CLUSTER_CACHE/last-logs. Safe to run when nothing is up.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"
kubectl() { timeout 20 "$KUBERNETES_BIN/kubectl" --request-timeout=10s "$@"; }
ctr_k8s() { timeout 20 ctr --address "$RUN_DIR/containerd.sock" --namespace k8s.io "$@"; }

[[ -d $RUN_DIR || -d $STATE_DIR ]] || exit 0
log "down: stopping the cluster"

# 1. Let the kubelet stop every pod (this tears down pod networking through CNI), with the
#    controllers stopped first so nothing is recreated.
for name in coredns kube-controller-manager kube-scheduler; do stop_process "$name"; done
if [[ -f $RUN_DIR/kubelet.pid ]] && kubectl get --raw /readyz >/dev/null 2>&1; then
  kubectl delete pods --all --all-namespaces --force --grace-period=0 --wait=false >/dev/null 2>&1
  for _ in $(seq 1 60); do
    [[ -z $(ctr_k8s tasks list -q 2>/dev/null) ]] && break
    sleep 1
  done
fi
for name in kubelet kube-proxy kube-router; do stop_process "$name"; done
[[ -x $KUBERNETES_BIN/kube-proxy ]] && "$KUBERNETES_BIN/kube-proxy" --cleanup >/dev/null 2>&1
for name in kube-apiserver etcd; do stop_process "$name"; done

# 2. Anything the kubelet left running: kill the tasks, then containerd, then our shims.
if [[ -S $RUN_DIR/containerd.sock ]]; then
  for task in $(ctr_k8s tasks list -q 2>/dev/null); do
    ctr_k8s tasks kill --signal SIGKILL "$task" >/dev/null 2>&1
    ctr_k8s tasks delete --force "$task" >/dev/null 2>&1
  done
fi
stop_process containerd
for pid_dir in /proc/[0-9]*; do
  # shims were started by our containerd: their command line names its socket
  if { tr '\0' ' ' < "$pid_dir/cmdline"; } 2>/dev/null | grep -qF "$RUN_DIR/containerd.sock"; then
    kill -KILL "${pid_dir#/proc/}" 2>/dev/null
  fi
done
stop_process registry

# 3. Mounts below our directories (deepest first), and the network namespaces created since up.
for dir in "$STATE_DIR" "$RUN_DIR"; do
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts | sort -r |
    while read -r mount; do umount -l "$mount" 2>/dev/null; done
done
if [[ -f $RUN_DIR/netns.before ]]; then
  for ns in $(ls /run/netns 2>/dev/null); do
    [[ $ns == cni-* ]] && ! grep -qx "$ns" "$RUN_DIR/netns.before" && ip netns delete "$ns" 2>/dev/null
  done
fi

# 4. iptables: drop every chain and rule of the kubelet, kube-proxy, kube-router, CNI and ours, keeping
#    the rest; then kube-router's ipsets.
for family in iptables ip6tables; do
  command -v "$family-save" >/dev/null || continue
  for table in filter nat mangle raw; do
    current=$("$family-save" -t "$table" 2>/dev/null) || continue
    if grep -qE 'KUBE-|CNI-|LAKEHOUSE-' <<<"$current"; then
      grep -vE 'KUBE-|CNI-|LAKEHOUSE-' <<<"$current" | "$family-restore" -w 5 -T "$table"
    fi
  done
done
# kube-router's ipsets, now that no rule matches them (those that existed before up.sh stay).
if command -v ipset >/dev/null; then
  for set in $(ipset list -n 2>/dev/null | grep -E "$KUBE_ROUTER_IPSETS"); do
    [[ -f $RUN_DIR/ipsets.before ]] && grep -qxF "$set" "$RUN_DIR/ipsets.before" && continue
    ipset destroy "$set" 2>/dev/null
  done
fi

# 5. The kubelet's cgroups (empty once the pods are gone), bridge, host sysctls, directories.
for hierarchy in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
  [[ -d ${hierarchy}kubepods ]] && find "${hierarchy}kubepods" -depth -type d -exec rmdir {} + 2>/dev/null
done
ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"
if [[ -f $RUN_DIR/sysctl.before ]]; then
  while IFS='=' read -r key value; do sysctl -q -w "$key=$value" >/dev/null; done < "$RUN_DIR/sysctl.before"
fi
if [[ -f $RUN_DIR/host-paths.before ]]; then
  for path in $HOST_PATHS_USED; do
    grep -qx "$path" "$RUN_DIR/host-paths.before" || rm -rf --one-file-system "$path"
  done
fi
if [[ -d $LOG_DIR ]]; then
  rm -rf "$CLUSTER_CACHE/last-logs"
  mv "$LOG_DIR" "$CLUSTER_CACHE/last-logs"
fi
rm -rf --one-file-system "$STATE_DIR" "$RUN_DIR"
log "down: done (logs in $CLUSTER_CACHE/last-logs)"
