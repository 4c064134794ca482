# Versions of every cluster component; sourced by the other scripts.
# Cache directories are keyed by these, so bumping one rebuilds only that part.
KUBERNETES_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
COREDNS_VERSION=v1.12.4
LAKEHOUSE_CACHE=${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}
CLUSTER_CACHE=$LAKEHOUSE_CACHE/cluster
DEBIAN_SUITE=bookworm
NODE_VERSION=22.23.3
KAFKA_VERSION=4.1.1
# The names the chart's default values use; the local registry serves them under these names.
PAUSE_IMAGE=registry.k8s.io/pause:3.10
# NetworkPolicy enforcer: only this release is served by the module proxy; the cluster runs its
# firewall alone (no routing, no service proxy).
KUBE_ROUTER_VERSION=v2.1.0
