#!/usr/bin/env bash
# Storage for PersistentVolumeClaims: a default StorageClass and a pool of local PersistentVolumes
# on this node. Claims bind at once (Immediate), so helm --wait sees them Bound. The directories
# are world-writable like those of common local-path provisioners; fsGroup still applies (local
# volumes support ownership management). A released volume is not reused, so there are enough for
# every scenario of one run; their capacity is nominal (a local volume is not size-limited) and large
# enough for the prod environment's claims (Kafka 100Gi, lake 200Gi) to bind unchanged.
set -euo pipefail
source "$(dirname "$0")/env.sh"
volumes=${LAKEHOUSE_CLUSTER_VOLUMES:-20}
size=${LAKEHOUSE_CLUSTER_VOLUME_SIZE:-200Gi}
{
  cat <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
reclaimPolicy: Retain
YAML
  for i in $(seq 1 "$volumes"); do
    dir=$STATE_DIR/volumes/pv-$i
    mkdir -p "$dir"
    chmod 0777 "$dir"
    cat <<YAML
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: local-pv-$i}
spec:
  capacity: {storage: $size}
  accessModes: [ReadWriteOnce, ReadWriteMany, ReadOnlyMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local
  local: {path: $dir}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [$NODE_NAME]}]
YAML
  done
} | "$KUBERNETES_BIN/kubectl" apply -f - >/dev/null
