#!/usr/bin/env bash
# Writes a fresh cluster CA and every certificate and kubeconfig the components use, with openssl.
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$PKI_DIR"
cd "$PKI_DIR"

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=lakehouse-cluster-ca" -out ca.crt \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

issue() { # name subject extended-key-usage [subjectAltName]
  local name=$1 subject=$2 usage=$3 san=${4-}
  new_key "$name"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n $san ]] && echo "subjectAltName=$san"
  } > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

issue apiserver "/CN=kube-apiserver" serverAuth \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,DNS:localhost,IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP"
issue kubelet "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,IP:$NODE_IP,IP:127.0.0.1"
issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
issue admin "/O=system:masters/CN=lakehouse-admin" clientAuth
issue controller-manager "/CN=system:kube-controller-manager" clientAuth
issue scheduler "/CN=system:kube-scheduler" clientAuth
issue node "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
issue kube-proxy "/CN=system:kube-proxy" clientAuth
issue coredns "/CN=system:coredns" clientAuth
issue kube-router "/CN=system:kube-router" clientAuth
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out service-account.key 2>/dev/null
openssl pkey -in service-account.key -pubout -out service-account.pub

kubeconfig() { # file client-name
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: lakehouse
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI_DIR/$2.crt
    client-key: $PKI_DIR/$2.key
contexts:
- name: lakehouse
  context: {cluster: lakehouse, user: $2}
current-context: lakehouse
KC
}
kubeconfig "$KUBECONFIG" admin
for component in controller-manager scheduler node kube-proxy coredns kube-router; do
  kubeconfig "$STATE_DIR/$component.kubeconfig" "$component"
done
