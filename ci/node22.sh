#!/usr/bin/env bash
# Node.js 22 from the npm registry (package `node@22`, which carries the official binary), installed
# into the cache when the machine has another major. The project targets Node 22 LTS; machines here
# may only have an end-of-life Node 20.
#   source ci/node22.sh          puts Node 22 first on PATH (installing it if needed)
#   bash ci/node22.sh            prints the directory holding Node 22's `node` (installing it if needed)
#   bash ci/node22.sh --check    prints "node 22"; exits 0 when nothing needs installing, 3 when
#                                Node 22 would be installed, 1 when it cannot be (no npm)
node22_prefix="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}/node22"

node22_is22() { "$1" --version 2>/dev/null | grep -q '^v22\.'; }

# The directory of a Node 22 already on this machine; fails when there is none.
node22_dir() {
  if node22_is22 node; then
    dirname "$(command -v node)"
  elif node22_is22 "$node22_prefix/node_modules/.bin/node"; then
    echo "$node22_prefix/node_modules/.bin"
  else
    return 1
  fi
}

node22_has_npm() { command -v npm >/dev/null || { echo "node22.sh: npm is needed to install Node.js 22 and is not on PATH" >&2; return 1; }; }

node22_install() {
  node22_has_npm || return 1
  echo "installing Node.js 22 into $node22_prefix" >&2
  mkdir -p "$node22_prefix"
  npm install --prefix "$node22_prefix" --no-save --no-audit --no-fund node@22 >&2
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  if [[ ${1:-} == --check ]]; then
    echo "node 22"
    node22_dir >/dev/null && exit 0
    node22_has_npm || exit 1
    exit 3
  fi
  node22_dir 2>/dev/null || { node22_install && node22_dir; }
else
  if ! node22_is22 node; then
    node22_is22 "$node22_prefix/node_modules/.bin/node" || node22_install
    export PATH="$node22_prefix/node_modules/.bin:$PATH"
  fi
  node --version >&2
fi
