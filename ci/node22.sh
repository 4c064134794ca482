#!/usr/bin/env bash
# Source this file: puts Node.js 22 first on PATH, installing it from the npm registry (package
# `node@22`, which carries the official binary) into the cache when the machine has another major.
# The project targets Node 22 LTS; machines here may only have an end-of-life Node 20.
cache="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}"
if ! node --version 2>/dev/null | grep -q '^v22\.'; then
  prefix="$cache/node22"
  if ! "$prefix/node_modules/.bin/node" --version 2>/dev/null | grep -q '^v22\.'; then
    echo "installing Node.js 22 into $prefix" >&2
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-save --no-audit --no-fund node@22 >&2
  fi
  export PATH="$prefix/node_modules/.bin:$PATH"
fi
node --version >&2
