#!/usr/bin/env bash
# Proves the node really runs pods before the chart is tried: a pod on the locally built node
# image resolves the API server's Service name through CoreDNS and connects to it through
# kube-proxy's Service rules.
set -euo pipefail
source "$(dirname "$0")/env.sh"
kubectl() { "$KUBERNETES_BIN/kubectl" "$@"; }
script='
const dns = require("node:dns/promises"), net = require("node:net");
const name = "kubernetes.default.svc.cluster.local";
dns.lookup(name).then(({ address }) => new Promise((resolve, reject) => {
  const socket = net.connect(443, name, () => { console.log(`${name} -> ${address}: connected`); socket.end(); resolve(); });
  socket.on("error", reject);
})).catch((error) => { console.error(error); process.exit(1); });'
kubectl delete pod cluster-smoke --ignore-not-found --wait >/dev/null
kubectl run cluster-smoke --image=node:22 --restart=Never --command -- node -e "$script" >/dev/null
if ! kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/cluster-smoke --timeout=180s >/dev/null; then
  kubectl describe pod cluster-smoke >&2 || true
  kubectl logs cluster-smoke >&2 || true
  exit 1
fi
log "smoke pod: $(kubectl logs cluster-smoke)"
kubectl delete pod cluster-smoke --wait=false >/dev/null
