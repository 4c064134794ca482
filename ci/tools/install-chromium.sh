#!/usr/bin/env bash
# Installs Debian's `chromium` (the headless browser the explorer's page test drives) with apt-get
# when /usr/bin/chromium is absent. It is a system package, not a file of the tool cache.
#
#   install-chromium.sh           installs it when absent
#   install-chromium.sh --check   prints its label; exits 0 when installed, 3 when it would be
#                                 installed, 1 (saying why on stderr) when it cannot be
set -euo pipefail

CHROMIUM=/usr/bin/chromium

label() {
  if [[ -x $CHROMIUM ]]; then "$CHROMIUM" --version 2>/dev/null | head -n1 || echo chromium; else echo "chromium (Debian package)"; fi
}

if [[ ${1:-} == --check ]]; then
  label
  [[ -x $CHROMIUM ]] && exit 0
  command -v apt-get >/dev/null || { echo "install-chromium: apt-get is not on PATH (Debian's chromium package is needed)" >&2; exit 1; }
  [[ $(id -u) == 0 ]] || { echo "install-chromium: installing Debian's chromium needs root (apt-get install -y chromium)" >&2; exit 1; }
  exit 3
fi

[[ -x $CHROMIUM ]] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
[[ -x $CHROMIUM ]] || { echo "install-chromium: apt-get installed chromium but $CHROMIUM is missing" >&2; exit 1; }
