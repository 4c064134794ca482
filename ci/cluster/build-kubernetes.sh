#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl
# from the Go module proxy into $CLUSTER_CACHE/kubernetes-<version>/bin (skipped when present).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

out=$CLUSTER_CACHE/kubernetes-$KUBERNETES_VERSION
commands=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
if [[ -f $out/bin/.complete ]]; then exit 0; fi

staging_version=v0.${KUBERNETES_VERSION#v1.}
mod=$out/src
mkdir -p "$mod" "$out/bin"
cd "$mod"

modfile=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
{
  echo "module lakehouse.local/cluster-kubernetes"
  echo
  grep -E '^go ' "$modfile"
  grep -E '^godebug ' "$modfile" || true
  echo
  echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
  echo
  # Kubernetes' own go.mod points its staging modules at ./staging with v0.0.0; a consumer must
  # pin each one to the published release that matches.
  echo "replace ("
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z-]*\) => ./staging/.*#\t\1 => \1 '"$staging_version"'#p' "$modfile"
  echo ")"
} > go.mod
echo 'package main' > tools.go

major=${KUBERNETES_VERSION#v}; major=${major%%.*}
minor=${KUBERNETES_VERSION#v*.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

packages=()
for c in "${commands[@]}"; do packages+=("k8s.io/kubernetes/cmd/$c"); done

export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
go mod download k8s.io/kubernetes
nice -n 19 go build -p 2 -trimpath -tags providerless -ldflags "$ldflags" -o "$out/bin/" "${packages[@]}"
touch "$out/bin/.complete"
