#!/usr/bin/env bash
# Debian packages the cluster runs on: container runtime, CNI plugins, image tools, netfilter tools.
set -euo pipefail
packages=(containerd runc containernetworking-plugins umoci skopeo docker-registry mmdebstrap
  iptables ipset conntrack openssl util-linux iproute2 curl maven)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The packaged services would start with Debian's defaults; up.sh runs them with its own config.
for s in containerd docker-registry; do
  if command -v systemctl >/dev/null && systemctl is-active -q "$s" 2>/dev/null; then systemctl stop "$s"; fi
done
